export { generateAdapters } from './adapters.ts'
export {
  type BuiltPlugin,
  buildPlugin,
  PLUGIN_DESCRIPTION,
  PLUGIN_NAME,
  PLUGIN_ROOT,
  pluginHookSpecs,
  pluginHooks,
  SHIM,
} from './build.ts'
export {
  type CliManifest,
  type CommandMention,
  checkCommand,
  checkCommandLines,
  mentionedCommands,
  words,
} from './cli-lines.ts'
export {
  type InstalledFile,
  type InstallReport,
  type InstallTarget,
  installBundle,
  installedHooksCurrent,
  installFiles,
  installTarget,
  listInstalled,
  type UninstallReport,
  uninstallBundle,
} from './install.ts'
export { bundleRoot } from './root.ts'
export {
  type Bundle,
  DESCRIPTION_LIMIT,
  type Frontmatter,
  frontmatterSchema,
  type Problem,
  readBundle,
  type SourceDoc,
} from './sources.ts'
export {
  type HooksFile,
  LISTING_BUDGET_CHARS,
  type ListingCost,
  listingCost,
  validateBundle,
  validateHooks,
} from './validate.ts'

export { ConfigError } from './errors.ts'
export { agentHandle, handleFromUsername } from './identity.ts'
export {
  type DstackConfig,
  type LoadConfigOptions,
  loadConfig,
  type ResolvedBrain,
  type ResolvedMemory,
  type Source,
  updateConfigFile,
} from './load.ts'
export { configPath, dstackHome, expandPath, outboxDir } from './paths.ts'
export {
  type BrainFileConfig,
  brainFileSchema,
  type ConfigFile,
  configFileSchema,
  postgresUrl,
} from './schema.ts'
export { formatYamlIssue, parseYaml, type YamlIssue, type YamlParsed } from './yaml.ts'

export { ConfigError } from './errors.ts'
export { agentHandle, handleFromUsername } from './identity.ts'
export {
  configPath,
  type DstackConfig,
  dstackHome,
  expandPath,
  type LoadConfigOptions,
  loadConfig,
  type ResolvedBrain,
  type Source,
  updateConfigFile,
} from './load.ts'
export {
  type BrainFileConfig,
  brainFileSchema,
  type ConfigFile,
  configFileSchema,
  postgresUrl,
} from './schema.ts'

import { readFileSync, statSync } from 'node:fs'
import { homedir, hostname, userInfo } from 'node:os'
import { dirname, join } from 'node:path'
import { writeFileAtomic } from '@dstack/daemon'
import { Document, parseDocument } from 'yaml'
import { z } from 'zod'
import { ConfigError } from './errors.ts'
import { agentHandle, handleFromUsername } from './identity.ts'
import { configPath, dstackHome, expandPath } from './paths.ts'
import { type ConfigFile, configFileSchema, postgresUrl } from './schema.ts'
import { formatYamlIssue, parseYaml } from './yaml.ts'

/** Where memories live, with paths expanded. */
export interface ResolvedMemory {
  provider: 'file' | 'brain' | 'eruka'
  dir: string
  workspace: string | null
  eruka: { url: string; authHeader: string; key: string } | null
}

/** The brain a machine is configured to use, with paths expanded: what `openBrain` takes. */
export type ResolvedBrain =
  | { driver: 'embedded'; dataDir: string; socketDir?: string; idleTimeoutMs?: number }
  | { driver: 'postgres'; url: string; poolSize?: number }

export type Source = 'file' | 'env' | 'default'

export interface DstackConfig {
  /** ~/.dstack, or DSTACK_HOME. */
  home: string
  /** The config file's path (it may not exist). */
  path: string
  exists: boolean
  agent: { id: string; displayName: string; email: string | null; source: Source }
  machine: string
  brain: ResolvedBrain
  brainSource: Source
  /** Memory settings: file's `memory:` with DSTACK_MEMORY_PROVIDER, DSTACK_MEMORY_DIR, DSTACK_ERUKA_URL/KEY over it. */
  memory: ResolvedMemory
  /** Supabase Realtime for `dstack watch`, from the file's `supabase:` or DSTACK_SUPABASE_URL + DSTACK_SUPABASE_KEY. */
  supabase: { url: string; key: string } | null
  /** Things that work but should be fixed (a config file others can read). */
  warnings: string[]
}

export interface LoadConfigOptions {
  env?: NodeJS.ProcessEnv
  homeDir?: string
  /** For the default agent handle; defaults to the OS user. */
  username?: string
}

/** Parses config.yaml text; problems name file:line:col and the key. */
function parseConfigText(text: string, path: string): ConfigFile {
  const result = parseYaml(text, configFileSchema)
  if (result.ok) return result.value
  throw new ConfigError(path, result.issues.map(formatYamlIssue))
}

function fromEnv<T>(name: string, value: string | undefined, schema: z.ZodType<T>): T | undefined {
  if (value === undefined || value === '') return undefined
  const parsed = schema.safeParse(value)
  if (!parsed.success)
    throw new ConfigError(
      `environment variable ${name}`,
      parsed.error.issues.map((i) => i.message),
    )
  return parsed.data
}

const memoryProvider = z.enum(['file', 'brain', 'eruka'])
const httpUrl = z.url({ protocol: /^https?$/ })

function resolveMemory(
  env: NodeJS.ProcessEnv,
  file: ConfigFile,
  home: string,
  homeDir: string,
  base: string,
): ResolvedMemory {
  const memory = file.memory ?? {}
  const provider =
    fromEnv('DSTACK_MEMORY_PROVIDER', env.DSTACK_MEMORY_PROVIDER, memoryProvider) ?? memory.provider ?? 'file'
  const erukaUrl = fromEnv('DSTACK_ERUKA_URL', env.DSTACK_ERUKA_URL, httpUrl) ?? memory.eruka?.url
  if (provider === 'eruka' && !erukaUrl) {
    throw new ConfigError('memory', [
      'provider eruka needs memory.eruka.url in config.yaml or DSTACK_ERUKA_URL',
    ])
  }
  return {
    provider,
    dir: expandPath(env.DSTACK_MEMORY_DIR || memory.dir || join(home, 'memory'), homeDir, base),
    workspace: memory.workspace ?? null,
    eruka: erukaUrl
      ? {
          url: erukaUrl,
          authHeader: memory.eruka?.auth_header ?? 'X-Service-Key',
          key: env.DSTACK_ERUKA_KEY || memory.eruka?.key || 'local',
        }
      : null,
  }
}

function resolveSupabase(env: NodeJS.ProcessEnv, file: ConfigFile): DstackConfig['supabase'] {
  const url = env.DSTACK_SUPABASE_URL
  const key = env.DSTACK_SUPABASE_KEY
  if (url || key) {
    if (!url || !key) {
      throw new ConfigError('environment', [
        'set both DSTACK_SUPABASE_URL and DSTACK_SUPABASE_KEY, or neither',
      ])
    }
    const parsed = configFileSchema.shape.supabase.safeParse({ url, key })
    if (!parsed.success) {
      throw new ConfigError('environment', [`DSTACK_SUPABASE_URL/KEY: ${parsed.error.issues[0]!.message}`])
    }
    return parsed.data!
  }
  return file.supabase ?? null
}

/**
 * Loads the machine's configuration: config.yaml if present, then DSTACK_* environment overrides, then defaults
 * (the embedded brain under ~/.dstack/brain, the OS user as agent). Throws ConfigError naming file, line and key.
 *
 * Environment: DSTACK_HOME, DSTACK_CONFIG, DSTACK_AGENT, DSTACK_MACHINE, DSTACK_BRAIN_URL (a Postgres brain),
 * DSTACK_BRAIN_DIR (an embedded brain's data directory), DSTACK_BRAIN_SOCKET_DIR.
 *
 * @example
 * const config = loadConfig()
 * const brain = await openBrain(config.brain)
 */
export function loadConfig(options: LoadConfigOptions = {}): DstackConfig {
  const env = options.env ?? process.env
  const homeDir = options.homeDir ?? homedir()
  const home = dstackHome(env, homeDir)
  const path = configPath(env, homeDir)
  const warnings: string[] = []

  let text: string | null = null
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code !== 'ENOENT') throw new ConfigError(path, [`cannot read: ${(error as Error).message}`])
  }
  const file = text === null ? {} : parseConfigText(text, path)
  if (text !== null) {
    const mode = statSync(path).mode & 0o777
    if (mode & 0o077) {
      warnings.push(`${path} can be read by other users (mode ${mode.toString(8)}): run chmod 600 ${path}`)
    }
  }

  const envAgent = fromEnv('DSTACK_AGENT', env.DSTACK_AGENT, agentHandle)
  const username = options.username ?? userInfo().username
  const agentId = envAgent ?? file.agent ?? handleFromUsername(username)
  const agentSource: Source = envAgent ? 'env' : file.agent ? 'file' : 'default'

  const envUrl = fromEnv('DSTACK_BRAIN_URL', env.DSTACK_BRAIN_URL, postgresUrl)
  const envDir = env.DSTACK_BRAIN_DIR || undefined
  if (envUrl && envDir) {
    throw new ConfigError('environment', [
      'set DSTACK_BRAIN_URL (a Postgres brain) or DSTACK_BRAIN_DIR (embedded), not both',
    ])
  }
  const base = dirname(path)
  const fileBrain = file.brain
  let brain: ResolvedBrain
  let brainSource: Source
  if (envUrl) {
    brain = { driver: 'postgres', url: envUrl }
    brainSource = 'env'
  } else if (fileBrain?.driver === 'postgres' && !envDir) {
    brain = {
      driver: 'postgres',
      url: fileBrain.url,
      ...(fileBrain.pool_size ? { poolSize: fileBrain.pool_size } : {}),
    }
    brainSource = 'file'
  } else {
    const embedded = fileBrain?.driver === 'embedded' ? fileBrain : undefined
    const socketDir = env.DSTACK_BRAIN_SOCKET_DIR || embedded?.socket_dir
    brain = {
      driver: 'embedded',
      dataDir: expandPath(envDir ?? embedded?.data_dir ?? join(home, 'brain'), homeDir, base),
      ...(socketDir ? { socketDir: expandPath(socketDir, homeDir, base) } : {}),
      ...(embedded?.idle_timeout_minutes
        ? { idleTimeoutMs: Math.round(embedded.idle_timeout_minutes * 60_000) }
        : {}),
    }
    brainSource = envDir ? 'env' : embedded ? 'file' : 'default'
  }

  return {
    home,
    path,
    exists: text !== null,
    agent: {
      id: agentId,
      displayName: file.display_name ?? agentId,
      email: file.email ?? null,
      source: agentSource,
    },
    machine: env.DSTACK_MACHINE || file.machine || hostname(),
    brain,
    brainSource,
    memory: resolveMemory(env, file, home, homeDir, base),
    supabase: resolveSupabase(env, file),
    warnings,
  }
}

/**
 * Sets keys in config.yaml, keeping the rest of the file (comments included). The result is validated before
 * anything is written, and written atomically with mode 0600: a bad value leaves the old file as it was.
 *
 * @example
 * updateConfigFile(configPath(), { agent: 'alice', display_name: 'Alice' })
 */
export function updateConfigFile(path: string, changes: Partial<ConfigFile>): ConfigFile {
  let text = ''
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
  const doc = text.trim() ? parseDocument(text) : new Document({})
  if (doc.errors.length > 0) parseConfigText(text, path) // throws the line-numbered error
  if (!text.trim())
    doc.commentBefore =
      ' dstack configuration (keep it mode 0600). Keys: agent, display_name, email, machine, brain.'
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) doc.delete(key)
    else doc.set(key, value)
  }
  const next = doc.toString()
  const validated = parseConfigText(next, path)
  writeFileAtomic(path, next, { mode: 0o600 })
  return validated
}

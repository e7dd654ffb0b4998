import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { singleQuote } from '@dstack/daemon'
import type { Service } from './config.ts'

/** The service's environment, resolved on this machine: settings plus secrets read from their sources. */
export interface ResolvedEnv {
  values: Record<string, string>
  /** Values to blank out of any output shown or stored. */
  secretValues: string[]
}

/** A secret could not be read; nothing was changed on any target. */
export class SecretError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'SecretError'
  }
}

/**
 * Reads the service's secrets (environment variables or files of this machine; files relative to `baseDir`) and
 * merges them with its plain settings. Throws SecretError naming the missing source, never the value.
 *
 * @example
 * const env = resolveEnv(service, '/opt') // { values: { PORT: '3000', DATABASE_URL: 'postgres://…' }, secretValues: ['postgres://…'] }
 */
export function resolveEnv(
  service: Service,
  baseDir: string,
  source: NodeJS.ProcessEnv = process.env,
): ResolvedEnv {
  const values: Record<string, string> = { ...service.env }
  const secretValues: string[] = []
  for (const [name, from] of Object.entries(service.secrets)) {
    let value: string | undefined
    if ('env' in from) {
      value = source[from.env]
      if (value === undefined)
        throw new SecretError(`secret ${name}: the environment variable ${from.env} is not set`)
    } else {
      const file = resolve(baseDir, from.file)
      try {
        value = readFileSync(file, 'utf8').replace(/\r?\n$/, '')
      } catch (error) {
        throw new SecretError(
          `secret ${name}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
        )
      }
    }
    values[name] = value
    if (value.length >= 4) secretValues.push(value)
  }
  // The database URL and its password are secrets even when given as a plain setting.
  const database = databaseUrl(service, { values, secretValues })
  if (database) {
    secretValues.push(database)
    try {
      const password = decodeURIComponent(new URL(database).password)
      if (password.length >= 4) secretValues.push(password)
    } catch {
      // not a URL: pgEnv says so when migrations run
    }
  }
  return { values, secretValues: [...new Set(secretValues)] }
}

/**
 * The postgres:// URL migrations use (the `migrations.database_env` variable of env or secrets), or null.
 *
 * @example
 * databaseUrl(service, resolveEnv(service, '/opt')) // 'postgres://app:…@127.0.0.1:5432/shop'
 */
export function databaseUrl(service: Service, env: ResolvedEnv): string | null {
  return service.migrations ? (env.values[service.migrations.database_env] ?? null) : null
}

/**
 * The .env text a release gets: one `NAME='value'` per line, single-quoted for sh (`'` as `'\''`), which the process
 * driver sources and systemd's EnvironmentFile= reads.
 *
 * @example
 * envFileText({ GREETING: "it's" }) // "GREETING='it'\\''s'\n"
 */
export function envFileText(values: Record<string, string>): string {
  return Object.entries(values)
    .map(([k, v]) => `${k}=${singleQuote(v)}\n`)
    .join('')
}

/**
 * `text` with every secret value replaced by `***` (outputs and errors go into reports, histories and the brain).
 *
 * @example
 * redact('connecting to postgres://app:pw@db', ['postgres://app:pw@db']) // 'connecting to ***'
 */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text
  // Longest first: a secret that starts with a shorter one must not leave its tail behind.
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) out = out.replaceAll(secret, '***')
  return out
}

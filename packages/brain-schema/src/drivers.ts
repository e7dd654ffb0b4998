import type { PoolConfig } from 'pg'
import { type BrainConfig, type EmbeddedBrainConfig, type PostgresBrainConfig, redactUrl } from './config.ts'
import { ensureEmbeddedServer } from './embedded/launcher.ts'
import { SOCKET_PORT } from './embedded/paths.ts'

/**
 * Where a brain lives and how to reach it with `pg`. Both drivers end in the same place, a pg pool, so everything
 * above them (kysely, migrations, operations) is one code path.
 */
export interface BrainDriver {
  readonly kind: BrainConfig['driver']
  /** Safe to print: a data directory, or a URL with its password masked. */
  readonly location: string
  /** Starts whatever has to run (the embedded server) and returns pg connection settings. */
  connectionConfig(): Promise<PoolConfig>
}

/**
 * The embedded driver: starts (or finds) the one local server that owns the PGlite directory, then talks to it
 * over its unix socket.
 *
 * @example
 * const driver = embeddedDriver({ driver: 'embedded', dataDir: '/home/me/.dstack/brain' })
 * const pool = new pg.Pool(await driver.connectionConfig())
 */
export function embeddedDriver(config: EmbeddedBrainConfig): BrainDriver {
  return {
    kind: 'embedded',
    location: config.dataDir,
    async connectionConfig() {
      const { paths } = await ensureEmbeddedServer(config)
      return {
        host: paths.socketDir,
        port: SOCKET_PORT,
        user: 'postgres',
        database: 'postgres',
        // Clients share one PGlite session; more connections would only queue.
        max: 4,
      }
    },
  }
}

/**
 * The Postgres driver: any Postgres 15+ by URL (a local server, a Supabase connection string).
 *
 * @example
 * const driver = postgresDriver({ driver: 'postgres', url: 'postgres://postgres@127.0.0.1:5432/brain' })
 */
export function postgresDriver(config: PostgresBrainConfig): BrainDriver {
  return {
    kind: 'postgres',
    location: redactUrl(config.url),
    async connectionConfig() {
      return { connectionString: config.url, max: config.poolSize ?? 10, connectionTimeoutMillis: 5_000 }
    },
  }
}

/** The driver a config asks for. */
export function driverFor(config: BrainConfig): BrainDriver {
  return config.driver === 'embedded' ? embeddedDriver(config) : postgresDriver(config)
}

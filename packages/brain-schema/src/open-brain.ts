import { Kysely, PostgresDialect, sql } from 'kysely'
import pg from 'pg'
import { type BrainConfig, brainConfigSchema } from './config.ts'
import type { Database } from './database.generated.ts'
import { type BrainDriver, driverFor } from './drivers.ts'
import { BrainUnavailableError } from './errors.ts'
import { migrate } from './migrate/runner.ts'

/** An open brain: a typed kysely handle on the `dstack` schema, whichever driver is underneath. */
export interface Brain {
  /** Queries on `dstack.*` tables; raw `sql` works too (qualify functions: `dstack.upsert_repo(...)`). */
  readonly db: Kysely<Database>
  readonly driver: BrainDriver
  /** Closes the pool. The embedded server keeps running for other processes until it has been idle a while. */
  close(): Promise<void>
}

export interface OpenBrainOptions {
  /** Apply pending migrations before returning. */
  migrate?: boolean
}

/**
 * Opens a brain: validates the config, starts the embedded server if that is the driver, connects, and checks the
 * connection so a wrong URL or a dead server fails here with a clear message rather than at the first query.
 *
 * @example
 * const brain = await openBrain({ driver: 'embedded', dataDir: '/home/me/.dstack/brain' }, { migrate: true })
 * const agents = await brain.db.selectFrom('agents').selectAll().execute()
 * await brain.close()
 */
export async function openBrain(config: BrainConfig, options: OpenBrainOptions = {}): Promise<Brain> {
  const parsed = brainConfigSchema.safeParse(config)
  if (!parsed.success) {
    throw new Error(
      `invalid brain config: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || 'config'}: ${issue.message}`).join('; ')}`,
    )
  }
  const driver = driverFor(parsed.data)
  let poolConfig: pg.PoolConfig
  try {
    poolConfig = await driver.connectionConfig()
  } catch (error) {
    throw new BrainUnavailableError(
      `cannot start the ${driver.kind} brain at ${driver.location}: ${(error as Error).message}`,
      { cause: error },
    )
  }
  const pool = new pg.Pool({
    ...poolConfig,
    application_name: 'dstack',
    idleTimeoutMillis: 10_000,
    allowExitOnIdle: true,
  })
  // An idle connection dropped by the server (restart, idle shutdown) is replaced on next use; do not crash.
  pool.on('error', () => {})
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }).withSchema('dstack')
  try {
    await sql`select 1`.execute(db)
  } catch (error) {
    await pool.end().catch(() => {})
    throw new BrainUnavailableError(
      `cannot reach the ${driver.kind} brain at ${driver.location}: ${(error as Error).message}`,
      { cause: error },
    )
  }
  const brain: Brain = {
    db,
    driver,
    async close() {
      await db.destroy()
    },
  }
  if (options.migrate) {
    try {
      await migrate(db)
    } catch (error) {
      await brain.close()
      throw error
    }
  }
  return brain
}

// `@dstack/brain-schema/testing`: fresh brains for tests, on both drivers — an embedded PGlite in a temporary
// directory, or a new database on a real Postgres server (DSTACK_TEST_PG_URL, default
// postgres://postgres@127.0.0.1:5432/test) — each disposed of afterwards. Used by this package's suite and by
// packages built on the brain (@dstack/memory).
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import type { BrainConfig } from './config.ts'
import { stopEmbeddedServer } from './embedded/launcher.ts'
import { type Brain, openBrain } from './open-brain.ts'

export const DRIVERS = ['embedded', 'postgres'] as const
export type DriverKind = (typeof DRIVERS)[number]

export const TEST_PG_URL = process.env.DSTACK_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

export interface TestBrain {
  brain: Brain
  config: BrainConfig
  /** Opens a plain pg client on the same database (for LISTEN, roles, concurrency). */
  client(): Promise<pg.Client>
  pgConfig: pg.ClientConfig
  dispose(): Promise<void>
}

/**
 * A new, empty database (Postgres) or data directory (embedded) with the schema applied unless `migrate: false`.
 *
 * @example
 * const t = await freshBrain('embedded')
 * try { await t.brain.db.selectFrom('agents').selectAll().execute() } finally { await t.dispose() }
 */
export async function freshBrain(kind: DriverKind, options: { migrate?: boolean } = {}): Promise<TestBrain> {
  const migrateNow = options.migrate ?? true
  if (kind === 'embedded') {
    const dataDir = mkdtempSync(join(tmpdir(), 'dstack-brain-test-'))
    const config: BrainConfig = { driver: 'embedded', dataDir }
    const brain = await openBrain(config, { migrate: migrateNow })
    const pgConfig = { ...(await brain.driver.connectionConfig()) } as pg.ClientConfig
    return {
      brain,
      config,
      pgConfig,
      client: () => connect(pgConfig),
      async dispose() {
        await brain.close()
        await stopEmbeddedServer({ dataDir })
        rmSync(dataDir, { recursive: true, force: true })
      },
    }
  }
  const name = `dstack_test_${process.pid}_${randomBytes(4).toString('hex')}`
  const admin = new pg.Client({ connectionString: TEST_PG_URL })
  try {
    await admin.connect()
  } catch (error) {
    throw new Error(
      `the Postgres half of the suite needs a server at ${TEST_PG_URL} (set DSTACK_TEST_PG_URL): ${(error as Error).message}`,
    )
  }
  await admin.query(`create database ${name}`)
  await admin.end()
  const url = new URL(TEST_PG_URL)
  url.pathname = `/${name}`
  const config: BrainConfig = { driver: 'postgres', url: url.toString() }
  const brain = await openBrain(config, { migrate: migrateNow })
  const pgConfig: pg.ClientConfig = { connectionString: url.toString() }
  return {
    brain,
    config,
    pgConfig,
    client: () => connect(pgConfig),
    async dispose() {
      await brain.close()
      const cleanup = new pg.Client({ connectionString: TEST_PG_URL })
      await cleanup.connect()
      await cleanup.query(`drop database if exists ${name} with (force)`)
      await cleanup.end()
    },
  }
}

async function connect(config: pg.ClientConfig): Promise<pg.Client> {
  const client = new pg.Client(config)
  await client.connect()
  return client
}

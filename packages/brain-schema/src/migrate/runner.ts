import { type Kysely, sql } from 'kysely'
import type { Database } from '../database.generated.ts'
import { SchemaNotReadyError } from '../errors.ts'
import { loadMigrations, type Migration } from './migrations.ts'

/** A row of dstack.schema_migrations. */
export interface AppliedMigration {
  version: string
  name: string
  checksum: string
  appliedAt: Date
  executionMs: number
}

export interface MigrationPlan {
  applied: AppliedMigration[]
  pending: Migration[]
  /** Applied migrations whose file has changed since: the runner refuses to go on. */
  modified: Array<{ migration: Migration; applied: AppliedMigration }>
  /** Applied in this database but unknown to this version of dstack (a teammate runs a newer one). */
  unknown: AppliedMigration[]
}

export interface MigrateResult {
  plan: MigrationPlan
  /** What this call applied, in order, with timings. Empty for a dry run or an up-to-date schema. */
  ran: Array<{ version: string; name: string; ms: number }>
}

/** An applied migration's file no longer matches what was applied. */
export class ModifiedMigrationError extends Error {
  readonly modified: MigrationPlan['modified']

  constructor(modified: MigrationPlan['modified']) {
    super(
      modified
        .map(
          ({ migration, applied }) =>
            `migration ${migration.version}_${migration.name} was changed after it was applied ` +
            `(applied ${applied.checksum.slice(0, 12)}, file now ${migration.checksum.slice(0, 12)})`,
        )
        .join('; ') +
        '. Applied migrations are immutable: restore the file and put the change in a new migration.',
    )
    this.name = 'ModifiedMigrationError'
    this.modified = modified
  }
}

// Serialises migrators on one database (two `dstack brain migrate` at once, or a CLI and a server).
const MIGRATION_LOCK = 7_202_611_230

async function appliedMigrations(db: Kysely<Database>): Promise<AppliedMigration[]> {
  const exists = await sql<{
    found: boolean
  }>`select to_regclass('dstack.schema_migrations') is not null as found`.execute(db)
  if (!exists.rows[0]?.found) return []
  const rows = await sql<{
    version: string
    name: string
    checksum: string
    applied_at: Date
    execution_ms: number
  }>`
    select version, name, checksum, applied_at, execution_ms from dstack.schema_migrations order by version`.execute(
    db,
  )
  return rows.rows.map((row) => ({
    version: row.version,
    name: row.name,
    checksum: row.checksum,
    appliedAt: row.applied_at,
    executionMs: row.execution_ms,
  }))
}

/**
 * Compares a database with a set of migrations without changing anything.
 *
 * @example
 * const plan = await migrationStatus(brain.root)
 * if (plan.pending.length) console.log(`${plan.pending.length} migrations to apply`)
 */
export async function migrationStatus(
  db: Kysely<Database>,
  migrations: Migration[] = loadMigrations(),
): Promise<MigrationPlan> {
  const applied = await appliedMigrations(db)
  const byVersion = new Map(applied.map((row) => [row.version, row]))
  const known = new Set(migrations.map((migration) => migration.version))
  const modified: MigrationPlan['modified'] = []
  const pending: Migration[] = []
  for (const migration of migrations) {
    const row = byVersion.get(migration.version)
    if (!row) pending.push(migration)
    else if (row.checksum !== migration.checksum) modified.push({ migration, applied: row })
  }
  return { applied, pending, modified, unknown: applied.filter((row) => !known.has(row.version)) }
}

/**
 * Applies pending migrations, each in its own transaction together with its bookkeeping row, so a failing
 * migration leaves no half-applied schema and is retried next time. Refuses to run at all when an applied migration
 * was modified. Safe to run concurrently: migrators take turns on an advisory lock and skip what another applied.
 *
 * @example
 * const { ran } = await migrate(brain.root)
 * for (const m of ran) console.log(`applied ${m.version}_${m.name} in ${m.ms} ms`)
 */
export async function migrate(
  db: Kysely<Database>,
  options: { migrations?: Migration[]; dryRun?: boolean } = {},
): Promise<MigrateResult> {
  const migrations = options.migrations ?? loadMigrations()
  const plan = await migrationStatus(db, migrations)
  if (plan.modified.length > 0) throw new ModifiedMigrationError(plan.modified)
  const ran: MigrateResult['ran'] = []
  if (options.dryRun || plan.pending.length === 0) return { plan, ran }

  await db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(${MIGRATION_LOCK})`.execute(trx)
    await sql`set local client_min_messages = warning`.execute(trx)
    await sql`create schema if not exists dstack`.execute(trx)
    await sql`create table if not exists dstack.schema_migrations (
      version text primary key,
      name text not null,
      checksum text not null,
      applied_at timestamptz not null default now(),
      execution_ms integer not null
    )`.execute(trx)
    await sql`alter table dstack.schema_migrations enable row level security`.execute(trx)
  })

  for (const migration of plan.pending) {
    await db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(${MIGRATION_LOCK})`.execute(trx)
      const done = await sql<{ checksum: string }>`
        select checksum from dstack.schema_migrations where version = ${migration.version}`.execute(trx)
      if (done.rows[0]) {
        if (done.rows[0].checksum !== migration.checksum) {
          const applied = (await appliedMigrations(trx)).find((row) => row.version === migration.version)!
          throw new ModifiedMigrationError([{ migration, applied }])
        }
        return // another migrator applied it while we waited
      }
      await sql`set local client_min_messages = warning`.execute(trx)
      const started = performance.now()
      try {
        // No parameters: pg sends it as a simple query, which may hold many statements.
        await sql.raw(migration.sql).execute(trx)
      } catch (error) {
        throw new Error(
          `migration ${migration.version}_${migration.name} failed: ${(error as Error).message}`,
          {
            cause: error,
          },
        )
      }
      const ms = Math.round(performance.now() - started)
      await sql`insert into dstack.schema_migrations (version, name, checksum, execution_ms)
        values (${migration.version}, ${migration.name}, ${migration.checksum}, ${ms})`.execute(trx)
      ran.push({ version: migration.version, name: migration.name, ms })
    })
  }
  return { plan: await migrationStatus(db, migrations), ran }
}

/**
 * Throws SchemaNotReadyError unless every migration is applied and unmodified: call before writing, so a stale
 * schema fails with the fix instead of a confusing SQL error.
 *
 * @example
 * await assertSchemaReady(brain.db) // throws: the brain's schema is not ready: 5 migration(s) pending ...
 */
export async function assertSchemaReady(db: Kysely<Database>): Promise<void> {
  const plan = await migrationStatus(db)
  if (plan.modified.length > 0) throw new ModifiedMigrationError(plan.modified)
  if (plan.pending.length > 0) {
    throw new SchemaNotReadyError(
      `the brain's schema is not ready: ${plan.pending.length} migration(s) pending. Run \`dstack brain up\` (or \`dstack brain migrate\`)`,
    )
  }
}

import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { introspectSchema } from '../src/codegen.ts'
import { bundledMigrationsDir, loadMigrations, migrationChecksum } from '../src/migrate/migrations.ts'
import { ModifiedMigrationError, migrate, migrationStatus } from '../src/migrate/runner.ts'
import { openBrain } from '../src/open-brain.ts'
import { DRIVERS, freshBrain, type TestBrain } from '../src/testing.ts'

const supabaseMigrations = new URL('../../../supabase/migrations/', import.meta.url).pathname

describe('migration files', () => {
  it('the package carries exactly the files in supabase/migrations', () => {
    const shipped = readdirSync(bundledMigrationsDir).sort()
    expect(shipped).toEqual(
      readdirSync(supabaseMigrations)
        .filter((f) => f.endsWith('.sql'))
        .sort(),
    )
    for (const file of shipped) {
      expect(readFileSync(join(bundledMigrationsDir, file), 'utf8')).toBe(
        readFileSync(join(supabaseMigrations, file), 'utf8'),
      )
    }
  })

  it('are named for supabase db push and load in version order', () => {
    const migrations = loadMigrations()
    expect(migrations.length).toBeGreaterThanOrEqual(5)
    expect(migrations.map((m) => m.version)).toEqual([...migrations.map((m) => m.version)].sort())
    for (const m of migrations) expect(m.file).toMatch(/\/\d{14}_[a-z0-9_]+\.sql$/)
  })

  it('checksums ignore CRLF line endings but not content', () => {
    expect(migrationChecksum('a;\r\nb;\r\n')).toBe(migrationChecksum('a;\nb;\n'))
    expect(migrationChecksum('a;\n')).not.toBe(migrationChecksum('b;\n'))
  })

  it('refuses a badly named .sql file and an empty directory with a message naming the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dstack-mig-'))
    try {
      expect(() => loadMigrations(dir)).toThrow(/no migrations found/)
      writeFileSync(join(dir, 'add_table.sql'), 'select 1;')
      expect(() => loadMigrations(dir)).toThrow(/add_table\.sql is not named/)
      expect(() => loadMigrations(join(dir, 'missing'))).toThrow(/cannot read migrations/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe.each(DRIVERS)('migration runner on %s', (kind) => {
  let t: TestBrain
  beforeAll(async () => {
    t = await freshBrain(kind, { migrate: false })
  })
  afterAll(() => t.dispose())

  it('applies every migration once, records it, and is a no-op the second time', async () => {
    const before = await migrationStatus(t.brain.db)
    expect(before.applied).toEqual([])
    const first = await migrate(t.brain.db)
    expect(first.ran.map((m) => m.version)).toEqual(loadMigrations().map((m) => m.version))
    expect(first.plan.pending).toEqual([])
    const second = await migrate(t.brain.db)
    expect(second.ran).toEqual([])
    expect(second.plan.applied).toHaveLength(first.ran.length)
  })

  it('every migration file is itself idempotent: applying them all again leaves the schema identical', async () => {
    const before = await introspectSchema(t.brain.db)
    const policies = await sql<{
      n: number
    }>`select count(*)::int as n from pg_policies where schemaname = 'dstack'`.execute(t.brain.db)
    for (const m of loadMigrations()) await sql.raw(m.sql).execute(t.brain.db)
    expect(await introspectSchema(t.brain.db)).toEqual(before)
    const after = await sql<{
      n: number
    }>`select count(*)::int as n from pg_policies where schemaname = 'dstack'`.execute(t.brain.db)
    expect(after.rows[0]!.n).toBe(policies.rows[0]!.n)
  })

  it('supabase/seed.sql applies on top of the migrations, twice without harm', async () => {
    const seed = readFileSync(new URL('../../../supabase/seed.sql', import.meta.url), 'utf8')
    await sql.raw(seed).execute(t.brain.db)
    await sql.raw(seed).execute(t.brain.db)
    const agent = await t.brain.db.selectFrom('agents').select('id').where('id', '=', 'demo').execute()
    expect(agent).toEqual([{ id: 'demo' }])
  })

  it('refuses to run when an applied migration was modified, and changes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dstack-mig-'))
    try {
      cpSync(bundledMigrationsDir, dir, { recursive: true })
      const [first] = readdirSync(dir).sort()
      writeFileSync(
        join(dir, first!),
        `${readFileSync(join(dir, first!), 'utf8')}\n-- edited after the fact\n`,
      )
      writeFileSync(join(dir, '29990101000000_later.sql'), 'create table dstack.should_not_exist (id int);')
      const error = await migrate(t.brain.db, { migrations: loadMigrations(dir) }).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ModifiedMigrationError)
      expect((error as Error).message).toMatch(
        /brain_entities was changed after it was applied.*new migration/,
      )
      const exists = await sql<{
        found: boolean
      }>`select to_regclass('dstack.should_not_exist') is not null as found`.execute(t.brain.db)
      expect(exists.rows[0]!.found).toBe(false)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('rolls back a failing migration completely and does not record it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dstack-mig-'))
    try {
      cpSync(bundledMigrationsDir, dir, { recursive: true })
      writeFileSync(
        join(dir, '29990101000000_half_broken.sql'),
        'create table dstack.half (id int);\ninsert into dstack.half values (1);\nselect * from dstack.no_such_table;',
      )
      const error = await migrate(t.brain.db, { migrations: loadMigrations(dir) }).catch((e: unknown) => e)
      expect((error as Error).message).toMatch(/migration 29990101000000_half_broken failed: .*no_such_table/)
      const exists = await sql<{
        found: boolean
      }>`select to_regclass('dstack.half') is not null as found`.execute(t.brain.db)
      expect(exists.rows[0]!.found).toBe(false)
      const plan = await migrationStatus(t.brain.db, loadMigrations(dir))
      expect(plan.pending.map((m) => m.version)).toEqual(['29990101000000'])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('reports migrations applied by a newer dstack as unknown without failing', async () => {
    await sql`insert into dstack.schema_migrations (version, name, checksum, execution_ms)
      values ('29991231000000', 'from_the_future', 'x', 1)`.execute(t.brain.db)
    const plan = await migrationStatus(t.brain.db)
    expect(plan.unknown.map((m) => m.version)).toEqual(['29991231000000'])
    expect((await migrate(t.brain.db)).ran).toEqual([])
    await sql`delete from dstack.schema_migrations where version = '29991231000000'`.execute(t.brain.db)
  })
})

describe.each(DRIVERS)('concurrent migrators on %s', (kind) => {
  it('four migrators at once apply each migration exactly once', async () => {
    const t = await freshBrain(kind, { migrate: false })
    try {
      const brains = await Promise.all([1, 2, 3].map(() => openBrain(t.config)))
      const results = await Promise.all([t.brain, ...brains].map((b) => migrate(b.db)))
      const ran = results.flatMap((r) => r.ran.map((m) => m.version)).sort()
      expect(ran).toEqual(loadMigrations().map((m) => m.version))
      await Promise.all(brains.map((b) => b.close()))
    } finally {
      await t.dispose()
    }
  })
})

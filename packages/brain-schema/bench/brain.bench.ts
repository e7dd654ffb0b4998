// Benchmarks the brain's two drivers side by side in one run: what every CLI command or hook pays to reach the
// brain (process start, cold and warm connect), single-insert latency, 8-process write throughput and the embedded
// server's memory. Run from packages/brain-schema: `node bench/brain.bench.ts`. Needs Postgres at
// DSTACK_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/test); writes <repo>/bench/results/brain-<time>.json.

import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import type { Kysely } from 'kysely'
import pg from 'pg'
import { cell, Recorder, renderTable, runNode, timed, writeResults } from '../../../bench/harness.ts'
import type { BrainConfig } from '../src/config.ts'
import type { Database } from '../src/database.generated.ts'
import { embeddedServerStatus, ensureEmbeddedServer, stopEmbeddedServer } from '../src/embedded/launcher.ts'
import { embeddedPaths, SOCKET_PORT } from '../src/embedded/paths.ts'
import { loadMigrations } from '../src/migrate/migrations.ts'
import { type Brain, openBrain } from '../src/open-brain.ts'
import { ensureFile, ensureRepo, registerAgent } from '../src/ops/registry.ts'
import { Cleanups, connectAdmin, databaseUrl, runBench } from './support.ts'
import type { WriterReport, WriterTarget } from './writer.bench-child.ts'

const CLIENT_CHILD = join(import.meta.dirname, 'client.bench-child.ts')
const WRITER_CHILD = join(import.meta.dirname, 'writer.bench-child.ts')

// Sample counts, sized to keep the whole run under ~3 minutes on 2 cores.
const N = {
  spawnBaseline: 20,
  firstCreate: 2,
  coldStart: 7,
  processConnect: 20,
  inProcessConnect: 100,
  insertWarmup: 20,
  insert: 500,
  writers: 8,
  rowsPerWriter: 500,
  writerRounds: 3,
}

type Driver = 'embedded' | 'postgres' | 'baseline' | 'pglite-in-process'
type BrainDriverKind = 'embedded' | 'postgres'
const DRIVERS: BrainDriverKind[] = ['embedded', 'postgres']

const recorder = new Recorder()
const record = (metric: string, driver: Driver, unit: 'ms' | 'rows/s' | 'MB', samples: number[]) =>
  recorder.record(metric, driver, unit, samples)
const resultFor = (metric: string, driver: Driver) => recorder.get(metric, driver)

const progress = (message: string) => console.error(`[brain bench] ${message}`)

const cleanups = new Cleanups()
const defer = (what: string, run: () => unknown) => cleanups.defer(what, run)

interface Fixture {
  agentId: string
  repoId: string
  fileId: string
}

async function seed(db: Kysely<Database>): Promise<Fixture> {
  const agent = await registerAgent(db, { id: 'bench', display_name: 'Bench' })
  const repoId = await ensureRepo(db, 'local:dstack-bench')
  return { agentId: agent.id, repoId, fileId: await ensureFile(db, repoId, 'src/bench.ts') }
}

function insertEdit(db: Kysely<Database>, fixture: Fixture) {
  return db
    .insertInto('edits')
    .values({ agent_id: fixture.agentId, repo_id: fixture.repoId, file_id: fixture.fileId, op: 'edit' })
}

async function countSession(db: Kysely<Database>, prefix: string): Promise<number> {
  const row = await db
    .selectFrom('edits')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('session_id', 'like', `${prefix}%`)
    .executeTakeFirstOrThrow()
  return Number(row.n)
}

/** The same insert straight into an in-process PGlite: no socket, no multiplexer, no pg driver. */
async function pgliteInsertLatencies(dir: string, compileFor: Kysely<Database>): Promise<number[]> {
  const lite = await PGlite.create(dir)
  try {
    for (const migration of loadMigrations()) await lite.exec(migration.sql)
    await lite.query('insert into dstack.agents (id, display_name) values ($1, $2)', ['bench', 'Bench'])
    const repo = await lite.query<{ id: string }>('select dstack.upsert_repo($1, null) as id', [
      'local:dstack-bench',
    ])
    const repoId = repo.rows[0]!.id
    const file = await lite.query<{ id: string }>('select dstack.upsert_file($1, $2) as id', [
      repoId,
      'src/bench.ts',
    ])
    const fixture = { agentId: 'bench', repoId, fileId: file.rows[0]!.id }
    // Compiled by kysely on every insert, as on the other drivers, so only what lies below kysely differs.
    const insert = async () => {
      const compiled = insertEdit(compileFor, fixture).compile()
      await lite.query(compiled.sql, [...compiled.parameters])
    }
    for (let i = 0; i < N.insertWarmup; i++) await insert()
    const samples: number[] = []
    for (let i = 0; i < N.insert; i++) samples.push(await timed(insert))
    return samples
  } finally {
    await lite.close()
  }
}

interface WritersRound {
  wallMs: number
  /** From the first writer's first insert to the last writer's last one. */
  insertingMs: number
  latenciesMs: number[]
}

async function writersRound(
  config: BrainConfig,
  brain: Brain,
  fixture: Fixture,
  round: number,
): Promise<WritersRound> {
  const prefix = `bench-r${round}-`
  const started = performance.now()
  const runs = await Promise.all(
    Array.from({ length: N.writers }, (_, writer) => {
      const target: WriterTarget = { ...fixture, sessionId: `${prefix}${writer}` }
      return runNode([WRITER_CHILD, JSON.stringify(config), JSON.stringify(target), String(N.rowsPerWriter)])
    }),
  )
  const wallMs = Math.max(...runs.map((run) => run.exitedAt)) - started
  const reports = runs.map((run) => JSON.parse(run.stdout) as WriterReport)
  const written = await countSession(brain.db, prefix)
  if (written !== N.writers * N.rowsPerWriter) {
    throw new Error(`${config.driver}: the writers wrote ${written} rows, not ${N.writers * N.rowsPerWriter}`)
  }
  return {
    wallMs,
    insertingMs:
      Math.max(...reports.map((r) => r.insertsEndedAt)) - Math.min(...reports.map((r) => r.insertsStartedAt)),
    latenciesMs: reports.flatMap((r) => r.latenciesMs),
  }
}

async function serverRssMb(dataDir: string): Promise<number> {
  const { rssBytes } = await embeddedServerStatus({ dataDir })
  if (rssBytes === null) throw new Error(`no embedded server running in ${dataDir} to measure`)
  return rssBytes / 1024 / 1024
}

async function run(tmpRoot: string): Promise<void> {
  const admin = await connectAdmin(cleanups)
  const dbName = `dstack_bench_${randomBytes(4).toString('hex')}`
  const dropDatabase = (name: string) => admin.query(`drop database if exists ${name} with (force)`)
  await admin.query(`create database ${dbName}`)
  defer(`drop database ${dbName}`, () => dropDatabase(dbName))

  const pgUrl = databaseUrl(dbName)
  // Created by the first "first create" sample below and reused from then on.
  const embeddedDir = join(tmpRoot, 'brain-0')
  const configs: Record<BrainDriverKind, BrainConfig> = {
    embedded: { driver: 'embedded', dataDir: embeddedDir },
    postgres: { driver: 'postgres', url: pgUrl },
  }

  progress(`baseline: spawn node -e '' x${N.spawnBaseline}`)
  const spawnSamples: number[] = []
  for (let i = 0; i < N.spawnBaseline; i++) spawnSamples.push((await runNode(['-e', ''])).ms)
  record('process_spawn', 'baseline', 'ms', spawnSamples)

  progress(`first create x${N.firstCreate} per driver`)
  const firstCreate: Record<BrainDriverKind, number[]> = { embedded: [], postgres: [] }
  for (let i = 0; i < N.firstCreate; i++) {
    const dataDir = join(tmpRoot, `brain-${i}`)
    defer(`stop the embedded server in ${dataDir}`, () => stopEmbeddedServer({ dataDir }))
    const embedded: BrainConfig = { driver: 'embedded', dataDir }
    firstCreate.embedded.push((await runNode([CLIENT_CHILD, JSON.stringify(embedded), 'migrate'])).ms)
    await stopEmbeddedServer({ dataDir })
    // Postgres's equivalent: migrating an empty database (the CLI never creates the database itself).
    const empty = `${dbName}_new${i}`
    await admin.query(`create database ${empty}`)
    defer(`drop database ${empty}`, () => dropDatabase(empty))
    const postgres: BrainConfig = { driver: 'postgres', url: databaseUrl(empty) }
    firstCreate.postgres.push((await runNode([CLIENT_CHILD, JSON.stringify(postgres), 'migrate'])).ms)
    await dropDatabase(empty)
  }
  for (const driver of DRIVERS) record('first_create_process', driver, 'ms', firstCreate[driver])

  progress(`embedded cold start x${N.coldStart}`)
  const coldSamples: number[] = []
  for (let i = 0; i < N.coldStart; i++) {
    if ((await embeddedServerStatus({ dataDir: embeddedDir })).running) {
      throw new Error('an embedded server is still running before a cold-start sample')
    }
    coldSamples.push((await runNode([CLIENT_CHILD, JSON.stringify(configs.embedded)])).ms)
    if (!(await stopEmbeddedServer({ dataDir: embeddedDir }))) {
      throw new Error('the cold-start client did not leave a server running to stop')
    }
  }
  record('cold_start_process', 'embedded', 'ms', coldSamples)

  await ensureEmbeddedServer({ dataDir: embeddedDir })
  record('server_rss_idle', 'embedded', 'MB', [await serverRssMb(embeddedDir)])
  const brains = {} as Record<BrainDriverKind, Brain>
  for (const driver of DRIVERS) {
    const brain = await openBrain(configs[driver], { migrate: true })
    defer(`close the ${driver} brain`, () => brain.close())
    brains[driver] = brain
  }

  progress(`warm connect: processes x${N.processConnect}, in-process x${N.inProcessConnect} per driver`)
  const processConnect: Record<BrainDriverKind, number[]> = { embedded: [], postgres: [] }
  // One unrecorded run each, then the drivers alternate so drift on the machine hits both alike.
  for (let i = -1; i < N.processConnect; i++) {
    for (const driver of DRIVERS) {
      const { ms } = await runNode([CLIENT_CHILD, JSON.stringify(configs[driver])])
      if (i >= 0) processConnect[driver].push(ms)
    }
  }
  const clientConfigs: Record<BrainDriverKind, pg.ClientConfig> = {
    embedded: {
      host: embeddedPaths(embeddedDir).socketDir,
      port: SOCKET_PORT,
      user: 'postgres',
      database: 'postgres',
    },
    postgres: { connectionString: pgUrl },
  }
  const inProcessConnect: Record<BrainDriverKind, number[]> = { embedded: [], postgres: [] }
  for (let i = 0; i < N.inProcessConnect; i++) {
    for (const driver of DRIVERS) {
      inProcessConnect[driver].push(
        await timed(async () => {
          const client = new pg.Client(clientConfigs[driver])
          await client.connect()
          await client.query('select 1')
          await client.end()
        }),
      )
    }
  }
  for (const driver of DRIVERS) {
    record('warm_connect_process', driver, 'ms', processConnect[driver])
    record('warm_connect_in_process', driver, 'ms', inProcessConnect[driver])
  }

  progress(`single insert latency x${N.insert} per driver and on in-process PGlite`)
  const fixtures = {} as Record<BrainDriverKind, Fixture>
  for (const driver of DRIVERS) {
    const { db } = brains[driver]
    fixtures[driver] = await seed(db)
    const insert = () => insertEdit(db, fixtures[driver]).execute()
    for (let i = 0; i < N.insertWarmup; i++) await insert()
    const samples: number[] = []
    for (let i = 0; i < N.insert; i++) samples.push(await timed(insert))
    record('insert_latency', driver, 'ms', samples)
  }
  record(
    'insert_latency',
    'pglite-in-process',
    'ms',
    await pgliteInsertLatencies(join(tmpRoot, 'pglite-in-process'), brains.embedded.db),
  )

  progress(`${N.writers} writers x ${N.rowsPerWriter} inserts, ${N.writerRounds} rounds per driver`)
  const rounds: Record<BrainDriverKind, WritersRound[]> = { embedded: [], postgres: [] }
  for (let round = 0; round < N.writerRounds; round++) {
    for (const driver of DRIVERS) {
      rounds[driver].push(await writersRound(configs[driver], brains[driver], fixtures[driver], round))
    }
  }
  const rows = N.writers * N.rowsPerWriter
  for (const driver of DRIVERS) {
    record(
      'writers8_wall',
      driver,
      'ms',
      rounds[driver].map((r) => r.wallMs),
    )
    record(
      'writers8_throughput',
      driver,
      'rows/s',
      rounds[driver].map((r) => rows / (r.wallMs / 1000)),
    )
    record(
      'writers8_throughput_inserting',
      driver,
      'rows/s',
      rounds[driver].map((r) => rows / (r.insertingMs / 1000)),
    )
    record(
      'writers8_insert_latency',
      driver,
      'ms',
      rounds[driver].flatMap((r) => r.latenciesMs),
    )
  }

  record('server_rss_after_run', 'embedded', 'MB', [await serverRssMb(embeddedDir)])
}

// Ratios of medians. For rows/s a ratio below 1 means the numerator driver is slower.
const RATIOS: Array<{ name: string; short: string; num: [string, Driver]; den: [string, Driver] }> = [
  {
    name: 'first_create_process.embedded_vs_postgres',
    short: 'emb/pg',
    num: ['first_create_process', 'embedded'],
    den: ['first_create_process', 'postgres'],
  },
  {
    name: 'cold_start_process.embedded_vs_node_baseline',
    short: 'emb/node',
    num: ['cold_start_process', 'embedded'],
    den: ['process_spawn', 'baseline'],
  },
  {
    name: 'cold_start_process.embedded_vs_postgres_warm_connect_process',
    short: 'emb cold/pg process',
    num: ['cold_start_process', 'embedded'],
    den: ['warm_connect_process', 'postgres'],
  },
  {
    name: 'warm_connect_process.embedded_vs_postgres',
    short: 'emb/pg',
    num: ['warm_connect_process', 'embedded'],
    den: ['warm_connect_process', 'postgres'],
  },
  {
    name: 'warm_connect_process.embedded_vs_node_baseline',
    short: 'emb/node',
    num: ['warm_connect_process', 'embedded'],
    den: ['process_spawn', 'baseline'],
  },
  {
    name: 'warm_connect_process.postgres_vs_node_baseline',
    short: 'pg/node',
    num: ['warm_connect_process', 'postgres'],
    den: ['process_spawn', 'baseline'],
  },
  {
    name: 'warm_connect_in_process.embedded_vs_postgres',
    short: 'emb/pg',
    num: ['warm_connect_in_process', 'embedded'],
    den: ['warm_connect_in_process', 'postgres'],
  },
  {
    name: 'insert_latency.embedded_vs_postgres',
    short: 'emb/pg',
    num: ['insert_latency', 'embedded'],
    den: ['insert_latency', 'postgres'],
  },
  {
    name: 'insert_latency.embedded_vs_pglite_in_process',
    short: 'emb/pglite',
    num: ['insert_latency', 'embedded'],
    den: ['insert_latency', 'pglite-in-process'],
  },
  {
    name: 'writers8_wall.embedded_vs_postgres',
    short: 'emb/pg',
    num: ['writers8_wall', 'embedded'],
    den: ['writers8_wall', 'postgres'],
  },
  {
    name: 'writers8_throughput.embedded_vs_postgres',
    short: 'emb/pg',
    num: ['writers8_throughput', 'embedded'],
    den: ['writers8_throughput', 'postgres'],
  },
  {
    name: 'writers8_throughput_inserting.embedded_vs_postgres',
    short: 'emb/pg',
    num: ['writers8_throughput_inserting', 'embedded'],
    den: ['writers8_throughput_inserting', 'postgres'],
  },
  {
    name: 'writers8_insert_latency.embedded_vs_postgres',
    short: 'emb/pg',
    num: ['writers8_insert_latency', 'embedded'],
    den: ['writers8_insert_latency', 'postgres'],
  },
]

function computeRatios(): Record<string, number> {
  const ratios: Record<string, number> = {}
  for (const { name, num, den } of RATIOS) {
    const value = recorder.ratio(num, den)
    if (value !== undefined) ratios[name] = value
  }
  return ratios
}

// Table rows in print order; `other` is the baseline shown beside the two drivers.
const TABLE: Array<{ metric: string; label: string; other?: [string, Driver] }> = [
  {
    metric: 'process_spawn',
    label: "spawn `node -e ''` (floor of any CLI) [ms]",
    other: ['process_spawn', 'baseline'],
  },
  { metric: 'first_create_process', label: 'first create: process, new brain + migrate [ms]' },
  {
    metric: 'cold_start_process',
    label: 'cold start: process openBrain+select 1, no server [ms]',
    other: ['process_spawn', 'baseline'],
  },
  {
    metric: 'warm_connect_process',
    label: 'warm connect: process openBrain+select 1+close [ms]',
    other: ['process_spawn', 'baseline'],
  },
  { metric: 'warm_connect_in_process', label: 'warm connect in-process: pg.Client+select 1 [ms]' },
  {
    metric: 'insert_latency',
    label: 'single insert, autocommit, in-process [ms]',
    other: ['insert_latency', 'pglite-in-process'],
  },
  { metric: 'writers8_wall', label: '8 writers x 500 inserts: total wall [ms]' },
  { metric: 'writers8_throughput', label: '8 writers: rows/s over total wall [rows/s]' },
  { metric: 'writers8_throughput_inserting', label: '8 writers: rows/s while inserting [rows/s]' },
  { metric: 'writers8_insert_latency', label: '8 writers: per-insert latency [ms]' },
  { metric: 'server_rss_idle', label: 'embedded server RSS, just started [MB]' },
  { metric: 'server_rss_after_run', label: 'embedded server RSS after the run [MB]' },
]

function table(ratios: Record<string, number>): string {
  const header = ['metric', 'embedded', 'postgres', 'other baseline', 'ratio (medians)']
  const rows = TABLE.map(({ metric, label, other }) => {
    const baseline = other ? resultFor(...other) : undefined
    const ratioText = RATIOS.filter((ratio) => ratio.num[0] === metric && ratios[ratio.name] !== undefined)
      .map((ratio) => `${ratio.short} ${ratios[ratio.name]!.toFixed(2)}x`)
      .join(', ')
    return [
      label,
      cell(resultFor(metric, 'embedded')),
      cell(resultFor(metric, 'postgres')),
      baseline ? `${other![1]}: ${cell(baseline)}` : '-',
      ratioText || '-',
    ]
  })
  return renderTable(header, rows)
}

async function main(): Promise<void> {
  const startedAt = new Date()
  if (!(await runBench('brain', cleanups, run))) return

  const ratios = computeRatios()
  console.log(table(ratios))
  console.log(
    '\nfirst create on postgres = migrating an empty database. Writer latencies are measured in the writer ' +
      'processes; rows/s "while inserting" spans the first writer insert to the last.',
  )
  const file = writeResults('brain', startedAt, recorder.results, ratios)
  console.log(`\nresults: ${file}`)
}

await main()

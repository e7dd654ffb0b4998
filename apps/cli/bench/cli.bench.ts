// What a `dstack` command costs from a shell (every hook and skill pays it): bare `node` start, oclif alone
// (--version), read and write commands on the embedded brain and on Postgres, and psql (a minimal native Postgres
// client process) as the peer. Run from apps/cli after a build: `node bench/cli.bench.ts`.

import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { cell, Recorder, renderTable, runNode, runProcess, writeResults } from '../../../bench/harness.ts'

const PG_URL = process.env.DSTACK_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const BIN = join(import.meta.dirname, '..', 'bin', 'run.js')
const N = 15

const home = mkdtempSync(join(tmpdir(), 'dstack-cli-bench-'))
const recorder = new Recorder()
const admin = new pg.Client({ connectionString: PG_URL })
await admin.connect()
const dbName = `dstack_cli_bench_${randomBytes(4).toString('hex')}`
await admin.query(`create database ${dbName}`)
const url = new URL(PG_URL)
url.pathname = `/${dbName}`

const baseEnv = {
  PATH: process.env.PATH,
  HOME: home,
  DSTACK_HOME: join(home, '.dstack'),
  DSTACK_AGENT: 'bench',
}
const envs = { embedded: baseEnv, postgres: { ...baseEnv, DSTACK_BRAIN_URL: url.toString() } }
const dstack = (args: string[], env: NodeJS.ProcessEnv) => runNode([BIN, ...args], env)

const cases: Array<{ metric: string; series: string; run: () => Promise<{ ms: number }> }> = [
  { metric: 'node -e ""', series: 'baseline', run: () => runNode(['-e', '']) },
  {
    metric: 'psql -c "select 1"',
    series: 'postgres',
    run: () => runProcess('psql', [url.toString(), '-Atc', 'select 1']),
  },
  { metric: 'dstack --version', series: 'oclif', run: () => dstack(['--version'], baseEnv) },
  { metric: 'dstack --help', series: 'oclif', run: () => dstack(['--help'], baseEnv) },
]
for (const driver of ['embedded', 'postgres'] as const) {
  const env = envs[driver]
  cases.push(
    { metric: 'dstack brain status', series: driver, run: () => dstack(['brain', 'status', '--json'], env) },
    {
      metric: 'dstack brain seed (write)',
      series: driver,
      run: () => dstack(['brain', 'seed', '--json'], env),
    },
    { metric: 'dstack doctor', series: driver, run: () => dstack(['doctor', '--json'], env) },
  )
}

try {
  const startedAt = new Date()
  for (const env of Object.values(envs)) await dstack(['brain', 'up'], env)
  const samples = new Map(cases.map((c) => [c, [] as number[]]))
  // Round-robin so drift on the machine hits every case alike; the first round warms caches and is dropped.
  for (let round = -1; round < N; round++) {
    for (const c of cases) {
      const { ms } = await c.run()
      if (round >= 0) samples.get(c)!.push(ms)
    }
  }
  for (const c of cases) recorder.record(c.metric, c.series, 'ms', samples.get(c)!)

  const node: [string, string] = ['node -e ""', 'baseline']
  const psql: [string, string] = ['psql -c "select 1"', 'postgres']
  const ratios: Record<string, number> = {}
  const rows = recorder.results.map((r) => {
    const vsNode = recorder.ratio([r.metric, r.series], node)!
    const vsPsql = r.series === 'baseline' ? undefined : recorder.ratio([r.metric, r.series], psql)
    ratios[`${r.metric} [${r.series}] / node`] = vsNode
    if (vsPsql !== undefined) ratios[`${r.metric} [${r.series}] / psql`] = vsPsql
    return [
      r.metric,
      r.series,
      cell(r),
      `${vsNode.toFixed(2)}x`,
      vsPsql === undefined ? '-' : `${vsPsql.toFixed(2)}x`,
    ]
  })
  console.log(
    renderTable(
      ['command (wall ms, spawn to exit)', 'brain', 'median (p95, min, n)', 'vs node', 'vs psql'],
      rows,
    ),
  )
  console.log(`\nresults: ${writeResults('cli', startedAt, recorder.results, ratios)}`)
} finally {
  await dstack(['brain', 'down'], envs.embedded).catch(() => {})
  await admin.query(`drop database if exists ${dbName} with (force)`)
  await admin.end()
  rmSync(home, { recursive: true, force: true })
}

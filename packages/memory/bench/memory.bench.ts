// Benchmarks @dstack/memory's providers on one machine, in one run:
//   1. search latency over 10k and 100k memories: the file provider (BM25 index in-process), the brain provider on
//      embedded PGlite and on Postgres (full-text search), and the Eruka provider at 10k only, against the openeruka
//      TEST DOUBLE over HTTP (no /api/v1/search there, so the client loads the workspace and ranks it itself); the
//      file provider's index build on open, and write latency for every provider;
//   2. retrieval quality (recall@5, MRR@10) on a labelled set of 309 engineering memories and 81 queries
//      (bench/corpus.ts), alone and mixed into the 10k and 100k noise, against two grep baselines computed on the
//      same memories: the whole query as a case-insensitive substring of key + JSON value (hits by key, what
//      `grep -ril` over the files gives), and "any query word as a substring" (hits by words matched).
// Run from packages/memory: `node bench/memory.bench.ts`. Needs Postgres at DSTACK_TEST_PG_URL (default
// postgres://postgres@127.0.0.1:5432/test); writes <repo>/bench/results/memory-<time>.json.

import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { type BrainConfig, openBrain, stopEmbeddedServer } from '@dstack/brain-schema'
import { sql } from 'kysely'
import {
  cell,
  formatNumber,
  Recorder,
  type Result,
  renderTable,
  timed,
  writeResults,
} from '../../../bench/harness.ts'
import { Cleanups, connectAdmin, databaseUrl, runBench } from '../../brain-schema/bench/support.ts'
import { encodeSegment } from '../src/keys.ts'
import { prepareWrite } from '../src/prepare.ts'
import { BrainProvider } from '../src/providers/brain.ts'
import { ErukaProvider, envelopeOf } from '../src/providers/eruka.ts'
import { FileProvider } from '../src/providers/file.ts'
import { formatMemoryFile } from '../src/providers/file-format.ts'
import type { Memory, MemoryProvider } from '../src/types.ts'
import { startFakeEruka } from '../test/support/fake-eruka.ts'
import { CORPUS, type LabelledQuery, noiseMemories, QUERIES, type QueryKind } from './corpus.ts'

// Sizes and sample counts, chosen to keep the whole run around 2-3 minutes on 2 cores.
const N = {
  noise10k: 10_000,
  noise100k: 100_000,
  /** Searches run before the measured ones (not recorded); every labelled query is then timed once. */
  searchWarmup: 3,
  writeWarmup: 10,
  writes: 110,
  /** `grep -rilF` processes per scale (an evenly spaced subset of the queries: 100k files per run is slow). */
  grepQueries: 30,
  /** Rows per bulk INSERT into dstack.memories. */
  seedBatch: 5_000,
}
/** Every seeded memory's createdAt/updatedAt, so no provider can rank by recency. */
const WHEN = '2025-06-01T09:00:00.000Z'

type Scale = 'corpus' | '10k' | '100k'
const SCALES: Scale[] = ['corpus', '10k', '100k']
const NOISE: Record<Scale, number> = { corpus: 0, '10k': N.noise10k, '100k': N.noise100k }
const workspaceOf = (scale: Scale) => `bench-${scale}`

type Provider = 'file' | 'brain-embedded' | 'brain-postgres' | 'eruka-double'
const PROVIDERS: Provider[] = ['file', 'brain-embedded', 'brain-postgres', 'eruka-double']
type Baseline = 'grep-substring' | 'grep-any-word'
const BASELINES: Baseline[] = ['grep-substring', 'grep-any-word']
/** The real `grep -rilF` process over the file provider's workspace: the latency baseline. */
const GREP_PROCESS = 'grep-process'

const recorder = new Recorder()
const progress = (message: string) => console.error(`[memory bench] ${message}`)
const warnings: string[] = []
const warn = (message: string) => {
  warnings.push(message)
  console.error(`[memory bench] WARNING: ${message}`)
}

const cleanups = new Cleanups()
const defer = (what: string, run: () => unknown) => cleanups.defer(what, run)

/** Ranked keys per query, per "series|scale". */
const rankings = new Map<string, Map<string, string[]>>()
const rankingKey = (series: string, scale: Scale) => `${series}|${scale}`
/** Search latency per query (in QUERIES order), per "series|scale". */
const latencies = new Map<string, number[]>()

// ---------------------------------------------------------------------------------------------------------------
// Data
// ---------------------------------------------------------------------------------------------------------------

/** The corpus through prepareWrite (key, size and secret checks, as a provider would apply them). */
const corpus: Memory[] = CORPUS.map((entry) =>
  prepareWrite(
    'bench',
    { key: entry.key, value: entry.value, state: 'CONFIRMED', confidence: 0.9 },
    null,
    new Date(WHEN),
  ),
)
const noise: Memory[] = noiseMemories(N.noise100k).map((entry, i) => ({
  workspace: 'bench',
  key: entry.key,
  value: entry.value,
  state: i % 7 === 0 ? 'CONFIRMED' : 'INFERRED',
  confidence: 0.7,
  provenance: {},
  createdAt: WHEN,
  updatedAt: WHEN,
  supersedes: null,
  expiresAt: null,
}))
const memoriesAt = (scale: Scale): Memory[] => [...corpus, ...noise.slice(0, NOISE[scale])]

function checkData(): void {
  const keys = new Set(corpus.map((m) => m.key))
  if (keys.size !== corpus.length) throw new Error('the corpus repeats a key')
  for (const q of QUERIES) {
    if (q.relevant.length < 1 || q.relevant.length > 3)
      throw new Error(`"${q.query}" needs 1-3 relevant keys`)
    for (const key of q.relevant) if (!keys.has(key)) throw new Error(`"${q.query}": no corpus memory ${key}`)
  }
  for (const m of noise) if (keys.has(m.key)) throw new Error(`noise repeats corpus key ${m.key}`)
}

// ---------------------------------------------------------------------------------------------------------------
// Quality
// ---------------------------------------------------------------------------------------------------------------

const compareKeys = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

/** The two grep baselines over key + JSON value text, lowercased; top 10 keys per query. */
function baselineRankings(memories: Memory[]): Record<Baseline, Map<string, string[]>> {
  const docs = memories
    .map((m) => ({ key: m.key, text: `${m.key}\n${JSON.stringify(m.value)}`.toLowerCase() }))
    .sort((a, b) => compareKeys(a.key, b.key))
  const substring = new Map<string, string[]>()
  const anyWord = new Map<string, string[]>()
  for (const { query } of QUERIES) {
    const needle = query.toLowerCase()
    const hits: string[] = []
    for (const doc of docs) if (doc.text.includes(needle)) hits.push(doc.key)
    substring.set(query, hits.slice(0, 10))
    const words = [...new Set(needle.split(/\s+/).filter(Boolean))]
    const scored: Array<{ key: string; n: number }> = []
    for (const doc of docs) {
      let n = 0
      for (const word of words) if (doc.text.includes(word)) n++
      if (n > 0) scored.push({ key: doc.key, n })
    }
    scored.sort((a, b) => b.n - a.n || compareKeys(a.key, b.key))
    anyWord.set(
      query,
      scored.slice(0, 10).map((s) => s.key),
    )
  }
  return { 'grep-substring': substring, 'grep-any-word': anyWord }
}

interface QueryOutcome {
  query: LabelledQuery
  /** 1-based rank of the first relevant key in the top 10, or null. */
  firstRelevant: number | null
  recallAt5: number
  top: string | undefined
}

function evaluate(ranked: Map<string, string[]>): QueryOutcome[] {
  return QUERIES.map((query) => {
    const keys = ranked.get(query.query) ?? []
    const relevant = new Set(query.relevant)
    const first = keys.slice(0, 10).findIndex((key) => relevant.has(key))
    return {
      query,
      firstRelevant: first === -1 ? null : first + 1,
      recallAt5: new Set(keys.slice(0, 5).filter((key) => relevant.has(key))).size / relevant.size,
      top: keys[0],
    }
  })
}

const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / values.length
const reciprocal = (o: QueryOutcome) => (o.firstRelevant === null ? 0 : 1 / o.firstRelevant)

function recordQuality(series: string, scale: Scale): QueryOutcome[] | undefined {
  const ranked = rankings.get(rankingKey(series, scale))
  if (!ranked) return undefined
  const outcomes = evaluate(ranked)
  recorder.record(`recall_at_5_${scale}`, series, 'ratio', [mean(outcomes.map((o) => o.recallAt5))])
  recorder.record(`mrr_${scale}`, series, 'ratio', [mean(outcomes.map(reciprocal))])
  if (scale === 'corpus') {
    const kinds = [...new Set(QUERIES.map((q) => q.kind))] as QueryKind[]
    for (const kind of kinds) {
      const ofKind = outcomes.filter((o) => o.query.kind === kind)
      recorder.record(`recall_at_5_corpus_kind_${kind}`, series, 'ratio', [
        mean(ofKind.map((o) => o.recallAt5)),
      ])
    }
  }
  return outcomes
}

// ---------------------------------------------------------------------------------------------------------------
// Measuring a provider
// ---------------------------------------------------------------------------------------------------------------

/** Warm-up, then every labelled query once (limit 10): latency samples and the ranked keys. */
async function measureSearch(series: Provider, scale: Scale, provider: MemoryProvider): Promise<void> {
  for (const { query } of QUERIES.slice(0, N.searchWarmup)) await provider.search(query, { limit: 10 })
  const samples: number[] = []
  const ranked = new Map<string, string[]>()
  for (const { query } of QUERIES) {
    let keys: string[] = []
    samples.push(
      await timed(async () => {
        keys = (await provider.search(query, { limit: 10 })).map((hit) => hit.memory.key)
      }),
    )
    ranked.set(query, keys)
  }
  const result = recorder.record(`search_${scale}`, series, 'ms', samples)
  rankings.set(rankingKey(series, scale), ranked)
  latencies.set(rankingKey(series, scale), samples)
  progress(
    `${series} ${scale}: search median ${formatNumber(result.median)} ms, p95 ${formatNumber(result.p95)} ms`,
  )
}

/** Writes of new keys (one sentence each, INFERRED) into the 10k workspace, after its searches. */
async function measureWrites(series: Provider, provider: MemoryProvider): Promise<void> {
  const samples: number[] = []
  for (let i = 0; i < N.writeWarmup + N.writes; i++) {
    const ms = await timed(() =>
      provider.write({
        key: `notes/bench-writes/export-run-${i}`,
        value: `The nightly export for tenant ${1000 + i} finished in ${(i % 50) + 3} minutes; no rows were skipped.`,
        state: 'INFERRED',
        confidence: 0.6,
      }),
    )
    if (i >= N.writeWarmup) samples.push(ms)
  }
  const result = recorder.record('write', series, 'ms', samples)
  progress(`${series}: write median ${formatNumber(result.median)} ms, p95 ${formatNumber(result.p95)} ms`)
}

/** `grep -rilF -- <query>` over a workspace's .md files, timed spawn → exit (exit 1, no match, is fine). */
function grepOnce(dir: string, query: string): Promise<number> {
  return new Promise((done, fail) => {
    const started = performance.now()
    let exitedAt = 0
    const child = spawn('grep', ['-rilF', '--include=*.md', '--', query, dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    child.stdout.resume()
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk
    })
    child.once('exit', () => {
      exitedAt = performance.now()
    })
    child.once('error', fail)
    child.once('close', (code) => {
      if (code === 0 || code === 1) done(exitedAt - started)
      else fail(new Error(`grep exited with ${code}: ${stderr.trim()}`))
    })
  })
}

async function measureGrep(scale: Scale, dir: string): Promise<void> {
  const step = QUERIES.length / N.grepQueries
  const queries = Array.from({ length: N.grepQueries }, (_, i) => QUERIES[Math.floor(i * step)]!.query)
  await grepOnce(dir, queries[0]!) // warm-up
  const samples: number[] = []
  for (const query of queries) samples.push(await grepOnce(dir, query))
  const result = recorder.record(`search_${scale}`, GREP_PROCESS, 'ms', samples)
  progress(`grep -rilF ${scale}: median ${formatNumber(result.median)} ms`)
}

// ---------------------------------------------------------------------------------------------------------------
// Providers
// ---------------------------------------------------------------------------------------------------------------

/** Writes the memories as the file provider would (formatMemoryFile at the encoded key path). */
function seedFiles(root: string, workspace: string, memories: Memory[]): void {
  const dir = join(root, workspace)
  const made = new Set<string>()
  for (const memory of memories) {
    const file = `${join(dir, ...memory.key.split('/').map(encodeSegment))}.md`
    const parent = dirname(file)
    if (!made.has(parent)) {
      mkdirSync(parent, { recursive: true, mode: 0o700 })
      made.add(parent)
    }
    writeFileSync(file, formatMemoryFile(memory), { mode: 0o600 })
  }
}

async function benchFile(tmpRoot: string): Promise<void> {
  const root = join(tmpRoot, 'files')
  for (const scale of SCALES) {
    const workspace = workspaceOf(scale)
    const memories = memoriesAt(scale)
    const seedMs = await timed(async () => seedFiles(root, workspace, memories))
    recorder.record(`seed_${scale}`, 'file', 'ms', [seedMs])
    progress(`file ${scale}: wrote ${memories.length} files in ${formatNumber(seedMs)} ms; opening`)
    let provider: FileProvider | undefined
    const openMs = await timed(async () => {
      provider = await FileProvider.open({ root, workspace })
    })
    const memory = provider!
    defer(`close the file provider ${workspace}`, () => memory.close())
    recorder.record(`open_index_build_${scale}`, 'file', 'ms', [openMs])
    progress(`file ${scale}: open (index build) ${formatNumber(openMs)} ms`)
    // The index built by open is saved by a timer a second later, under the provider's queue: let that happen
    // before the measured searches (the warm-up searches queue behind it) so no sample pays for the save.
    await sleep(1_200)
    await measureSearch('file', scale, memory)
    if (scale !== 'corpus') await measureGrep(scale, join(root, workspace))
    if (scale === '10k') await measureWrites('file', memory)
    await memory.close()
    let reopened: FileProvider | undefined
    const reopenMs = await timed(async () => {
      reopened = await FileProvider.open({ root, workspace })
    })
    await reopened!.close()
    recorder.record(`open_saved_index_${scale}`, 'file', 'ms', [reopenMs])
    progress(`file ${scale}: open (saved index) ${formatNumber(reopenMs)} ms`)
  }
}

/** Bulk rows into dstack.memories (the provider's table), batch by batch, then analyze. */
async function seedBrain(db: BrainProvider['db'], workspace: string, memories: Memory[]): Promise<void> {
  for (let start = 0; start < memories.length; start += N.seedBatch) {
    const batch = memories.slice(start, start + N.seedBatch)
    await sql`insert into dstack.memories (workspace, key, value, state, confidence, created_at, updated_at)
      select ${workspace}, k, v, s, c, ${WHEN}::timestamptz, ${WHEN}::timestamptz
      from unnest(${batch.map((m) => m.key)}::text[], ${batch.map((m) => JSON.stringify(m.value))}::jsonb[],
                  ${batch.map((m) => m.state)}::text[], ${batch.map((m) => m.confidence)}::real[]) as u(k, v, s, c)`.execute(
      db,
    )
  }
  await sql`analyze dstack.memories`.execute(db)
}

async function benchBrain(series: 'brain-embedded' | 'brain-postgres', config: BrainConfig): Promise<void> {
  progress(`${series}: opening and migrating`)
  const brain = await openBrain(config, { migrate: true })
  defer(`close the ${series} brain`, () => brain.close())
  for (const scale of SCALES) {
    const workspace = workspaceOf(scale)
    const memories = memoriesAt(scale)
    const seedMs = await timed(() => seedBrain(brain.db, workspace, memories))
    recorder.record(`seed_${scale}`, series, 'ms', [seedMs])
    progress(`${series} ${scale}: inserted ${memories.length} rows in ${formatNumber(seedMs)} ms`)
  }
  for (const scale of SCALES) {
    const provider = await BrainProvider.open({ brain, workspace: workspaceOf(scale) })
    const count = await provider.load('')
    if (count.length !== memoriesAt(scale).length)
      throw new Error(
        `${series} ${scale}: ${count.length} memories loaded, ${memoriesAt(scale).length} seeded`,
      )
    await measureSearch(series, scale, provider)
    if (scale === '10k') await measureWrites(series, provider)
    await provider.close() // leaves the shared brain open
  }
  await brain.close()
}

async function benchEruka(): Promise<void> {
  const fake = await startFakeEruka({ search: false })
  defer('close the fake Eruka server', () => fake.close())
  for (const scale of ['corpus', '10k'] as const) {
    const workspace = workspaceOf(scale)
    const memories = memoriesAt(scale)
    const seedMs = await timed(async () => {
      for (const memory of memories) {
        fake.seed({
          workspace,
          path: memory.key,
          valueText: JSON.stringify(envelopeOf(memory)),
          state: memory.state,
          confidence: memory.confidence,
          source: 'agent_inference',
        })
      }
    })
    recorder.record(`seed_${scale}`, 'eruka-double', 'ms', [seedMs])
    const provider = await ErukaProvider.open({ url: fake.url, workspace })
    if (provider.features.search) throw new Error('the Eruka double was expected to have no /api/v1/search')
    const loaded = await provider.load('')
    if (loaded.length !== memories.length || loaded.some((m) => m.createdAt !== WHEN))
      throw new Error(`eruka ${scale}: the seeded fields do not read back as the memories written`)
    await measureSearch('eruka-double', scale, provider)
    if (scale === '10k') await measureWrites('eruka-double', provider)
    await provider.close()
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Run, table, results
// ---------------------------------------------------------------------------------------------------------------

async function run(tmpRoot: string): Promise<void> {
  checkData()
  for (const scale of SCALES) {
    const started = performance.now()
    const baselines = baselineRankings(memoriesAt(scale))
    for (const name of BASELINES) rankings.set(rankingKey(name, scale), baselines[name])
    progress(
      `grep baselines over ${memoriesAt(scale).length} memories: ${formatNumber(performance.now() - started)} ms`,
    )
  }
  for (const q of QUERIES.filter((q) => q.kind === 'no-substring')) {
    const hits = rankings.get(rankingKey('grep-substring', 'corpus'))!.get(q.query)!
    if (hits.length > 0) warn(`"${q.query}" is labelled no-substring but occurs in ${hits.join(', ')}`)
  }

  await benchFile(tmpRoot)

  const admin = await connectAdmin(cleanups)
  const dbName = `dstack_memory_bench_${randomBytes(4).toString('hex')}`
  await admin.query(`create database ${dbName}`)
  defer(`drop database ${dbName}`, () => admin.query(`drop database if exists ${dbName} with (force)`))
  const dataDir = join(tmpRoot, 'brain')
  defer(`stop the embedded server in ${dataDir}`, () => stopEmbeddedServer({ dataDir }))
  await benchBrain('brain-embedded', { driver: 'embedded', dataDir })
  await benchBrain('brain-postgres', { driver: 'postgres', url: databaseUrl(dbName) })

  await benchEruka()
}

const SCALE_LABEL: Record<Scale, string> = {
  corpus: `${corpus.length} corpus`,
  '10k': `corpus + ${N.noise10k / 1000}k noise`,
  '100k': `corpus + ${N.noise100k / 1000}k noise`,
}

const qualityValue = (r: Result) => r.median.toFixed(3)

function table(): string {
  const rows: string[][] = []
  const timeRow = (label: string, metric: string, series: string, baseline?: string) => {
    const ours = recorder.get(metric, series)
    if (!ours) return
    const other = baseline ? recorder.get(metric, baseline) : undefined
    const versus = other
      ? `grep -rilF ${cell(other)} = ${(other.median / ours.median).toFixed(2)}x ours`
      : '-'
    rows.push([label, series, cell(ours), versus])
  }
  for (const scale of ['10k', '100k'] as const) {
    const size = memoriesAt(scale).length.toLocaleString('en-US')
    timeRow(`open (index build), ${size} [ms]`, `open_index_build_${scale}`, 'file')
    timeRow(`open (saved index), ${size} [ms]`, `open_saved_index_${scale}`, 'file')
    for (const series of PROVIDERS) {
      const label =
        series === 'eruka-double'
          ? `search, ${size}, client-side rank* [ms]`
          : `search, ${size}, limit 10 [ms]`
      timeRow(label, `search_${scale}`, series, GREP_PROCESS)
    }
  }
  for (const series of PROVIDERS) timeRow(`write, into the 10k workspace [ms]`, 'write', series)
  for (const scale of SCALES) {
    for (const [metric, name] of [
      [`recall_at_5_${scale}`, 'recall@5'],
      [`mrr_${scale}`, 'MRR@10'],
    ] as const) {
      for (const series of PROVIDERS) {
        const ours = recorder.get(metric, series)
        if (!ours) continue
        const versus = BASELINES.map((b) => {
          const other = recorder.get(metric, b)
          if (!other) return undefined
          const delta = ours.median - other.median
          return `${b} ${qualityValue(other)} (ours ${delta >= 0 ? '+' : ''}${delta.toFixed(3)})`
        })
          .filter((text) => text !== undefined)
          .join('; ')
        rows.push([`${name}, ${SCALE_LABEL[scale]}`, series, qualityValue(ours), versus || '-'])
      }
    }
  }
  return renderTable(['metric', 'provider', 'median (p95, min, n)', 'vs baseline'], rows)
}

function computeRatios(): Record<string, number> {
  const ratios: Record<string, number> = {}
  for (const scale of ['10k', '100k'] as const) {
    for (const series of PROVIDERS) {
      const ratio = recorder.ratio([`search_${scale}`, GREP_PROCESS], [`search_${scale}`, series])
      if (ratio !== undefined) ratios[`search_${scale}.${series}.grep_vs_ours`] = ratio
    }
  }
  for (const series of PROVIDERS) {
    const ratio = recorder.ratio(['search_100k', series], ['search_10k', series])
    if (ratio !== undefined) ratios[`search.${series}.100k_vs_10k`] = ratio
  }
  const build = recorder.ratio(['open_index_build_100k', 'file'], ['open_saved_index_100k', 'file'])
  if (build !== undefined) ratios['open_100k.file.index_build_vs_saved_index'] = build
  return ratios
}

/** Per-query findings worth reading next to the table: misses, disagreements, what noise costs. */
function findings(outcomes: Map<string, QueryOutcome[]>): string[] {
  const lines: string[] = []
  const at = (series: string, scale: Scale) => outcomes.get(rankingKey(series, scale))
  const describe = (o: QueryOutcome) =>
    `"${o.query.query}" [${o.query.kind}] → ${o.firstRelevant === null ? 'no relevant in top 10' : `first relevant at ${o.firstRelevant}`}, top: ${o.top ?? '(nothing)'}`
  for (const series of PROVIDERS) {
    const corpusOutcomes = at(series, 'corpus')
    if (!corpusOutcomes) continue
    const misses = corpusOutcomes.filter((o) => o.recallAt5 === 0)
    lines.push(
      `${series}, ${SCALE_LABEL.corpus}: ${misses.length}/${QUERIES.length} queries with nothing relevant in the top 5:`,
    )
    for (const miss of misses) lines.push(`  ${describe(miss)}`)
    const noisy = at(series, '10k')
    if (noisy) {
      const lost = noisy.filter((o, i) => o.recallAt5 < corpusOutcomes[i]!.recallAt5)
      if (lost.length > 0)
        lines.push(
          `  lost recall@5 once the 10k noise is mixed in: ${lost.map((o) => `"${o.query.query}" → top ${o.top}`).join('; ')}`,
        )
    }
  }
  const perKind = (series: string) =>
    [...new Set(QUERIES.map((q) => q.kind))]
      .map(
        (kind) =>
          `${kind} ${recorder.get(`recall_at_5_corpus_kind_${kind}`, series)?.median.toFixed(2) ?? '-'}`,
      )
      .join(', ')
  lines.push('recall@5 by query kind (corpus):')
  for (const series of [...PROVIDERS, ...BASELINES]) lines.push(`  ${series}: ${perKind(series)}`)
  for (const series of PROVIDERS) {
    const samples = latencies.get(rankingKey(series, '100k')) ?? latencies.get(rankingKey(series, '10k'))
    if (!samples) continue
    const scale = latencies.has(rankingKey(series, '100k')) ? '100k' : '10k'
    const slowest = QUERIES.map((q, i) => ({ query: q.query, ms: samples[i]! }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 3)
    lines.push(
      `slowest searches, ${series} ${scale}: ${slowest.map((s) => `"${s.query}" ${formatNumber(s.ms)} ms`).join(', ')}`,
    )
  }
  const zero = at('grep-substring', 'corpus')!.filter((o) => o.top === undefined).length
  lines.push(`grep-substring finds nothing at all for ${zero}/${QUERIES.length} queries (corpus).`)
  for (const scale of SCALES) {
    const a = rankings.get(rankingKey('brain-embedded', scale))
    const b = rankings.get(rankingKey('brain-postgres', scale))
    if (a && b) {
      const differ = QUERIES.filter((q) => JSON.stringify(a.get(q.query)) !== JSON.stringify(b.get(q.query)))
      if (differ.length > 0)
        warn(
          `${scale}: brain-embedded and brain-postgres rank ${differ.length} queries differently, e.g. "${differ[0]!.query}"`,
        )
    }
    const f = rankings.get(rankingKey('file', scale))
    const e = rankings.get(rankingKey('eruka-double', scale))
    if (f && e) {
      const differ = QUERIES.filter((q) => JSON.stringify(f.get(q.query)) !== JSON.stringify(e.get(q.query)))
      lines.push(
        `${scale}: file and eruka-double (same BM25 code) differ on ${differ.length}/${QUERIES.length} rankings.`,
      )
    }
  }
  return lines
}

async function main(): Promise<void> {
  const startedAt = new Date()
  if (!(await runBench('memory', cleanups, run))) return

  const outcomes = new Map<string, QueryOutcome[]>()
  for (const scale of SCALES) {
    for (const series of [...PROVIDERS, ...BASELINES]) {
      const result = recordQuality(series, scale)
      if (result) outcomes.set(rankingKey(series, scale), result)
    }
  }
  const lines = findings(outcomes)
  const ratios = computeRatios()
  console.log(table())
  console.log(
    `\nSearch latency: each of ${QUERIES.length} labelled queries once (after ${N.searchWarmup} warm-ups), limit 10, ` +
      `in-process; the file provider re-scans its directory (readdir + stat per file) on every search. ` +
      `*eruka-double is the openeruka TEST DOUBLE (test/support/fake-eruka.ts) on 127.0.0.1 in this process, ` +
      `started without /api/v1/search: every search loads the whole workspace over HTTP and ranks it with BM25 in ` +
      `the client; it says nothing about a real Eruka server's speed. grep -rilF = a grep process over the file ` +
      `workspace, ${N.grepQueries} of the queries. Writes: ${N.writes} new keys after ${N.writeWarmup} warm-ups ` +
      `(file: lock + fsync + index update; the burst ends before its index save, deferred 1 s). Quality: recall@5 and ` +
      `MRR@10 over ${QUERIES.length} queries with 1-3 relevant keys each; grep-substring = whole query as a ` +
      `case-insensitive substring of key + JSON value, hits by key; grep-any-word = any query word as a substring, ` +
      `hits by words matched. Seeding: files via formatMemoryFile, brain via bulk INSERT, Eruka via the double's seed().`,
  )
  console.log('')
  for (const line of lines) console.log(line)
  for (const warning of warnings) console.log(`WARNING: ${warning}`)
  const file = writeResults('memory', startedAt, recorder.results, ratios)
  console.log(`\nresults: ${file}`)
}

await main()

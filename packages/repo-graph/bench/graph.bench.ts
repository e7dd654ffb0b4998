// Benchmarks @dstack/repo-graph on generated fleets of 200 and 1,000 sibling git repositories (bench/fleet.ts; RG-1
// and RG-2 of shared/reference/peers-graph-deploy-browser.md §5.1), in one run:
//   1. buildGraph in-process (after one unrecorded warm-up build): cold (cacheFile null), cold writing a fresh cache
//      file, warm with no change, and incremental after bumping one manifest's version, plus discovery alone; then
//      the same build in a fresh Node process (spawn → exit, peak RSS from process.resourceUsage().maxRSS; its
//      in-process build time is the true first build) against a bare `node -e` process as the floor;
//   2. correctness against the generator's ground truth: edge precision and recall on (from, to, kind), packages,
//      dangling paths, provenance lines, and affected() on 100 seeded change sets against a reverse BFS over the
//      truth (exact-match rate), with the query's in-process latency;
//   3. git state of the 200 repositories: repoStates (default concurrency, and concurrency 1) against a sequential
//      loop running `git status --porcelain=v2 --branch` + `git for-each-ref refs/heads` per repository, and the
//      states it reports against the ones the generator scripted;
//   4. peers: Nx and Turborepo on an EQUIVALENT single pnpm workspace (one package per fleet package, the same edges
//      as `workspace:*` minus the three cycle-closing ones, one git repo), answering "what does a change to this file
//      affect" in a fresh process: `nx show projects --affected --files=<file>` cold (after `nx reset`) and warm,
//      `turbo ls --affected` (the file modified, TURBO_SCM_BASE=HEAD) and `turbo ls --filter=...<pkg>`, against
//      dstack's buildGraph + affected in a fresh process on the same workspace, cold and with its cache.
// Child processes run under `unshare -n` (no network) when it is available. Nx and Turborepo are installed at bench
// time with npm into <os tmpdir>/dstack-repo-graph-bench-peers/ (reused when present).
// Run from packages/repo-graph: `node bench/graph.bench.ts` (REPO_GRAPH_BENCH_SIZES=1000 for one size,
// REPO_GRAPH_BENCH_KEEP=1 to keep the generated fleets) (about 2-4 minutes on 2 cores); writes
// <repo>/bench/results/repo-graph-<time>.json.

import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import {
  cell,
  formatNumber,
  installPinned,
  prng,
  Recorder,
  type Result,
  renderTable,
  runProcess,
  timed,
  writeResults,
} from '../../../bench/harness.ts'
import type { RepoGraph } from '../src/types.ts'
import { type Api, api } from './api.ts'
import {
  bumpVersion,
  changedPackages,
  type EquivalentWorkspace,
  type Fleet,
  generateFleet,
  truthAffected,
  writeEquivalentWorkspace,
} from './fleet.ts'

// Sizes and sample counts, chosen to keep the whole run within ~6 minutes on 2 cores.
type Size = 200 | 1000
/** REPO_GRAPH_BENCH_SIZES=1000 runs one size only (for investigating); the default is both. */
const SIZES: Size[] = (process.env.REPO_GRAPH_BENCH_SIZES ?? '200,1000')
  .split(',')
  .map((s) => Number(s) as Size)
  .filter((s) => s === 200 || s === 1000)
const N = {
  seed: 20260601,
  cold: { 200: 5, 1000: 3 } as Record<Size, number>,
  warm: { 200: 10, 1000: 5 } as Record<Size, number>,
  incremental: { 200: 5, 1000: 3 } as Record<Size, number>,
  /** Fresh-process builds (cold and warm) per size. */
  processes: { 200: 3, 1000: 3 } as Record<Size, number>,
  nodeBaseline: 5,
  affectedSets: 100,
  /** Samples of each git-state series (200 repositories only). */
  gitSamples: 3,
  gitRepos: 200,
  /** Samples of each peer series per size (they are slow). */
  peers: { 200: 3, 1000: 3 } as Record<Size, number>,
}
/** Pinned peers (npm view nx version / npm view turbo version on 2026-06-01). */
const NX_VERSION = '24.0.6'
const TURBO_VERSION = '2.11.11'
const PEER_CACHE = join(tmpdir(), 'dstack-repo-graph-bench-peers', `nx-${NX_VERSION}-turbo-${TURBO_VERSION}`)

const DSTACK = 'dstack'
const DSTACK_PROCESS = 'dstack (node process)'
const NODE_BASELINE = 'node -e (floor)'

const recorder = new Recorder()
const started = performance.now()
const progress = (message: string) =>
  console.error(`[repo-graph bench ${((performance.now() - started) / 1000).toFixed(0)}s] ${message}`)
const warnings: string[] = []
const warn = (message: string) => {
  warnings.push(message)
  console.error(`[repo-graph bench] WARNING: ${message}`)
}
const findings: string[] = []
/** Extra facts for the results JSON (added after writeResults). */
const details: Record<string, unknown> = {}

const round = (value: number, digits = 4) => Number(value.toFixed(digits))

// ---------------------------------------------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------------------------------------------

/** `unshare -n` (a network namespace with only loopback, down) works here: run child processes offline. */
const CLI = join(import.meta.dirname, '..', '..', '..', 'apps', 'cli', 'bin', 'run.js')
const OFFLINE = spawnSync('unshare', ['-n', 'true']).status === 0

function offline(command: string, args: string[]): [string, string[]] {
  return OFFLINE ? ['unshare', ['-n', command, ...args]] : [command, args]
}

async function runChild(command: string, args: string[], env?: NodeJS.ProcessEnv) {
  const [cmd, argv] = offline(command, args)
  return runProcess(cmd, argv, env)
}

interface ChildReport {
  buildMs: number
  affectedMs: number | null
  sinceStartMs: number
  maxRssKb: number
  repos: number
  packages: number
  edges: number
  affected: string[] | null
}

const CHILD = join(import.meta.dirname, 'build-child.ts')

async function buildInChild(
  roots: string[],
  cacheFile: string | null,
  file?: string,
): Promise<{ ms: number; report: ChildReport }> {
  const run = await runChild(process.execPath, [CHILD, JSON.stringify({ roots, cacheFile, file })])
  return { ms: run.ms, report: JSON.parse(run.stdout.trim().split('\n').pop()!) as ChildReport }
}

// ---------------------------------------------------------------------------------------------------------------
// Correctness
// ---------------------------------------------------------------------------------------------------------------

/** Package id → fleet key (`<ecosystem>:<name>`). */
const keysOf = (graph: RepoGraph) => new Map(graph.packages.map((p) => [p.id, `${p.ecosystem}:${p.name}`]))

function scoreGraph(size: Size, graph: RepoGraph, fleet: Fleet): void {
  const key = keysOf(graph)
  const triple = (from: string, to: string, kind: string) => `${from} → ${to} [${kind}]`
  const truth = new Set(fleet.edges.map((e) => triple(e.from, e.to, e.kind)))
  const truthPairs = new Map(fleet.edges.map((e) => [`${e.from} → ${e.to}`, e]))
  const got = new Set<string>()
  const gotPairs = new Set<string>()
  let scopeAgree = 0
  let scopeCompared = 0
  let provenanceOk = 0
  const badProvenance: string[] = []
  const lines = new Map<string, string[]>()
  const lineOf = (file: string, line: number | null) => {
    if (line === null) return ''
    let text = lines.get(file)
    if (!text) {
      text = existsSync(file) ? readFileSync(file, 'utf8').split('\n') : []
      lines.set(file, text)
    }
    return text[line - 1] ?? ''
  }
  const nameOf = (k: string) => k.slice(k.indexOf(':') + 1)
  for (const edge of graph.edges) {
    const from = key.get(edge.from) ?? edge.from
    const to = key.get(edge.to) ?? edge.to
    got.add(triple(from, to, edge.kind))
    const pair = `${from} → ${to}`
    gotPairs.add(pair)
    const expected = truthPairs.get(pair)
    if (expected) {
      scopeCompared++
      if (expected.scope === edge.scope) scopeAgree++
      if (lineOf(edge.source.file, edge.source.line).includes(nameOf(to))) provenanceOk++
      else if (badProvenance.length < 5)
        badProvenance.push(
          `${pair}: ${edge.source.file}:${edge.source.line} "${lineOf(edge.source.file, edge.source.line).trim()}"`,
        )
    }
  }
  const tp = [...got].filter((t) => truth.has(t)).length
  const pairTp = [...gotPairs].filter((p) => truthPairs.has(p)).length
  const precision = got.size ? tp / got.size : 0
  const recall = tp / truth.size
  recorder.record(`edge_precision_${size}`, DSTACK, 'ratio', [precision])
  recorder.record(`edge_recall_${size}`, DSTACK, 'ratio', [recall])
  recorder.record(`edge_pair_recall_${size} (kind ignored)`, DSTACK, 'ratio', [pairTp / truthPairs.size])
  if (scopeCompared)
    recorder.record(`edge_scope_agreement_${size}`, DSTACK, 'ratio', [scopeAgree / scopeCompared])
  if (scopeCompared)
    recorder.record(`edge_provenance_line_ok_${size}`, DSTACK, 'ratio', [provenanceOk / scopeCompared])

  const missing = [...truth].filter((t) => !got.has(t))
  const extra = [...got].filter((t) => !truth.has(t))
  const missingByKind: Record<string, number> = {}
  for (const edge of fleet.edges)
    if (!got.has(triple(edge.from, edge.to, edge.kind)))
      missingByKind[edge.kind] = (missingByKind[edge.kind] ?? 0) + 1

  const truthPackages = new Set(fleet.packages.map((p) => p.key))
  const gotPackages = new Set(key.values())
  const missingPackages = [...truthPackages].filter((k) => !gotPackages.has(k))
  const extraPackages = [...gotPackages].filter((k) => !truthPackages.has(k))
  const dangling = graph.problems.filter((p) => p.kind === 'dangling')
  const danglingFound = fleet.dangling.filter((d) =>
    dangling.some((p) => p.source.file === d.manifest || p.message.includes(d.spec.split('/').pop()!)),
  )
  const problemKinds: Record<string, number> = {}
  for (const p of graph.problems) problemKinds[p.kind] = (problemKinds[p.kind] ?? 0) + 1
  recorder.record(`dangling_reported_${size}`, DSTACK, 'ratio', [
    danglingFound.length / fleet.dangling.length,
  ])

  findings.push(
    `${size} repos: edges precision ${precision.toFixed(4)}, recall ${recall.toFixed(4)} (${tp}/${truth.size} truth, ` +
      `${got.size} found); packages ${gotPackages.size} found / ${truthPackages.size} truth ` +
      `(${missingPackages.length} missing, ${extraPackages.length} extra); dangling paths reported ` +
      `${danglingFound.length}/${fleet.dangling.length}; problems ${JSON.stringify(problemKinds)}`,
  )
  if (missing.length)
    findings.push(
      `  missing edges by kind ${JSON.stringify(missingByKind)}, e.g. ${missing.slice(0, 4).join('; ')}`,
    )
  if (extra.length) findings.push(`  extra edges, e.g. ${extra.slice(0, 4).join('; ')}`)
  if (missingPackages.length)
    findings.push(`  missing packages, e.g. ${missingPackages.slice(0, 4).join(', ')}`)
  if (extraPackages.length) findings.push(`  extra packages, e.g. ${extraPackages.slice(0, 4).join(', ')}`)
  if (badProvenance.length)
    findings.push(`  provenance lines not naming the target, e.g. ${badProvenance.join('; ')}`)
  details[`correctness_${size}`] = {
    truthEdges: truth.size,
    foundEdges: got.size,
    truePositives: tp,
    missingByKind,
    missingEdges: missing.slice(0, 50),
    extraEdges: extra.slice(0, 50),
    missingPackages: missingPackages.slice(0, 50),
    extraPackages: extraPackages.slice(0, 50),
    danglingExpected: fleet.dangling.length,
    danglingFound: danglingFound.length,
    problemKinds,
    badProvenance,
  }
}

interface ChangeSet {
  repos?: string[]
  files?: string[]
}

/** 100 seeded change sets: half 1-3 repositories, half 1-3 files (a source file, sometimes a manifest). */
function changeSets(fleet: Fleet, seed: number): ChangeSet[] {
  const rng = prng(seed)
  const sets: ChangeSet[] = []
  for (let i = 0; i < N.affectedSets; i++) {
    const count = 1 + Math.floor(rng() * 3)
    if (i % 2 === 0) {
      const repos = new Set<string>()
      while (repos.size < count) repos.add(fleet.repos[Math.floor(rng() * fleet.repos.length)]!.id)
      sets.push({ repos: [...repos] })
    } else {
      const files = new Set<string>()
      while (files.size < count) {
        const pkg = fleet.packages[Math.floor(rng() * fleet.packages.length)]!
        files.add(rng() < 0.2 ? pkg.manifest : pkg.sourceFile)
      }
      sets.push({ files: [...files] })
    }
  }
  return sets
}

function scoreAffected(size: Size, api: Api, graph: RepoGraph, fleet: Fleet): void {
  const key = keysOf(graph)
  const sets = changeSets(fleet, N.seed + size)
  const times: number[] = []
  let exact = 0
  let reposExact = 0
  let sizes = 0
  const mismatches: string[] = []
  for (const set of sets) {
    const t = performance.now()
    const result = api.affected(graph, set)
    times.push(performance.now() - t)
    const expected = truthAffected(fleet, changedPackages(fleet, set))
    sizes += expected.size
    const got = new Set(
      [...result.changed, ...result.packages.map((p) => p.id)].map((id) => key.get(id) ?? id),
    )
    const same = got.size === expected.size && [...got].every((k) => expected.has(k))
    if (same) exact++
    else if (mismatches.length < 5) {
      const lost = [...expected].filter((k) => !got.has(k))
      const added = [...got].filter((k) => !expected.has(k))
      mismatches.push(
        `${JSON.stringify(set).replaceAll(fleet.dir, '<fleet>')}: ${lost.length} missing (${lost.slice(0, 3).join(', ')}), ` +
          `${added.length} extra (${added.slice(0, 3).join(', ')})`,
      )
    }
    const expectedRepos = new Set([...expected].map((k) => fleet.packages.find((p) => p.key === k)!.repo))
    for (const repo of set.repos ?? []) expectedRepos.add(repo)
    if (result.repos.length === expectedRepos.size && result.repos.every((r) => expectedRepos.has(r)))
      reposExact++
  }
  recorder.record(`affected_query_${size}`, DSTACK, 'ms', times)
  recorder.record(`affected_exact_${size}`, DSTACK, 'ratio', [exact / sets.length])
  recorder.record(`affected_repos_exact_${size}`, DSTACK, 'ratio', [reposExact / sets.length])
  findings.push(
    `${size} repos: affected exact on ${exact}/${sets.length} change sets (repos exact ${reposExact}/${sets.length}); ` +
      `mean truth affected set ${(sizes / sets.length).toFixed(1)} packages`,
  )
  for (const m of mismatches) findings.push(`  affected mismatch ${m}`)
  details[`affected_${size}`] = { exact, reposExact, sets: sets.length, mismatches }
}

// ---------------------------------------------------------------------------------------------------------------
// Builds
// ---------------------------------------------------------------------------------------------------------------

async function benchBuilds(size: Size, api: Api, fleet: Fleet, work: string): Promise<RepoGraph | null> {
  const { buildGraph, discoverRepos } = api
  const roots = [fleet.dir]
  let graph: RepoGraph | null = null

  progress(`${size}: cold builds (no cache)`)
  await buildGraph({ roots, cacheFile: null }) // warm-up (JIT, page cache): the first build is timed in a child below
  const cold: number[] = []
  for (let i = 0; i < N.cold[size]; i++)
    cold.push(
      await timed(async () => {
        graph = await buildGraph({ roots, cacheFile: null })
      }),
    )
  recorder.record(`build_cold_${size}`, DSTACK, 'ms', cold)
  const built = graph as RepoGraph | null
  if (!built) return null
  {
    const discovery: number[] = []
    for (let i = 0; i < N.cold[size]; i++) discovery.push(await timed(async () => discoverRepos(roots)))
    recorder.record(`discover_only_${size}`, DSTACK, 'ms', discovery)
  }
  scoreGraph(size, built, fleet)
  scoreAffected(size, api, built, fleet)

  progress(`${size}: cold builds writing a fresh cache, warm and incremental builds`)
  const cacheFile = join(work, `cache-${size}.json`)
  const coldCache: number[] = []
  for (let i = 0; i < N.cold[size]; i++) {
    rmSync(cacheFile, { force: true })
    coldCache.push(await timed(() => buildGraph({ roots, cacheFile })))
  }
  recorder.record(`build_cold_fresh_cache_${size}`, DSTACK, 'ms', coldCache)
  if (!existsSync(cacheFile)) warn(`${size}: buildGraph with cacheFile wrote no ${cacheFile}`)
  else
    findings.push(
      `${size} repos: cache file ${(statSync(cacheFile).size / 1024 / 1024).toFixed(2)} MB for ${fleet.packages.length} packages`,
    )

  const warm: number[] = []
  for (let i = 0; i < N.warm[size]; i++) warm.push(await timed(() => buildGraph({ roots, cacheFile })))
  recorder.record(`build_warm_${size}`, DSTACK, 'ms', warm)

  const bumpable = fleet.packages.filter((p) => p.explicitVersion)
  const incremental: number[] = []
  const originals = new Map<string, string>()
  let seen = 0
  for (let i = 0; i < N.incremental[size]; i++) {
    const pkg = bumpable[Math.floor(((i + 0.5) * bumpable.length) / N.incremental[size])]!
    const version = `0.1.${i + 1}`
    originals.set(pkg.manifest, readFileSync(pkg.manifest, 'utf8'))
    bumpVersion(pkg.manifest, version)
    let after: RepoGraph | null = null
    incremental.push(
      await timed(async () => {
        after = await buildGraph({ roots, cacheFile })
      }),
    )
    const node = (after as RepoGraph | null)?.packages.find((p) => `${p.ecosystem}:${p.name}` === pkg.key)
    if (node?.version === version) seen++
  }
  recorder.record(`build_incremental_${size}`, DSTACK, 'ms', incremental)
  // Put the manifests back (the repositories' scripted git states are checked later) and refresh the cache.
  for (const [manifest, text] of originals) writeFileSync(manifest, text)
  await buildGraph({ roots, cacheFile })
  if (seen !== N.incremental[size])
    warn(`${size}: the incremental build showed the bumped version for ${seen}/${N.incremental[size]} edits`)

  progress(`${size}: builds in fresh processes`)
  const processCold: number[] = []
  const processWarm: number[] = []
  const inChild: number[] = []
  const rss: number[] = []
  for (let i = 0; i < N.processes[size]; i++) {
    const run = await buildInChild(roots, null)
    processCold.push(run.ms)
    inChild.push(run.report.buildMs)
    rss.push(run.report.maxRssKb / 1024)
  }
  for (let i = 0; i < N.processes[size]; i++) processWarm.push((await buildInChild(roots, cacheFile)).ms)
  recorder.record(`process_build_cold_${size}`, DSTACK_PROCESS, 'ms', processCold)
  recorder.record(`process_build_warm_${size}`, DSTACK_PROCESS, 'ms', processWarm)
  recorder.record(`build_cold_in_fresh_process_${size}`, DSTACK_PROCESS, 'ms', inChild)
  recorder.record(`peak_rss_build_${size}`, DSTACK_PROCESS, 'MB', rss)
  return built
}

async function benchNodeBaseline(): Promise<void> {
  const ms: number[] = []
  const rss: number[] = []
  for (let i = 0; i < N.nodeBaseline; i++) {
    const run = await runChild(process.execPath, ['-e', 'console.log(process.resourceUsage().maxRSS)'])
    ms.push(run.ms)
    rss.push(Number(run.stdout.trim()) / 1024)
  }
  recorder.record('process_node_baseline', NODE_BASELINE, 'ms', ms)
  recorder.record('peak_rss_node_baseline', NODE_BASELINE, 'MB', rss)
}

// ---------------------------------------------------------------------------------------------------------------
// Git state (RG-2)
// ---------------------------------------------------------------------------------------------------------------

async function benchGitState(api: Api, graph: RepoGraph, fleet: Fleet): Promise<void> {
  const { repoStates } = api
  const repos = graph.repos.slice(0, N.gitRepos)
  const sequential = async () => {
    for (const repo of repos) {
      await runProcess('git', ['-C', repo.root, 'status', '--porcelain=v2', '--branch'])
      await runProcess('git', [
        '-C',
        repo.root,
        'for-each-ref',
        '--format=%(refname:short) %(objectname) %(upstream:short) %(upstream:track) %(committerdate:iso8601)',
        'refs/heads',
      ])
    }
  }
  progress(`git state of ${repos.length} repos`)
  await sequential() // warm-up: the first status refreshes every index
  const loop: number[] = []
  const parallel: number[] = []
  const serial: number[] = []
  const states = await repoStates(repos)
  const scripted = new Map(fleet.repos.map((r) => [r.id, r.state]))
  let right = 0
  const wrong: string[] = []
  for (const state of states) {
    const script = scripted.get(state.repo)
    const ok =
      state.error === null &&
      (script === 'clean'
        ? !state.dirty && !state.detached && state.upstream === null
        : script === 'dirty'
          ? state.dirty && state.unstaged >= 1
          : script === 'untracked'
            ? state.dirty && state.untracked >= 1
            : script === 'upstream'
              ? state.upstream === 'origin/main' && state.ahead === 0 && state.behind === 0
              : script === 'ahead'
                ? state.ahead === 1 && state.behind === 0
                : script === 'behind'
                  ? state.behind === 1 && state.ahead === 0
                  : state.detached && state.branch === null)
    if (ok) right++
    else if (wrong.length < 5) wrong.push(`${state.repo} (${script}): ${JSON.stringify(state).slice(0, 300)}`)
  }
  recorder.record(`git_state_correct_${repos.length}`, DSTACK, 'ratio', [right / repos.length])
  findings.push(`git state: ${right}/${repos.length} repositories match their scripted state`)
  for (const w of wrong) findings.push(`  wrong state ${w}`)
  for (let i = 0; i < N.gitSamples; i++) {
    loop.push(await timed(sequential))
    parallel.push(await timed(() => repoStates(repos)))
    serial.push(await timed(() => repoStates(repos, { concurrency: 1 })))
  }
  recorder.record(`git_state_${repos.length}`, 'sequential git status + for-each-ref', 'ms', loop)
  recorder.record(`git_state_${repos.length}`, `${DSTACK} repoStates (default concurrency)`, 'ms', parallel)
  recorder.record(`git_state_${repos.length}`, `${DSTACK} repoStates (concurrency 1)`, 'ms', serial)
}

// ---------------------------------------------------------------------------------------------------------------
// Peers: Nx and Turborepo on the equivalent workspace
// ---------------------------------------------------------------------------------------------------------------

const NX = 'nx'
const TURBO_AFFECTED = 'turbo ls --affected'
const TURBO_FILTER = 'turbo ls --filter=...pkg'
const peerErrors: Record<string, string> = {}

/** Installs (or reuses) the pinned Nx and Turborepo; returns node_modules, or null with the error recorded. */
async function installPeers(): Promise<string | null> {
  const modules = join(PEER_CACHE, 'node_modules')
  const ready = () => existsSync(join(modules, '.bin', 'nx')) && existsSync(join(modules, '.bin', 'turbo'))
  if (ready()) return modules
  progress(`installing nx@${NX_VERSION} turbo@${TURBO_VERSION} into ${PEER_CACHE}`)
  const error = await installPinned(PEER_CACHE, { nx: NX_VERSION, turbo: TURBO_VERSION })
  if (error) {
    peerErrors.install = error
    return null
  }
  return ready() ? modules : null
}

const peerEnv = (): NodeJS.ProcessEnv => ({
  ...process.env,
  NX_DAEMON: 'false',
  NX_NO_CLOUD: 'true',
  NX_TUI: 'false',
  NX_SKIP_NX_CACHE: 'true',
  NX_INTERACTIVE: 'false',
  TURBO_TELEMETRY_DISABLED: '1',
  TURBO_NO_UPDATE_NOTIFIER: '1',
  DO_NOT_TRACK: '1',
  NO_COLOR: '1',
})

/** Runs a peer command in `cwd` (offline when possible); on an offline failure retries online once and says so. */
async function runPeer(series: string, cwd: string, command: string, args: string[], env: NodeJS.ProcessEnv) {
  const withCwd = ['-c', 'cd "$0" && exec "$@"', cwd, command, ...args]
  try {
    return await runChild('sh', withCwd, env)
  } catch (error) {
    if (!OFFLINE) throw error
    const message = (error as Error).message.slice(0, 2000)
    const online = await runProcess('sh', withCwd, env)
    peerErrors[`${series} (offline)`] ??= message
    warn(`${series} failed without network and was timed with it; its offline error is in the results`)
    return online
  }
}

/** The package whose change the peers are asked about: the 90th percentile of dependents in the DAG. */
function peerTarget(fleet: Fleet): { key: string; affected: Set<string> } {
  const dag: Fleet = { ...fleet, edges: fleet.edges.filter((e) => !e.closesCycle) }
  const ranked = fleet.packages
    .map((p) => ({ key: p.key, affected: truthAffected(dag, new Set([p.key])) }))
    .sort((a, b) => a.affected.size - b.affected.size || (a.key < b.key ? -1 : 1))
  return ranked[Math.floor(ranked.length * 0.9)]!
}

const sameSet = (a: Iterable<string>, b: Set<string>) => {
  const s = new Set(a)
  return s.size === b.size && [...s].every((x) => b.has(x))
}

async function benchPeers(size: Size, fleet: Fleet, work: string, modules: string | null) {
  const root = join(work, `equivalent-${size}`)
  const workspace = join(root, 'workspace')
  const eq: EquivalentWorkspace = await writeEquivalentWorkspace(workspace, fleet)
  const target = peerTarget(fleet)
  const name = eq.names.get(target.key)!
  const file = join(eq.dirs.get(target.key)!, 'index.js')
  const rel = relative(workspace, file)
  const expected = new Set([...target.affected].map((k) => eq.names.get(k)!))
  const info = {
    packages: eq.packages,
    edges: eq.edges,
    changedFile: rel,
    changedPackage: name,
    expectedAffected: expected.size,
    results: {} as Record<string, number | string>,
  }
  details[`peers_${size}`] = info
  findings.push(
    `${size}: equivalent workspace ${eq.packages} packages, ${eq.edges} workspace:* edges; change ${rel} → ` +
      `${expected.size} affected`,
  )

  interface Series {
    label: string
    /** The peer_affected metrics it is recorded under, with the series name used there. */
    record: Array<['cold' | 'warm', string]>
    /** Untimed, before each sample. */
    before?: () => Promise<void> | void
    run: () => Promise<{ ms: number; names: string[] | null }>
    /** Untimed, after each sample (also after a failure). */
    after?: () => void
  }
  const series: Series[] = []
  {
    const cacheFile = join(root, 'dstack-cache.json')
    await buildInChild([root], cacheFile) // the warm series' cache
    const dstack = (cache: string | null) => async () => {
      const run = await buildInChild([root], cache, file)
      return { ms: run.ms, names: run.report.affected }
    }
    // What a person types: the CLI (oclif, config, the parse cache in its own DSTACK_HOME).
    const cliEnv = { ...process.env, DSTACK_HOME: join(root, '.dstack-cli-home') }
    const cli = async () => {
      const args = [CLI, 'repos', 'affected', '--root', root, '--file', file, '--json']
      const run = await runChild(process.execPath, args, cliEnv)
      const out = JSON.parse(run.stdout) as { packages: Array<{ id: string }> }
      return { ms: run.ms, names: out.packages.map((p) => p.id.replace(/^npm:/, '')) }
    }
    await cli() // fills the CLI's parse cache, so its series is warm like dstack warm
    series.push(
      { label: `${DSTACK} cold`, record: [['cold', DSTACK_PROCESS]], run: dstack(null) },
      { label: `${DSTACK} warm`, record: [['warm', DSTACK_PROCESS]], run: dstack(cacheFile) },
      { label: 'dstack CLI', record: [['warm', 'dstack repos affected (CLI, warm cache)']], run: cli },
    )
  }
  const original = readFileSync(file, 'utf8')
  if (modules) {
    symlinkSync(modules, join(workspace, 'node_modules'))
    const env = peerEnv()
    const bin = (tool: string) => join(modules, '.bin', tool)
    const show = ['show', 'projects', '--affected', `--files=${rel}`]
    const nx = async () => {
      const run = await runPeer(NX, workspace, bin('nx'), show, env)
      const names = run.stdout
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l.startsWith('@eq/'))
      return { ms: run.ms, names }
    }
    const turbo = (args: string[], extra: NodeJS.ProcessEnv) => async () => {
      const run = await runPeer(args[1]!, workspace, bin('turbo'), args, { ...env, ...extra })
      const json = JSON.parse(run.stdout.slice(run.stdout.indexOf('{'))) as {
        packages: { items: Array<{ name: string }> }
      }
      return { ms: run.ms, names: json.packages.items.map((item) => item.name) }
    }
    // Turborepo keeps no package graph between runs (no daemon for ls), so one run is both its cold and warm.
    const turboSeries = (what: string) => `turbo ${TURBO_VERSION} ${what}`
    series.push(
      {
        label: `${NX} cold`,
        record: [['cold', `nx ${NX_VERSION} (after nx reset)`]],
        before: async () => {
          await runPeer(NX, workspace, bin('nx'), ['reset'], env)
        },
        run: nx,
      },
      { label: `${NX} warm`, record: [['warm', `nx ${NX_VERSION}`]], run: nx },
      {
        label: TURBO_AFFECTED,
        record: [
          ['cold', turboSeries('ls --affected')],
          ['warm', turboSeries('ls --affected')],
        ],
        before: () => writeFileSync(file, `${original}// changed\n`),
        run: turbo(['ls', '--affected', '--output=json'], { TURBO_SCM_BASE: 'HEAD' }),
        after: () => writeFileSync(file, original),
      },
      {
        label: TURBO_FILTER,
        record: [
          ['cold', turboSeries('ls --filter=...pkg')],
          ['warm', turboSeries('ls --filter=...pkg')],
        ],
        run: turbo(['ls', `--filter=...${name}`, '--output=json'], {}),
      },
    )
  }

  // Round robin (one sample of each series per round), so load from elsewhere on the machine hits all alike.
  progress(`${size}: ${series.map((s) => s.label).join(', ')} on the equivalent workspace`)
  const samples = new Map<Series, number[]>(series.map((s) => [s, []]))
  const exact = new Map<Series, number>(series.map((s) => [s, 0]))
  const failed = new Set<Series>()
  for (let i = 0; i < N.peers[size]; i++) {
    for (const s of series) {
      if (failed.has(s)) continue
      try {
        await s.before?.()
        const { ms, names } = await s.run()
        samples.get(s)!.push(ms)
        if (names && sameSet(names, expected)) exact.set(s, exact.get(s)! + 1)
        else if (names) {
          const got = new Set(names)
          const lost = [...expected].filter((n) => !got.has(n))
          const extra = names.filter((n) => !expected.has(n))
          warn(
            `${size}: ${s.label} sample ${i + 1} answered ${names.length} packages, the truth is ${expected.size} ` +
              `(missing ${lost.slice(0, 5).join(', ')}${extra.length ? `; extra ${extra.slice(0, 5).join(', ')}` : ''})`,
          )
        }
      } catch (error) {
        failed.add(s)
        peerErrors[`${s.label} ${size}`] = (error as Error).message.slice(0, 2000)
        warn(`${size}: ${s.label} failed: ${(error as Error).message.split('\n')[0]}`)
      } finally {
        s.after?.()
      }
    }
  }
  writeFileSync(file, original)
  for (const s of series) {
    const ms = samples.get(s)!
    info.results[s.label] = failed.has(s) ? 'failed' : `${exact.get(s)}/${ms.length} exact`
    if (failed.has(s) || ms.length === 0) continue
    for (const [phase, seriesName] of s.record)
      recorder.record(`peer_affected_${phase}_${size}`, seriesName, 'ms', ms)
    recorder.record(`peer_affected_exact_${size}`, s.label, 'ratio', [exact.get(s)! / ms.length])
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------------------------

function computeRatios(): Record<string, number> {
  const ratios: Record<string, number> = {}
  const put = (name: string, value: number | undefined) => {
    if (value !== undefined && Number.isFinite(value)) ratios[name] = round(value)
  }
  for (const size of SIZES) {
    put(
      `build_${size}.cold_vs_warm`,
      recorder.ratio([`build_cold_${size}`, DSTACK], [`build_warm_${size}`, DSTACK]),
    )
    put(
      `build_${size}.cold_fresh_cache_vs_cold`,
      recorder.ratio([`build_cold_fresh_cache_${size}`, DSTACK], [`build_cold_${size}`, DSTACK]),
    )
    put(
      `build_${size}.incremental_vs_warm`,
      recorder.ratio([`build_incremental_${size}`, DSTACK], [`build_warm_${size}`, DSTACK]),
    )
    put(
      `process_build_cold_${size}.vs_node_baseline`,
      recorder.ratio(
        [`process_build_cold_${size}`, DSTACK_PROCESS],
        ['process_node_baseline', NODE_BASELINE],
      ),
    )
    for (const phase of ['cold', 'warm'] as const) {
      const metric = `peer_affected_${phase}_${size}`
      for (const r of recorder.results.filter((x) => x.metric === metric && x.series !== DSTACK_PROCESS))
        put(
          `${metric}.${r.series.split(' ')[0]}${r.series.includes('filter') ? '-filter' : ''}_vs_dstack`,
          recorder.ratio([metric, r.series], [metric, DSTACK_PROCESS]),
        )
    }
  }
  put('build_cold.1000_vs_200', recorder.ratio(['build_cold_1000', DSTACK], ['build_cold_200', DSTACK]))
  put('build_warm.1000_vs_200', recorder.ratio(['build_warm_1000', DSTACK], ['build_warm_200', DSTACK]))
  for (const series of [`${DSTACK} repoStates (default concurrency)`, `${DSTACK} repoStates (concurrency 1)`])
    put(
      `git_state_${N.gitRepos}.sequential_vs_${series.includes('1)') ? 'repoStates_c1' : 'repoStates'}`,
      recorder.ratio(
        [`git_state_${N.gitRepos}`, 'sequential git status + for-each-ref'],
        [`git_state_${N.gitRepos}`, series],
      ),
    )
  return ratios
}

/** Median of a ratio-unit result as a plain number; times as the harness cell. */
const value = (r: Result) => (r.unit === 'ratio' ? r.median.toFixed(4) : cell(r))

function versus(r: Result): string {
  if (r.metric.startsWith('peer_affected_') && r.series !== DSTACK_PROCESS) {
    const ratio = recorder.ratio([r.metric, r.series], [r.metric, DSTACK_PROCESS])
    return ratio === undefined ? '-' : `${formatNumber(ratio)}× dstack`
  }
  if (r.metric.startsWith('git_state_') && r.unit === 'ms' && !r.series.startsWith('sequential')) {
    const ratio = recorder.ratio([r.metric, 'sequential git status + for-each-ref'], [r.metric, r.series])
    return ratio === undefined ? '-' : `sequential ÷ this ${formatNumber(ratio)}×`
  }
  if (r.metric.startsWith('process_build_cold_')) {
    const ratio = recorder.ratio([r.metric, r.series], ['process_node_baseline', NODE_BASELINE])
    return ratio === undefined ? '-' : `${formatNumber(ratio)}× node -e`
  }
  const warm = /^build_(cold|cold_fresh_cache|incremental)_(\d+)$/.exec(r.metric)
  if (warm) {
    const ratio = recorder.ratio([r.metric, r.series], [`build_warm_${warm[2]}`, DSTACK])
    return ratio === undefined ? '-' : `${formatNumber(ratio)}× warm`
  }
  return '-'
}

function table(): string {
  const rows = recorder.results.map((r) => [r.metric, r.series, r.unit, value(r), versus(r)])
  return renderTable(['metric', 'series', 'unit', 'median (p95, min, n)', 'vs'], rows)
}

// ---------------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const startedAt = new Date()
  const work = mkdtempSync(join(tmpdir(), 'dstack-repo-graph-bench-'))
  progress(`work dir ${work}; offline child processes: ${OFFLINE}`)
  try {
    const modules = await installPeers()
    await benchNodeBaseline()
    for (const size of SIZES) {
      progress(`${size}: generating the fleet`)
      const fleet = await generateFleet(join(work, `fleet-${size}`), { repos: size, seed: N.seed + size })
      recorder.record(`fleet_generate_${size}`, 'bench/fleet.ts', 'ms', [
        fleet.timings.files + fleet.timings.git,
      ])
      const kinds: Record<string, number> = {}
      for (const e of fleet.edges) kinds[e.kind] = (kinds[e.kind] ?? 0) + 1
      details[`fleet_${size}`] = {
        seed: fleet.seed,
        repos: fleet.repos.length,
        packages: fleet.packages.length,
        edges: fleet.edges.length,
        edgeKinds: kinds,
        cycles: fleet.cycles,
        dangling: fleet.dangling.length,
        timingsMs: { files: round(fleet.timings.files, 1), git: round(fleet.timings.git, 1) },
      }
      findings.push(
        `${size}: fleet of ${fleet.repos.length} repos, ${fleet.packages.length} packages, ${fleet.edges.length} ` +
          `truth edges ${JSON.stringify(kinds)}, ${fleet.cycles.length} cycles, ${fleet.dangling.length} dangling paths; ` +
          `generated in ${((fleet.timings.files + fleet.timings.git) / 1000).toFixed(1)} s`,
      )
      const graph = await benchBuilds(size, api, fleet, work)
      if (size === N.gitRepos && graph) await benchGitState(api, graph, fleet)
      await benchPeers(size, fleet, work, modules)
      if (process.env.REPO_GRAPH_BENCH_KEEP !== '1') rmSync(fleet.dir, { recursive: true, force: true })
    }
  } finally {
    // REPO_GRAPH_BENCH_KEEP=1 leaves the fleets and workspaces for inspection.
    if (process.env.REPO_GRAPH_BENCH_KEEP === '1') progress(`kept ${work}`)
    else rmSync(work, { recursive: true, force: true })
  }

  const ratios = computeRatios()
  console.log(table())
  console.log(
    `\nBuilds: buildGraph({ roots: [fleet], cacheFile }) in this process after one unrecorded ` +
      `build (cold = cacheFile null; fresh cache = the ` +
      `file deleted before each; warm = cache present, nothing changed; incremental = one manifest's version bumped ` +
      `before each). "dstack (node process)" = node bench/build-child.ts, spawn → exit, ${OFFLINE ? 'under unshare -n (no network)' : 'with network'}; ` +
      `peak RSS = its process.resourceUsage().maxRSS. affected_query = affected() on the built graph, in-process, ` +
      `${N.affectedSets} seeded change sets. Peers: "what does changing one file affect" in a fresh process on the ` +
      `equivalent single pnpm workspace; nx ${NX_VERSION} (NX_DAEMON=false, NX_NO_CLOUD=true; cold = after nx reset), ` +
      `turbo ${TURBO_VERSION} (no daemon in ls; cold = warm), dstack = buildGraph + affected (cold = no cache, warm = ` +
      `its cache file); one sample of each per round, ${N.peers[1000]} rounds at 1,000. "N× dstack" = peer median ÷ ` +
      `dstack median; peer_affected_exact = samples whose answer equals the truth. Other work on this machine ` +
      `during the run adds noise to every timing; compare series within a run.`,
  )
  console.log('')
  for (const line of findings) console.log(line)
  for (const [what, error] of Object.entries(peerErrors)) console.log(`PEER ERROR ${what}: ${error}`)
  for (const warning of warnings) console.log(`WARNING: ${warning}`)
  const file = writeResults('repo-graph', startedAt, recorder.results, ratios, {
    ...details,
    peers: { nx: NX_VERSION, turbo: TURBO_VERSION, cache: PEER_CACHE, offline: OFFLINE, errors: peerErrors },
    warnings,
    findings,
    totalSeconds: round((performance.now() - started) / 1000, 1),
  })
  console.log(`\nresults: ${file} (${((performance.now() - started) / 1000).toFixed(0)} s)`)
}

await main()

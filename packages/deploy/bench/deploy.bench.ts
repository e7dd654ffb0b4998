// Benchmarks @dstack/deploy on a real service (test/support/fleet.ts: a git repository, `sh build.sh`, the process
// driver, a health check on a free port), a real Caddy (test/support/caddy.ts) and a real sshd on loopback
// (test/support/sshd.ts), in one run:
//   1. requests failed during good deploys under steady load: an open-loop generator in this process (node:http,
//      keep-alive Agent, a fixed rate of GET /) running across N consecutive good deploys, for
//        (a) dstack through Caddy (the recommended setup: lb_try_duration 5s holds requests while the upstream
//            restarts), (b) dstack, clients straight to the service port (a plain restart),
//        (c) a naive shell deploy straight to the port (build, `cp -r dist releases/x`, kill the old process and
//            wait for it to exit, start the new one; no health gate), and (d) the same naive deploy behind the same
//            Caddy (what Caddy alone buys);
//      total requests, non-2xx and connection errors (by kind, and the deploy step running when each was sent),
//      p50/p99 latency of the requests sent during the deploy windows against the same variant's steady state, and
//      the upstream's own gap (GET /health on the service port every 20 ms, fresh connections) per deploy;
//   2. a bad release ('unhealthy', 'hang', 'crash') deployed over a good one, M times each: detect (the restart
//      step's end → the end of the failing step; for 'crash' the failing step is the restart itself, so its own
//      duration), restore (the rollback steps' durations), failure → the previous version answering /health again
//      (a poll every 20 ms on a fresh connection) and the whole outage, against the health check's worst-case budget
//      ((retries+1) × timeout_ms + the backoff sleeps) and the goal of serving again ≤ 5 s after the check gives up;
//   3. deploy wall time by step (lock, build, upload, env, switch, restart, health, prune, record, unlock), mean and
//      p95 over N good deploys to the local target and to the SSH target (127.0.0.1 through sshd), and the total;
//      baselines in the same run: `node -e 0`, `sh -c true` (every local step spawns at least one sh), and
//      `ssh … true` over a fresh connection and over a shared ControlMaster (every SSH step is one such command);
//   4. plan time: prepareDeploy (resolve, inspect the target, plan; changes nothing) on both targets, each sample
//      with a fresh SSH connection as a CLI run would have.
// Every service, Caddy and sshd started here is stopped in a finally (and on SIGINT/SIGTERM); the run ends by
// checking /proc for anything left behind.
// Run from packages/deploy: `pnpm bench` or `node bench/deploy.bench.ts` (about 3 minutes on 2 cores); writes
// <repo>/bench/results/deploy-<time>.json. Sizes (DSTACK_BENCH_* passes through turbo): DSTACK_BENCH_DEPLOY_N (good
// deploys per target, 10), DSTACK_BENCH_DEPLOY_LOAD_N (deploys under load per variant, 5),
// DSTACK_BENCH_DEPLOY_RATE (requests/s, 200), DSTACK_BENCH_DEPLOY_BAD_N (bad deploys per mode, 3),
// DSTACK_BENCH_DEPLOY_PLANS (plans per target, 10), DSTACK_BENCH_DEPLOY_ONLY (comma list of load,bad,steps,plan),
// DSTACK_BENCH_DEPLOY_KEEP=1 keeps the temp dirs.

import { readFileSync, readlinkSync, writeFileSync } from 'node:fs'
import { Agent, get as httpGet, type IncomingMessage } from 'node:http'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { cleanup as removeTempDirs, tempDir } from '@dstack/git/testing'
import {
  formatNumber,
  percentile,
  Recorder,
  type Result,
  renderTable,
  runProcess,
  writeResults,
} from '../../../bench/harness.ts'
import { closeAll, type DeployReport, formatReport, runPrepared, type StepRun } from '../src/index.ts'
import { type Caddy, caddyfileFor, startCaddy } from '../test/support/caddy.ts'
import { type Fleet, makeFleet } from '../test/support/fleet.ts'
import { processes, terminate } from '../test/support/processes.ts'
import { NODE_BIN, type ServiceMode } from '../test/support/service.ts'
import { type Sshd, sshOptions, startSshd } from '../test/support/sshd.ts'

// ---------------------------------------------------------------------------------------------------------------
// Sizes
// ---------------------------------------------------------------------------------------------------------------

const envInt = (name: string, fallback: number) => {
  const value = Number(process.env[name])
  return Number.isInteger(value) && value > 0 ? value : fallback
}
const N = {
  /** Good deploys per target for the step breakdown (after one unrecorded first deploy). */
  deploys: envInt('DSTACK_BENCH_DEPLOY_N', 10),
  /** Consecutive good deploys under load, per variant. */
  loadDeploys: envInt('DSTACK_BENCH_DEPLOY_LOAD_N', 5),
  rate: envInt('DSTACK_BENCH_DEPLOY_RATE', 200),
  /** Bad deploys per mode. */
  bad: envInt('DSTACK_BENCH_DEPLOY_BAD_N', 3),
  plans: envInt('DSTACK_BENCH_DEPLOY_PLANS', 10),
  nodeFloor: 5,
  shFloor: 10,
  sshFresh: 5,
  sshMux: 10,
}
const PARTS = ['load', 'bad', 'steps', 'plan'] as const
type Part = (typeof PARTS)[number]
const ONLY = new Set<Part>(
  (process.env.DSTACK_BENCH_DEPLOY_ONLY ?? PARTS.join(','))
    .split(',')
    .map((p) => p.trim() as Part)
    .filter((p) => PARTS.includes(p)),
)
const KEEP = process.env.DSTACK_BENCH_DEPLOY_KEEP === '1'
/** Steady load before the first deploy and between deploys (the steady-state latency baseline). */
const LOAD_GAP_MS = 1000
const REQUEST_TIMEOUT_MS = 10_000
const POLL_MS = 20
const RESTORE_GOAL_MS = 5000
const BAD_MODES: Exclude<ServiceMode, 'ok'>[] = ['unhealthy', 'hang', 'crash']

const V = {
  caddy: 'dstack + Caddy',
  direct: 'dstack, direct to port',
  naive: 'naive sh, direct to port',
  naiveCaddy: 'naive sh + Caddy',
} as const
const LOCAL = 'local'
const SSH = 'ssh (127.0.0.1 via sshd)'
const STEPS = ['lock', 'build', 'upload', 'env', 'switch', 'restart', 'health', 'prune', 'record', 'unlock']

const recorder = new Recorder()
const started = performance.now()
const progress = (message: string) =>
  console.error(`[deploy bench ${((performance.now() - started) / 1000).toFixed(0)}s] ${message}`)
const warnings: string[] = []
const warn = (message: string) => {
  warnings.push(message)
  console.error(`[deploy bench] WARNING: ${message}`)
}
const findings: string[] = []
/** Extra facts for the results JSON (added after writeResults). */
const details: Record<string, unknown> = {}
const round = (value: number, digits = 4) => Number(value.toFixed(digits))
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length

// ---------------------------------------------------------------------------------------------------------------
// Processes to stop whatever happens
// ---------------------------------------------------------------------------------------------------------------

const cleanups: Array<{ what: string; run: () => Promise<void> }> = []
const onCleanup = (what: string, run: () => Promise<void>) => cleanups.push({ what, run })
/** Directories whose processes (by cwd) must be gone at the end. */
const watched: string[] = []

async function cleanupAll(): Promise<void> {
  for (const { what, run } of cleanups.splice(0).reverse()) {
    try {
      await run()
    } catch (error) {
      warn(`cleanup of ${what} failed: ${(error as Error).message}`)
    }
  }
}

// `on`, not `once`: runCommand's own signal hook re-raises the signal (killing this process before the cleanup
// ran) when it is the only listener left.
let interrupted = false
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, () => {
    if (interrupted) return
    interrupted = true
    console.error(`[deploy bench] ${signal}: stopping everything it started`)
    void cleanupAll()
      .then(() => {
        const left = leftovers()
        if (left.length > 0) console.error(`[deploy bench] still running: ${left.join('; ')}`)
        if (!KEEP) removeTempDirs()
      })
      .finally(() => process.exit(130))
  })

/** Live processes whose working directory is inside one of `watched` (services left running). */
function leftovers(): string[] {
  const found: string[] = []
  for (const p of processes()) {
    if (p.state === 'Z' || p.pid === process.pid) continue
    let cwd: string
    try {
      cwd = readlinkSync(`/proc/${p.pid}/cwd`)
    } catch {
      continue
    }
    if (watched.some((dir) => cwd === dir || cwd.startsWith(`${dir}/`)))
      found.push(`${p.comm} pid ${p.pid} in ${cwd}`)
  }
  return found
}

async function fleetOf(extra: Record<string, unknown> = {}): Promise<Fleet> {
  const fleet = await makeFleet(extra)
  watched.push(fleet.dir)
  onCleanup(`the service of ${fleet.dir}`, () => fleet.stop())
  return fleet
}

// ---------------------------------------------------------------------------------------------------------------
// A deploy with its step timeline
// ---------------------------------------------------------------------------------------------------------------

interface Mark {
  id: string
  phase: 'steps' | 'rollback' | 'finish'
  start: number
  end: number
  status: StepRun['status'] | null
}

interface Timed {
  start: number
  /** prepareDeploy done. */
  planned: number
  end: number
  report: DeployReport
  marks: Mark[]
}

let versions = 0
/** Commits a new version of the service (untimed: three git commands, synchronous). */
async function bump(fleet: Fleet, mode: ServiceMode = 'ok'): Promise<string> {
  const version = `2.0.${++versions}`
  await fleet.repo.setVersion(version, mode)
  return version
}

async function timedDeploy(fleet: Fleet, onFailed?: (at: number, run: StepRun) => void): Promise<Timed> {
  const marks: Mark[] = []
  const start = performance.now()
  const prepared = await fleet.prepare()
  const planned = performance.now()
  const [report] = await runPrepared(prepared, {
    onStart: (step, phase) =>
      marks.push({ id: step.id, phase, start: performance.now(), end: 0, status: null }),
    onStep: (run, phase) => {
      const at = performance.now()
      const mark = marks.findLast((m) => m.id === run.id && m.phase === phase)
      if (mark) Object.assign(mark, { end: at, status: run.status })
      if (run.status === 'failed' && phase === 'steps') onFailed?.(at, run)
    },
  })
  return { start, planned, end: performance.now(), report: report!, marks }
}

/** Deploys and insists on `deployed` (the good deploys every measurement stands on). */
async function goodDeploy(fleet: Fleet, what: string): Promise<Timed> {
  const run = await timedDeploy(fleet)
  if (run.report.outcome !== 'deployed')
    throw new Error(`${what}: the deploy ended ${run.report.outcome}:\n${formatReport(run.report)}`)
  return run
}

/** The step a moment falls in (`between steps` in the gaps, `plan` before the first). */
function stepAt(run: { start: number; planned: number; end: number; marks: Mark[] }, at: number): string {
  if (at < run.planned) return 'plan'
  const mark = run.marks.find((m) => m.start <= at && at <= (m.end || run.end))
  return mark ? (mark.phase === 'steps' ? mark.id : `${mark.phase}:${mark.id}`) : 'between steps'
}

// ---------------------------------------------------------------------------------------------------------------
// Baselines
// ---------------------------------------------------------------------------------------------------------------

async function benchBaselines(sshd: Sshd | null, work: string): Promise<void> {
  progress('baselines: node -e 0, sh -c true, ssh true (fresh and ControlMaster)')
  const node: number[] = []
  for (let i = 0; i < N.nodeFloor; i++) node.push((await runProcess(process.execPath, ['-e', '0'])).ms)
  recorder.record('baseline_process', 'node -e 0', 'ms', node)
  const sh: number[] = []
  for (let i = 0; i < N.shFloor; i++) sh.push((await runProcess('sh', ['-c', 'true'])).ms)
  recorder.record('baseline_process', 'sh -c true', 'ms', sh)
  if (!sshd) return
  const destination = `${sshd.user}@${sshd.host}`
  const fresh: number[] = []
  for (let i = 0; i < N.sshFresh; i++)
    fresh.push((await runProcess('ssh', [...sshOptions(sshd), destination, '--', 'true'])).ms)
  recorder.record('baseline_ssh_true', 'fresh connection', 'ms', fresh)
  const control = ['-o', 'ControlMaster=auto', '-o', `ControlPath=${work}/cm-%C`, '-o', 'ControlPersist=60']
  const master = [...control, ...sshOptions(sshd), destination]
  try {
    await runProcess('ssh', [...master, '--', 'true']) // opens the master
    const mux: number[] = []
    for (let i = 0; i < N.sshMux; i++) mux.push((await runProcess('ssh', [...master, '--', 'true'])).ms)
    recorder.record('baseline_ssh_true', 'over a ControlMaster', 'ms', mux)
  } finally {
    await runProcess('ssh', [...control, ...sshOptions(sshd), '-O', 'exit', destination]).catch(
      () => undefined,
    )
  }
}

// ---------------------------------------------------------------------------------------------------------------
// 3 + 4. Steps and plans
// ---------------------------------------------------------------------------------------------------------------

const stepName = (id: string) => (id.startsWith('build-') ? 'build' : id)
const stepMeans: Record<string, Record<string, { mean: number; p95: number; n: number }>> = {}

async function benchSteps(fleet: Fleet, series: string): Promise<void> {
  progress(`${series}: first deploy (unrecorded), then ${N.deploys} good deploys`)
  await goodDeploy(fleet, `${series} first deploy`)
  const samples = new Map<string, number[]>()
  const add = (name: string, value: number) => samples.set(name, [...(samples.get(name) ?? []), value])
  for (let i = 0; i < N.deploys; i++) {
    await bump(fleet)
    const run = await goodDeploy(fleet, `${series} deploy ${i + 1}`)
    const byStep = new Map<string, number>()
    for (const s of [...run.report.steps, ...run.report.finish])
      byStep.set(stepName(s.id), (byStep.get(stepName(s.id)) ?? 0) + s.durationMs)
    for (const [name, value] of byStep) add(name, value)
    const stepSum = [...byStep.values()].reduce((a, b) => a + b, 0)
    add('plan', run.planned - run.start)
    add('run_total', run.report.durationMs)
    add('between_steps', Math.max(0, run.report.durationMs - stepSum))
    add('plan_and_run_wall', run.end - run.start)
  }
  const table: Record<string, { mean: number; p95: number; n: number }> = {}
  for (const [name, values] of samples) {
    recorder.record(`deploy_step_${name}`, series, 'ms', values)
    table[name] = { mean: round(mean(values), 1), p95: round(percentile(values, 95), 1), n: values.length }
  }
  stepMeans[series] = table
}

async function benchPlans(fleets: Array<[string, Fleet]>): Promise<void> {
  progress(`plans: prepareDeploy × ${N.plans} per target (round robin)`)
  const samples = new Map<string, number[]>(fleets.map(([s]) => [s, []]))
  for (let i = 0; i < N.plans; i++)
    for (const [series, fleet] of fleets) {
      const t = performance.now()
      const prepared = await fleet.prepare()
      samples.get(series)!.push(performance.now() - t)
      await closeAll(prepared) // an SSH target's master closes: the next plan connects afresh, as a CLI run would
    }
  for (const [series, values] of samples) recorder.record('plan', series, 'ms', values)
}

// ---------------------------------------------------------------------------------------------------------------
// 1. Load
// ---------------------------------------------------------------------------------------------------------------

interface Sample {
  start: number
  end: number
  status: number
  /** Connection error code, or `HTTP <status>`; null for a 2xx. */
  failure: string | null
}

/** An open-loop generator: `rate` GETs per second on a keep-alive Agent, whatever the answers take. */
class LoadGenerator {
  readonly samples: Sample[] = []
  readonly url: string
  readonly rate: number
  readonly agent = new Agent({ keepAlive: true })
  #timer: NodeJS.Timeout | undefined
  #t0 = 0
  #issued = 0
  readonly #inFlight = new Set<Promise<void>>()

  constructor(url: string, rate: number) {
    this.url = url
    this.rate = rate
  }

  start(): void {
    this.#t0 = performance.now()
    this.#timer = setInterval(() => {
      const due = Math.floor(((performance.now() - this.#t0) * this.rate) / 1000)
      while (this.#issued < due) {
        this.#issued++
        this.#fire()
      }
    }, 2)
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer)
    await Promise.all(this.#inFlight)
    this.agent.destroy()
  }

  #fire(): void {
    const start = performance.now()
    const done = new Promise<void>((resolve) => {
      let finished = false
      const finish = (status: number, failure: string | null) => {
        if (finished) return
        finished = true
        this.samples.push({ start, end: performance.now(), status, failure })
        resolve()
      }
      const request = httpGet(this.url, { agent: this.agent }, (response: IncomingMessage) => {
        const status = response.statusCode ?? 0
        response.resume()
        response.once('end', () => finish(status, status >= 200 && status < 300 ? null : `HTTP ${status}`))
        response.once('error', (e: NodeJS.ErrnoException) => finish(status, e.code ?? e.message))
      })
      request.setTimeout(REQUEST_TIMEOUT_MS, () =>
        request.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })),
      )
      request.once('error', (e: NodeJS.ErrnoException) => finish(0, e.code ?? e.message))
      request.once('close', () => finish(0, 'closed without an answer'))
    })
    this.#inFlight.add(done)
    void done.finally(() => this.#inFlight.delete(done))
  }
}

interface Window {
  start: number
  planned: number
  end: number
  marks: Mark[]
}

const loadDetails: Record<string, unknown> = {}

/** The longest run of failed polls in [from, to]: the last good answer before it → the first good one after. */
function longestGap(polls: Poll[], from: number, to: number): number {
  let longest = 0
  let lastOk: number | null = null
  let failing = false
  for (const p of polls) {
    if (p.start < from || p.start > to) continue
    if (!p.ok) failing = true
    else {
      if (failing && lastOk !== null) longest = Math.max(longest, p.end - lastOk)
      failing = false
      lastOk = p.end
    }
  }
  return longest
}

async function underLoad(
  variant: string,
  url: string,
  upstreamPort: number,
  deployOnce: (i: number) => Promise<Window>,
  before: () => Promise<void>,
): Promise<void> {
  progress(`load: ${variant}: ${N.loadDeploys} deploys at ${N.rate} req/s on ${url}`)
  const load = new LoadGenerator(url, N.rate)
  const windows: Window[] = []
  // The upstream itself, polled beside the load: how long it did not answer during each deploy.
  const upstream = healthPoller(upstreamPort, (answer) => answer?.startsWith('200 ') ?? false)
  load.start()
  try {
    await sleep(LOAD_GAP_MS)
    for (let i = 0; i < N.loadDeploys; i++) {
      await before()
      windows.push(await deployOnce(i))
      await sleep(LOAD_GAP_MS)
    }
  } finally {
    await load.stop()
    await upstream.stop()
  }
  const upstreamGaps = windows.map((w) =>
    longestGap(upstream.polls, w.start - LOAD_GAP_MS / 2, w.end + LOAD_GAP_MS / 2),
  )
  recorder.record('load_upstream_gap', variant, 'ms', upstreamGaps)
  const windowOf = (at: number) => windows.findIndex((w) => w.start <= at && at <= w.end)
  const inWindow = load.samples.filter((s) => windowOf(s.start) >= 0)
  const steady = load.samples.filter((s) => windowOf(s.start) < 0)
  const failed = load.samples.filter((s) => s.failure !== null)
  const kinds: Record<string, number> = {}
  const byStep: Record<string, number> = {}
  const perDeploy = windows.map(() => 0)
  let outside = 0
  const examples: string[] = []
  for (const s of failed) {
    kinds[s.failure!] = (kinds[s.failure!] ?? 0) + 1
    const w = windowOf(s.start)
    if (w < 0) {
      outside++
      byStep['outside the deploys'] = (byStep['outside the deploys'] ?? 0) + 1
      continue
    }
    perDeploy[w]!++
    const step = stepAt(windows[w]!, s.start)
    byStep[step] = (byStep[step] ?? 0) + 1
    if (examples.length < 8)
      examples.push(
        `deploy ${w + 1} +${Math.round(s.start - windows[w]!.start)} ms (in ${step}): ${s.failure} after ${Math.round(s.end - s.start)} ms`,
      )
  }
  // The slowest answered requests: when each was sent and when it was answered, by the step running then.
  const slowest = inWindow
    .filter((s) => s.failure === null)
    .sort((a, b) => b.end - b.start - (a.end - a.start))
    .slice(0, 5)
    .map((s) => {
      const w = windows[windowOf(s.start)]!
      return `deploy ${windows.indexOf(w) + 1}: ${Math.round(s.end - s.start)} ms, sent +${Math.round(s.start - w.start)} ms (${stepAt(w, s.start)}), answered +${Math.round(s.end - w.start)} ms (${stepAt(w, s.end)})`
    })
  const latency = (xs: Sample[]) => xs.filter((s) => s.failure === null).map((s) => s.end - s.start)
  recorder.record('load_requests', variant, 'count', [load.samples.length])
  recorder.record('load_failed', variant, 'count', [failed.length])
  recorder.record('load_failed_per_deploy', variant, 'count', perDeploy)
  const windowLatency = latency(inWindow)
  const steadyLatency = latency(steady)
  if (windowLatency.length > 0) {
    recorder.record('load_latency_deploy', variant, 'ms', windowLatency)
    recorder.record('load_latency_deploy_p99', variant, 'ms', [percentile(windowLatency, 99)])
  }
  if (steadyLatency.length > 0) {
    recorder.record('load_latency_steady', variant, 'ms', steadyLatency)
    recorder.record('load_latency_steady_p99', variant, 'ms', [percentile(steadyLatency, 99)])
  }
  recorder.record(
    'load_deploy_time',
    variant,
    'ms',
    windows.map((w) => w.end - w.start),
  )
  loadDetails[variant] = {
    url,
    requests: load.samples.length,
    requestsInDeployWindows: inWindow.length,
    failed: failed.length,
    failedOutsideDeploys: outside,
    failedPerDeploy: perDeploy,
    upstreamGapMsPerDeploy: upstreamGaps.map((g) => round(g, 1)),
    slowestAnswerMsPerDeploy: windows.map((w) =>
      round(
        Math.max(
          0,
          ...load.samples
            .filter((s) => s.failure === null && s.start >= w.start && s.start <= w.end)
            .map((s) => s.end - s.start),
        ),
        1,
      ),
    ),
    failureKinds: kinds,
    failuresByStepWhenSent: byStep,
    examples,
    slowest,
    stepsOfFirstDeploy: windows[0]?.marks.map(
      (m) =>
        `${m.phase === 'steps' ? '' : `${m.phase}:`}${m.id} +${Math.round(m.start - windows[0]!.start)}…+${Math.round((m.end || windows[0]!.end) - windows[0]!.start)} ms`,
    ),
    latencyMs: {
      deployP50: windowLatency.length ? round(percentile(windowLatency, 50), 2) : null,
      deployP99: windowLatency.length ? round(percentile(windowLatency, 99), 2) : null,
      deployMax: windowLatency.length ? round(Math.max(...windowLatency), 2) : null,
      steadyP50: steadyLatency.length ? round(percentile(steadyLatency, 50), 2) : null,
      steadyP99: steadyLatency.length ? round(percentile(steadyLatency, 99), 2) : null,
    },
  }
  if (failed.length > 0)
    findings.push(
      `${variant}: ${failed.length} of ${load.samples.length} requests failed (${JSON.stringify(kinds)}; by the step ` +
        `running when sent: ${JSON.stringify(byStep)}); first: ${examples.slice(0, 3).join('; ')}`,
    )
}

/** (c)/(d): build, copy the release, stop the old process (SIGTERM, wait for it to exit), start the new one. */
const NAIVE = `set -eu
repo=$1 root=$2 port=$3 node=$4
alive() { [ -e "/proc/$1" ] && ! sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | grep -q '^Z'; }
cd "$repo" && sh build.sh >/dev/null
mkdir -p "$root/releases"
rel="$root/releases/$(date +%s%N)"
cp -r "$repo/dist" "$rel"
if [ -f "$root/pid" ]; then
  old=$(cat "$root/pid")
  kill "$old" 2>/dev/null || true
  n=0; while alive "$old" && [ "$n" -lt 200 ]; do sleep 0.05; n=$((n + 1)); done
fi
cd "$rel"
PORT=$port setsid "$node" server.mjs >>"$root/service.log" 2>&1 </dev/null &
echo $! >"$root/pid"`

async function benchLoad(caddy: Caddy): Promise<void> {
  // (a) dstack through Caddy.
  const viaCaddy = `http://127.0.0.1:${caddy.httpPort}/`
  {
    const fleet = await fleetOf({
      build: ['sh build.sh', 'cp Caddyfile dist/Caddyfile'],
      caddy: { admin: caddy.adminUrl, config: 'Caddyfile' },
    })
    writeFileSync(
      join(fleet.repo.root, 'Caddyfile'),
      caddyfileFor(caddy.httpPort, fleet.port, caddy.adminPort),
    )
    await fleet.repo.setVersion('1.0.0')
    await goodDeploy(fleet, `${V.caddy} first deploy`)
    await underLoad(
      V.caddy,
      viaCaddy,
      fleet.port,
      () => goodDeploy(fleet, V.caddy),
      () => bump(fleet).then(() => {}),
    )
    await fleet.stop()
  }
  // (b) dstack, straight to the port.
  {
    const fleet = await fleetOf()
    await goodDeploy(fleet, `${V.direct} first deploy`)
    const url = `http://127.0.0.1:${fleet.port}/`
    await underLoad(
      V.direct,
      url,
      fleet.port,
      () => goodDeploy(fleet, V.direct),
      () => bump(fleet).then(() => {}),
    )
    await fleet.stop()
  }
  // (c) and (d): the naive script, on a fleet's repository and port, into its own root.
  {
    const fleet = await fleetOf()
    const root = join(fleet.dir, 'naive')
    const pidFile = join(root, 'pid')
    const stopNaive = async () => {
      try {
        await terminate([Number(readFileSync(pidFile, 'utf8').trim())])
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
      }
    }
    onCleanup('the naive service', stopNaive)
    let version = '1.0.0'
    // The window lasts until the new release answers: clients see the restart gap after the script has returned.
    const naive = async (): Promise<Window> => {
      const start = performance.now()
      await runProcess('sh', [
        '-c',
        NAIVE,
        'naive-deploy',
        fleet.repo.root,
        root,
        String(fleet.port),
        NODE_BIN,
      ])
      const script = performance.now()
      const url = `http://127.0.0.1:${fleet.port}/health`
      for (let i = 0; i < 1000 && (await getText(url, 300)) !== `200 ok ${version}`; i++) await sleep(10)
      const end = performance.now()
      return {
        start,
        planned: start,
        end,
        marks: [
          { id: 'naive script', phase: 'steps', start, end: script, status: 'ok' },
          { id: 'until the new release answers', phase: 'steps', start: script, end, status: 'ok' },
        ],
      }
    }
    const next = async () => {
      version = await bump(fleet)
    }
    const ready = async (what: string) => {
      for (let i = 0; i < 200; i++) {
        if ((await fleet.get())?.startsWith('200 ')) return
        await sleep(25)
      }
      throw new Error(`${what}: the naive service never answered on ${fleet.port}`)
    }
    await naive()
    await ready('naive first deploy')
    const url = `http://127.0.0.1:${fleet.port}/`
    await underLoad(V.naive, url, fleet.port, naive, next)
    await ready('naive after the load run')
    const load = await fetch(`${caddy.adminUrl}/load`, {
      method: 'POST',
      headers: { 'content-type': 'text/caddyfile' },
      body: caddyfileFor(caddy.httpPort, fleet.port, caddy.adminPort),
    })
    if (!load.ok) throw new Error(`Caddy /load for the naive service: ${load.status} ${await load.text()}`)
    await underLoad(V.naiveCaddy, viaCaddy, fleet.port, naive, next)
    await stopNaive()
  }
  details.load = loadDetails
}

// ---------------------------------------------------------------------------------------------------------------
// 2. Bad releases
// ---------------------------------------------------------------------------------------------------------------

/** GET on a fresh connection (no pool: a stale keep-alive socket must not look like an outage). */
function getText(url: string, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    const request = httpGet(url, { agent: false }, (response) => {
      let body = ''
      response.setEncoding('utf8').on('data', (c: string) => {
        body += c
      })
      response.once('end', () => resolve(`${response.statusCode} ${body.trim()}`))
      response.once('error', () => resolve(null))
    })
    request.setTimeout(timeoutMs, () => request.destroy())
    request.once('error', () => resolve(null))
  })
}

interface Poll {
  start: number
  end: number
  ok: boolean
}

/** GET /health on `port` every POLL_MS (each on a fresh connection, 300 ms timeout) until stopped. */
function healthPoller(port: number, ok: (answer: string | null) => boolean) {
  const polls: Poll[] = []
  let stopped = false
  const loop = (async () => {
    while (!stopped) {
      const start = performance.now()
      const answer = await getText(`http://127.0.0.1:${port}/health`, 300)
      polls.push({ start, end: performance.now(), ok: ok(answer) })
      await sleep(POLL_MS)
    }
  })()
  return {
    polls,
    async stop() {
      stopped = true
      await loop
    },
  }
}

function healthBudget(health: { timeout_ms: number; retries: number }): number {
  let backoff = 0
  for (let attempt = 1; attempt <= health.retries; attempt++)
    backoff += Math.min(2000, 250 * 2 ** (attempt - 1))
  return (health.retries + 1) * health.timeout_ms + backoff
}

async function benchBad(): Promise<void> {
  const fleet = await fleetOf()
  const health = fleet.service.health as { timeout_ms: number; retries: number }
  const budget = healthBudget(health)
  const process_ = fleet.service.process as { boot_check_ms?: number }
  details.badConfig = {
    health,
    healthBudgetMs: budget,
    bootCheckMs: process_.boot_check_ms ?? 500,
    restoreGoalMs: RESTORE_GOAL_MS,
  }
  progress(`bad releases: ${BAD_MODES.join(', ')} × ${N.bad} (health budget ${budget} ms)`)
  const good = await goodDeploy(fleet, 'bad-release fleet first deploy')
  const expected = `200 ok ${readFileSync(join(fleet.root, 'releases', good.report.release, 'version.txt'), 'utf8').trim()}`
  const runs: Array<Record<string, unknown>> = []
  for (const mode of BAD_MODES) {
    const samples: Record<string, number[]> = {
      detect: [],
      restore: [],
      back: [],
      restartToBack: [],
      outage: [],
    }
    for (let i = 0; i < N.bad; i++) {
      await bump(fleet, mode)
      const poller = healthPoller(fleet.port, (answer) => answer === expected)
      let failedAt = 0
      let run: Timed
      try {
        run = await timedDeploy(fleet, (at) => {
          failedAt = at
        })
        // The previous release must answer again: keep polling past the deploy's end if need be (10 s at most).
        const deadline = performance.now() + 10_000
        while (!poller.polls.some((p) => p.ok && p.start >= failedAt) && performance.now() < deadline)
          await sleep(POLL_MS)
      } finally {
        await poller.stop()
      }
      const polls = poller.polls
      const report = run.report
      const restart = run.marks.find((m) => m.phase === 'steps' && m.id === 'restart')
      const failing = run.marks.find((m) => m.phase === 'steps' && m.id === report.failedStep)
      const firstBack = polls.find((p) => p.ok && p.start >= failedAt)
      const lastBefore = polls.filter((p) => p.ok && p.end <= (restart?.start ?? failedAt)).at(-1)
      const record = {
        mode,
        outcome: report.outcome,
        failedStep: report.failedStep,
        reason: report.reason?.split('\n')[0]?.slice(0, 300) ?? null,
        rollback: report.rollback.map((s) => `${s.id} ${s.status} ${s.durationMs} ms`),
      } as Record<string, unknown>
      runs.push(record)
      if (report.outcome !== 'rolled-back' || !restart || !failing || !failedAt) {
        warn(
          `${mode} run ${i + 1}: expected a rollback after the restart, got ${report.outcome}:\n${formatReport(report)}`,
        )
        continue
      }
      // For a crash the restart step is the failing one: its own duration (stop the old + boot check) is the detect.
      const detect = failing.id === 'restart' ? failing.end - failing.start : failing.end - restart.end
      const restore = report.rollback.reduce((sum, s) => sum + s.durationMs, 0)
      Object.assign(record, { detectMs: round(detect, 1), restoreMs: restore })
      samples.detect!.push(detect)
      samples.restore!.push(restore)
      if (!firstBack) {
        warn(`${mode} run ${i + 1}: the previous release (${expected}) never answered again within 10 s`)
        continue
      }
      const back = firstBack.end - failedAt
      samples.back!.push(back)
      samples.restartToBack!.push(firstBack.end - restart.end)
      if (lastBefore) samples.outage!.push(firstBack.end - lastBefore.end)
      Object.assign(record, {
        backServingMs: round(back, 1),
        outageMs: lastBefore ? round(firstBack.end - lastBefore.end, 1) : null,
      })
    }
    const put = (metric: string, values: number[]) => {
      if (values.length > 0) recorder.record(metric, mode, 'ms', values)
    }
    put('bad_detect', samples.detect!)
    put('bad_restore', samples.restore!)
    put('bad_failure_to_previous_serving', samples.back!)
    put('bad_restart_end_to_previous_serving', samples.restartToBack!)
    put('bad_outage', samples.outage!)
  }
  details.badRuns = runs
  await fleet.stop()
}

// ---------------------------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------------------------

function computeRatios(): Record<string, number> {
  const ratios: Record<string, number> = {}
  const put = (name: string, value: number | undefined) => {
    if (value !== undefined && Number.isFinite(value)) ratios[name] = round(value)
  }
  for (const variant of Object.values(V)) {
    const requests = recorder.get('load_requests', variant)?.median
    const failed = recorder.get('load_failed', variant)?.median
    if (requests) put(`load_failed_rate.${variant}`, (failed ?? 0) / requests)
    put(
      `load_latency_p99.${variant}.deploy_vs_steady`,
      recorder.ratio(['load_latency_deploy_p99', variant], ['load_latency_steady_p99', variant]),
    )
    if (variant !== V.caddy)
      put(
        `load_failed.${variant}_vs_${V.caddy}`,
        recorder.ratio(['load_failed', variant], ['load_failed', V.caddy]),
      )
  }
  put(
    `load_deploy_time.${V.direct}_vs_${V.naive}`,
    recorder.ratio(['load_deploy_time', V.direct], ['load_deploy_time', V.naive]),
  )
  const budget = (details.badConfig as { healthBudgetMs: number } | undefined)?.healthBudgetMs
  for (const mode of BAD_MODES) {
    const detect = recorder.get('bad_detect', mode)
    if (detect && budget && mode !== 'crash')
      put(`bad_detect.${mode}_vs_health_budget`, detect.median / budget)
    const back = recorder.get('bad_failure_to_previous_serving', mode)
    if (back) put(`bad_failure_to_previous_serving.${mode}_vs_goal_5s`, back.median / RESTORE_GOAL_MS)
  }
  for (const step of [...STEPS, 'run_total', 'plan', 'plan_and_run_wall'])
    put(
      `deploy_step_${step}.ssh_vs_local`,
      recorder.ratio([`deploy_step_${step}`, SSH], [`deploy_step_${step}`, LOCAL]),
    )
  put('plan.ssh_vs_local', recorder.ratio(['plan', SSH], ['plan', LOCAL]))
  put('plan.ssh_vs_ssh_true_fresh', recorder.ratio(['plan', SSH], ['baseline_ssh_true', 'fresh connection']))
  put(
    'ssh_true.fresh_vs_controlmaster',
    recorder.ratio(['baseline_ssh_true', 'fresh connection'], ['baseline_ssh_true', 'over a ControlMaster']),
  )
  put(
    'deploy_step_lock.local_vs_sh_true',
    recorder.ratio(['deploy_step_lock', LOCAL], ['baseline_process', 'sh -c true']),
  )
  put(
    'deploy_step_lock.ssh_vs_ssh_true_controlmaster',
    recorder.ratio(['deploy_step_lock', SSH], ['baseline_ssh_true', 'over a ControlMaster']),
  )
  return ratios
}

const num = (r: Result | undefined) => (r ? formatNumber(r.median) : '-')
const count = (r: Result | undefined) => (r ? String(Math.round(r.median)) : '-')

function loadTable(): string {
  const rows = Object.values(V)
    .filter((v) => recorder.get('load_requests', v))
    .map((v) => {
      const d = loadDetails[v] as {
        failureKinds: Record<string, number>
        latencyMs: Record<string, number | null>
        requestsInDeployWindows: number
      }
      const kinds = Object.entries(d.failureKinds)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ')
      const lat = (x: number | null | undefined) => (x === null || x === undefined ? '-' : formatNumber(x))
      return [
        v,
        count(recorder.get('load_requests', v)),
        String(d.requestsInDeployWindows),
        count(recorder.get('load_failed', v)),
        kinds || '-',
        `${lat(d.latencyMs.deployP50)} / ${lat(d.latencyMs.deployP99)} / ${lat(d.latencyMs.deployMax)}`,
        `${lat(d.latencyMs.steadyP50)} / ${lat(d.latencyMs.steadyP99)}`,
        (() => {
          const gap = recorder.get('load_upstream_gap', v)
          return gap ? `${formatNumber(gap.median)} / ${formatNumber(gap.p95)}` : '-'
        })(),
        num(recorder.get('load_deploy_time', v)),
      ]
    })
  return renderTable(
    [
      'variant',
      'requests',
      'in deploys',
      'failed',
      'failure kinds',
      'deploy p50/p99/max ms',
      'steady p50/p99 ms',
      'upstream gap ms (median / max)',
      'deploy time ms (median)',
    ],
    rows,
  )
}

function badTable(): string {
  const budget = (details.badConfig as { healthBudgetMs: number } | undefined)?.healthBudgetMs ?? 0
  const cellOf = (metric: string, mode: string) => {
    const r = recorder.get(metric, mode)
    return r ? `${formatNumber(r.median)} (p95 ${formatNumber(r.p95)}, n=${r.n})` : '-'
  }
  const rows = BAD_MODES.filter((m) => recorder.get('bad_detect', m)).map((mode) => {
    const back = recorder.get('bad_failure_to_previous_serving', mode)
    const failedSteps = [
      ...new Set(
        (details.badRuns as Array<{ mode: string; failedStep: string | null }>)
          .filter((r) => r.mode === mode)
          .map((r) => r.failedStep ?? 'none'),
      ),
    ].join(', ')
    return [
      mode,
      failedSteps,
      cellOf('bad_detect', mode),
      mode === 'crash'
        ? 'boot check'
        : `${formatNumber((recorder.get('bad_detect', mode)?.median ?? 0) / budget)}× budget`,
      cellOf('bad_restore', mode),
      cellOf('bad_failure_to_previous_serving', mode),
      back ? (back.p95 <= RESTORE_GOAL_MS ? 'yes' : 'NO') : '-',
      cellOf('bad_outage', mode),
    ]
  })
  return renderTable(
    [
      'mode',
      'failed step',
      'detect ms',
      'vs health budget',
      'restore ms',
      'failure → previous serving ms',
      '≤ 5 s',
      'outage ms',
    ],
    rows,
  )
}

function stepTable(): string {
  const series = [LOCAL, SSH].filter((s) => stepMeans[s])
  const labels: Record<string, string> = {
    between_steps: 'between steps (run total − Σ steps)',
    run_total: 'run total (report.durationMs)',
    plan: 'plan (prepareDeploy)',
    plan_and_run_wall: 'plan + run (wall)',
  }
  const names = [...STEPS, ...Object.keys(labels)]
  const rows = names.map((name) => [
    labels[name] ?? name,
    ...series.flatMap((s) => {
      const x = stepMeans[s]?.[name]
      return [x ? formatNumber(x.mean) : '-', x ? formatNumber(x.p95) : '-']
    }),
    series.length === 2
      ? (() => {
          const a = stepMeans[SSH]?.[name]
          const b = stepMeans[LOCAL]?.[name]
          return a && b && b.mean > 0 ? `${formatNumber(a.mean / b.mean)}×` : '-'
        })()
      : '-',
  ])
  return renderTable(
    ['step (ms)', ...series.flatMap((s) => [`${s} mean`, `${s} p95`]), 'ssh ÷ local (mean)'],
    rows,
  )
}

function baselineTable(): string {
  const rows = recorder.results
    .filter((r) => r.metric.startsWith('baseline_') || r.metric === 'plan')
    .map((r) => [
      r.metric,
      r.series,
      `${formatNumber(r.median)} (p95 ${formatNumber(r.p95)}, min ${formatNumber(r.min)}, n=${r.n})`,
      r.metric === 'plan' && r.series === SSH
        ? `${formatNumber(recorder.ratio(['plan', SSH], ['baseline_ssh_true', 'fresh connection']) ?? Number.NaN)}× ssh true (fresh)`
        : r.metric === 'plan' && r.series === LOCAL
          ? `${formatNumber(recorder.ratio(['plan', LOCAL], ['baseline_process', 'node -e 0']) ?? Number.NaN)}× node -e 0`
          : '-',
    ])
  return renderTable(['metric', 'series', 'ms: median (p95, min, n)', 'vs'], rows)
}

// ---------------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const startedAt = new Date()
  const work = tempDir('dstack-deploy-bench-')
  progress(`work dir ${work}; parts: ${[...ONLY].join(', ')}; node for the service: ${NODE_BIN}`)
  try {
    const needSsh = ONLY.has('steps') || ONLY.has('plan')
    let sshd: Sshd | null = null
    if (needSsh) {
      sshd = await startSshd()
      watched.push(sshd.dir)
      onCleanup('sshd', () => sshd!.stop())
    }
    let caddy: Caddy | null = null
    if (ONLY.has('load')) {
      caddy = await startCaddy()
      watched.push(caddy.dir)
      onCleanup('caddy', () => caddy!.stop())
    }
    await benchBaselines(sshd, work)

    if (needSsh) {
      const local = await fleetOf()
      const ssh = await fleetOf()
      ssh.service.hosts = [`ssh://${sshd!.user}@127.0.0.1:${sshd!.port}`]
      ssh.service.ssh = { identity_file: sshd!.identityFile, known_hosts: sshd!.knownHostsFile }
      ssh.write()
      if (ONLY.has('steps')) {
        await benchSteps(local, LOCAL)
        await benchSteps(ssh, SSH)
      } else {
        await goodDeploy(local, 'local first deploy')
        await goodDeploy(ssh, 'ssh first deploy')
      }
      if (ONLY.has('plan'))
        await benchPlans([
          [LOCAL, local],
          [SSH, ssh],
        ])
      await local.stop()
      await ssh.stop()
    }
    if (ONLY.has('load')) await benchLoad(caddy!)
    if (ONLY.has('bad')) await benchBad()
  } finally {
    await cleanupAll()
    const left = leftovers()
    if (left.length > 0) {
      warn(`processes left behind: ${left.join('; ')}; stopping them`)
      await terminate(left.map((l) => Number(/pid (\d+)/.exec(l)![1]))).catch(() => undefined)
    }
    details.leftoverProcesses = left
    if (KEEP) progress(`kept ${work} and the fleets`)
    else removeTempDirs()
  }

  details.stepMeansMs = stepMeans
  const ratios = computeRatios()
  const sections: string[] = []
  if (recorder.results.some((r) => r.metric === 'load_requests'))
    sections.push(
      `1. Requests during ${N.loadDeploys} consecutive good deploys at ${N.rate} req/s (GET /, keep-alive)\n${loadTable()}`,
    )
  if (recorder.results.some((r) => r.metric === 'bad_detect'))
    sections.push(
      `2. Bad release → previous release serving (health budget ${(details.badConfig as { healthBudgetMs: number }).healthBudgetMs} ms, goal ≤ ${RESTORE_GOAL_MS} ms)\n${badTable()}`,
    )
  if (Object.keys(stepMeans).length > 0)
    sections.push(`3. Good deploy by step, ${N.deploys} deploys per target\n${stepTable()}`)
  sections.push(`Baselines and plan time (4)\n${baselineTable()}`)
  console.log(sections.join('\n\n'))
  console.log(
    `\nLoad: an open-loop generator in this process (node:http, one keep-alive Agent, ${N.rate} GET / per second ` +
      `whatever the answers take, ${REQUEST_TIMEOUT_MS / 1000} s timeout), ${LOAD_GAP_MS} ms of steady load before ` +
      `and after each deploy; "in deploys" = requests sent between prepareDeploy's start and the report; latency ` +
      `counts answered 2xx only; steady = the same variant's requests outside the deploys. Naive = sh build.sh, ` +
      `cp -r dist releases/<ns>, kill the old pid and wait for it to exit, setsid node server.mjs (no health gate). ` +
      `Bad releases: detect = the restart step's end → the failing step's end (crash: the restart step itself: stop ` +
      `the old + boot_check_ms); restore = Σ rollback step durations; failure → previous serving = the failing ` +
      `step's end → the first GET /health (fresh connection, every ${POLL_MS} ms) answering as before; outage = the ` +
      `last such answer before the restart → the first after. Steps: report durations, build = all build commands. ` +
      `Other work on this machine adds noise to every timing; compare series within a run.`,
  )
  console.log('')
  for (const [name, value] of Object.entries(ratios)) console.log(`ratio ${name}: ${value}`)
  for (const line of findings) console.log(`finding: ${line}`)
  for (const warning of warnings) console.log(`WARNING: ${warning}`)
  const file = writeResults('deploy', startedAt, recorder.results, ratios, {
    ...details,
    config: { ...N, parts: [...ONLY], loadGapMs: LOAD_GAP_MS, pollMs: POLL_MS, nodeForService: NODE_BIN },
    warnings,
    findings,
    totalSeconds: round((performance.now() - started) / 1000, 1),
  })
  console.log(`\nresults: ${file} (${((performance.now() - started) / 1000).toFixed(0)} s)`)
}

await main()
// Open handles (an Agent's sockets, a fixture's exit hook) must not keep the process alive.
process.exit(process.exitCode ?? 0)

// Benchmarks @dstack/browser (BR-1 and a light BR-2 of shared/reference/peers-graph-deploy-browser.md §5.3) against
// @playwright/mcp in the same run, on pages this bench serves on 127.0.0.1 (bench/pages.ts: a form page and five
// heavier generated pages), with Debian's Chromium for both:
//   1. cold start: BrowserClient.connect + the first goto with no daemon running (stopDaemon before each); the same
//      through the CLI (`dstack browse goto`, one process); playwright-mcp spawned over stdio → first
//      browser_navigate done. One sample of each per round.
//   2. warm per-command latency on the form page: goto, snapshot, snapshot -i, click, fill, screenshot, and
//      snapshot→click→snapshot (dstack also: snapshot -i→click→snapshot -D), 1 unrecorded warm-up then N iterations;
//      dstack through the client in this process and playwright-mcp through the SDK client, one iteration of each
//      per round; then the same steps through the CLI process (what an agent's Bash tool pays), against a bare
//      `node -e 0` floor. The tokens of every response (what lands in the agent's context) are counted too.
//   3. footprint: VmRSS (and PSS, which counts shared pages once) summed over the daemon / MCP server and all their
//      descendants (Chromium's processes) from /proc, after the form page and at the largest over the heavy pages.
//   4. per page: goto, snapshot latency and size in characters and tokens — dstack full (default 8,000-token budget,
//      and unbounded), interactive-only, and the diff after one click; playwright-mcp's browser_snapshot, and the
//      responses of its navigate and click (which, in this version, link the snapshot file instead of inlining it).
//   5. ref safety: a page that, between the snapshot and the click, inserts a second "Beta" button before the target
//      (`insert`, nodes kept), re-renders the list with a new button first (`rerender`, nodes replaced), or renames
//      the target to "Delete all" (`relabel`, same node); each click reports which button it hit over a WebSocket.
//      Wrong-element clicks, clicks on a changed element or a look-alike, and refusals (with their latency), N
//      trials per variant per tool.
// Tokens are o200k_base from js-tiktoken (chars/4 if it cannot be loaded; the output says which). playwright-mcp,
// its SDK and js-tiktoken are installed at bench time with npm into <os tmpdir>/dstack-browser-bench-peers/.
// Build first (`pnpm turbo run build --filter=@dstack/cli...`: the bench drives dist/, the CLI needs it), then from
// packages/browser: `pnpm bench` or `node bench/browser.bench.ts` (about 4-5 minutes on 2 cores); writes
// <repo>/bench/results/browser-<time>.json. BROWSER_BENCH_KEEP=1 keeps the work dir.

import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  formatNumber,
  Recorder,
  type Result,
  renderTable,
  runNode,
  writeResults,
} from '../../../bench/harness.ts'
import { BrowserClient, type CommandReply, stopDaemon } from '../dist/index.js'
import { type BenchPage, FORM, HEAVY, type PageServer, servePages } from './pages.ts'
import { installPeers, loadTokenizer, MCP_VERSION, McpPeer, PEER_CACHE } from './peer.ts'

// Sample counts, chosen to keep the whole run within ~5 minutes on 2 cores.
const N = {
  seed: 20261123,
  cold: 3,
  warm: 20,
  cli: 10,
  nodeFloor: 5,
  /** Passes over the pages (sizes are counted on the first). */
  pagePasses: 2,
  refTrials: 10,
}
const UNBOUNDED = '1000000'

const DSTACK = 'dstack (client)'
const CLI_SERIES = 'dstack (CLI process)'
const MCP = `playwright-mcp ${MCP_VERSION}`
const FLOOR = 'node -e 0 (floor)'

const recorder = new Recorder()
const started = performance.now()
const progress = (message: string) =>
  console.error(`[browser bench ${((performance.now() - started) / 1000).toFixed(0)}s] ${message}`)
const warnings: string[] = []
const warn = (message: string) => {
  warnings.push(message)
  console.error(`[browser bench] WARNING: ${message}`)
}
const peerErrors: Record<string, string> = {}
const details: Record<string, unknown> = {}
const round = (value: number, digits = 4) => Number(value.toFixed(digits))

let countTokens = (text: string) => Math.ceil(text.length / 4)
let tokenizer = 'chars/4 (js-tiktoken could not be loaded)'

const CLI = join(import.meta.dirname, '..', '..', '..', 'apps', 'cli', 'bin', 'run.js')

// ---------------------------------------------------------------------------------------------------------------
// Process trees
// ---------------------------------------------------------------------------------------------------------------

interface TreeMemory {
  rssMb: number
  pssMb: number
  rootRssMb: number
  processes: number
}

function procField(pid: number, file: string, key: string): number {
  try {
    const match = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/${file}`, 'utf8'))
    return match ? Number(match[1]) : 0
  } catch {
    return 0
  }
}

/** VmRSS and PSS summed over `root` and its descendants (walked through /proc/<pid>/stat's ppid). */
function treeMemory(root: number): TreeMemory {
  const children = new Map<number, number[]>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)])
    } catch {
      // gone meanwhile
    }
  }
  const tree: number[] = []
  const queue = [root]
  while (queue.length > 0) {
    const pid = queue.shift()!
    tree.push(pid)
    queue.push(...(children.get(pid) ?? []))
  }
  const rss = tree.reduce((sum, pid) => sum + procField(pid, 'status', 'VmRSS'), 0)
  const pss = tree.reduce((sum, pid) => sum + procField(pid, 'smaps_rollup', 'Pss'), 0)
  return {
    rssMb: rss / 1024,
    pssMb: pss / 1024,
    rootRssMb: procField(root, 'status', 'VmRSS') / 1024,
    processes: tree.length,
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Drivers: the same steps through dstack's client, dstack's CLI and playwright-mcp
// ---------------------------------------------------------------------------------------------------------------

interface StepReply {
  ok: boolean
  /** What the agent reads. */
  text: string
  ms: number
}

interface Driver {
  series: string
  goto(url: string): Promise<StepReply>
  snapshot(flags?: string[]): Promise<StepReply>
  click(ref: string, what: string): Promise<StepReply>
  fill(ref: string, what: string, value: string): Promise<StepReply>
  screenshot(name: string): Promise<StepReply>
}

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** The ref of the first `- <role> "<name>" … [ref=x]` line of a snapshot (both tools print this shape). */
function findRef(snapshot: string, role: string, name: string): string {
  const match = new RegExp(
    `^\\s*- ${escapeRegex(role)} "${escapeRegex(name)}"[^\\n]*?\\[ref=([a-z0-9]+)\\]`,
    'm',
  ).exec(snapshot)
  if (!match) throw new Error(`no ${role} "${name}" in the snapshot:\n${snapshot.slice(0, 1500)}`)
  return match[1]!
}

function checked(reply: StepReply, what: string): StepReply {
  if (!reply.ok) throw new Error(`${what} failed: ${reply.text.slice(0, 500)}`)
  return reply
}

function clientDriver(client: BrowserClient, shots: string): Driver {
  const run = async (argv: string[]): Promise<StepReply> => {
    const t = performance.now()
    const reply: CommandReply = await client.run(argv)
    return { ok: reply.ok, text: reply.output, ms: performance.now() - t }
  }
  return {
    series: DSTACK,
    goto: (url) => run(['goto', url]),
    snapshot: (flags = []) => run(['snapshot', ...flags]),
    click: (ref) => run(['click', `@${ref}`]),
    fill: (ref, _what, value) => run(['fill', `@${ref}`, value]),
    screenshot: (name) => run(['screenshot', '--path', join(shots, `${name}.png`)]),
  }
}

function cliDriver(workspace: string, home: string, shots: string): Driver {
  const env = { ...process.env, DSTACK_HOME: home }
  const run = async (argv: string[]): Promise<StepReply> => {
    try {
      const result = await runNode(
        [CLI, 'browse', '--workspace', workspace, '--agent', 'bench', ...argv],
        env,
      )
      return { ok: true, text: result.stdout, ms: result.ms }
    } catch (error) {
      return { ok: false, text: (error as Error).message, ms: 0 }
    }
  }
  return {
    series: CLI_SERIES,
    goto: (url) => run(['goto', url]),
    snapshot: (flags = []) => run(['snapshot', ...flags]),
    click: (ref) => run(['click', `@${ref}`]),
    fill: (ref, _what, value) => run(['fill', `@${ref}`, value]),
    screenshot: (name) => run(['screenshot', '--path', join(shots, `${name}.png`)]),
  }
}

function mcpDriver(peer: McpPeer): Driver {
  return {
    series: MCP,
    goto: (url) => peer.call('browser_navigate', { url }),
    snapshot: () => peer.call('browser_snapshot', {}),
    click: (ref, what) => peer.call('browser_click', { element: what, target: ref }),
    fill: (ref, what, value) => peer.call('browser_type', { element: what, target: ref, text: value }),
    screenshot: (name) => peer.call('browser_take_screenshot', { type: 'png', filename: `${name}.png` }),
  }
}

// ---------------------------------------------------------------------------------------------------------------
// 1. Cold start
// ---------------------------------------------------------------------------------------------------------------

async function benchColdStart(server: PageServer, workspace: string, home: string, mcpDir: string | null) {
  const url = server.url(FORM.path)
  const samples: Record<string, number[]> = { client: [], connect: [], cli: [], mcp: [], mcpConnect: [] }
  const cli = cliDriver(workspace, home, join(workspace, 'shots'))
  for (let i = 0; i < N.cold; i++) {
    progress(`cold start ${i + 1}/${N.cold}`)
    await stopDaemon({ workspace, home })
    const t = performance.now()
    const client = await BrowserClient.connect({ workspace, home, agent: 'bench' })
    samples.connect!.push(performance.now() - t)
    checked(await clientDriver(client, workspace).goto(url), 'cold goto')
    samples.client!.push(performance.now() - t)

    await stopDaemon({ workspace, home })
    samples.cli!.push(checked(await cli.goto(url), 'cold CLI goto').ms)

    if (mcpDir && !peerErrors.mcp) {
      let peer: McpPeer | null = null
      try {
        const t0 = performance.now()
        peer = await McpPeer.start(mcpDir)
        samples.mcpConnect!.push(peer.connectMs)
        checked(await peer.call('browser_navigate', { url }), 'cold browser_navigate')
        samples.mcp!.push(performance.now() - t0)
      } catch (error) {
        peerErrors.mcp = `cold start: ${(error as Error).message.slice(0, 1500)}${peer ? `\nstderr: ${peer.stderr.join('').slice(-1500)}` : ''}`
        warn(`playwright-mcp failed to start: ${(error as Error).message.split('\n')[0]}`)
      } finally {
        await peer?.close()
      }
    }
  }
  await stopDaemon({ workspace, home })
  recorder.record('cold_start', DSTACK, 'ms', samples.client!)
  recorder.record('cold_start', CLI_SERIES, 'ms', samples.cli!)
  recorder.record('cold_connect', DSTACK, 'ms', samples.connect!)
  if (samples.mcp!.length) recorder.record('cold_start', MCP, 'ms', samples.mcp!)
  if (samples.mcpConnect!.length) recorder.record('cold_connect', MCP, 'ms', samples.mcpConnect!)
}

// ---------------------------------------------------------------------------------------------------------------
// 2. Warm per-command latency (form page)
// ---------------------------------------------------------------------------------------------------------------

const STEPS = ['goto', 'snapshot', 'snapshot_i', 'click', 'fill', 'screenshot', 'loop', 'loop_agent'] as const
type Step = (typeof STEPS)[number]
const STEP_LABEL: Record<Step, string> = {
  goto: 'goto',
  snapshot: 'snapshot (full)',
  snapshot_i: 'snapshot -i',
  click: 'click',
  fill: 'fill / browser_type',
  screenshot: 'screenshot (to a file)',
  loop: 'snapshot→click→snapshot',
  loop_agent: 'snapshot -i→click→snapshot -D',
}

type StepSamples = Map<Step, { ms: number[]; tokens: number[] }>
const newSamples = (): StepSamples => new Map(STEPS.map((s) => [s, { ms: [], tokens: [] }]))

/** One iteration of the form workload; fills `into` when given (null = warm-up). */
async function formIteration(
  driver: Driver,
  url: string,
  i: number,
  into: StepSamples | null,
): Promise<void> {
  const put = (step: Step, replies: StepReply[]) => {
    if (!into) return
    into.get(step)!.ms.push(replies.reduce((sum, r) => sum + r.ms, 0))
    into.get(step)!.tokens.push(replies.reduce((sum, r) => sum + countTokens(r.text), 0))
  }
  const isMcp = driver.series === MCP
  put('goto', [checked(await driver.goto(url), 'goto')])
  const snap = checked(await driver.snapshot(), 'snapshot')
  put('snapshot', [snap])
  if (!isMcp) put('snapshot_i', [checked(await driver.snapshot(['-i']), 'snapshot -i')])
  put('click', [
    checked(await driver.click(findRef(snap.text, 'button', 'Submit'), 'Submit button'), 'click'),
  ])
  const name = findRef(snap.text, 'textbox', 'Name')
  put('fill', [checked(await driver.fill(name, 'Name textbox', `Ada Lovelace ${i}`), 'fill')])
  put('screenshot', [checked(await driver.screenshot(`${isMcp ? 'mcp' : 'dstack'}-${i}`), 'screenshot')])
  const item = `Item ${(i % 20) + 1}`
  const before = checked(await driver.snapshot(), 'loop snapshot')
  const click = checked(
    await driver.click(findRef(before.text, 'button', item), `${item} button`),
    'loop click',
  )
  const after = checked(await driver.snapshot(), 'loop snapshot after')
  put('loop', [before, click, after])
  if (!isMcp) {
    const other = `Item ${((i + 7) % 20) + 1}`
    const base = checked(await driver.snapshot(['-i']), 'agent loop snapshot -i')
    const hit = checked(await driver.click(findRef(base.text, 'button', other), other), 'agent loop click')
    const diff = checked(await driver.snapshot(['-D']), 'agent loop snapshot -D')
    if (!diff.text.includes('Selected item'))
      warn(`the diff after clicking ${other} does not show the change`)
    put('loop_agent', [base, hit, diff])
  }
}

function recordSteps(series: string, samples: StepSamples): void {
  for (const [step, { ms, tokens }] of samples) {
    if (ms.length === 0) continue
    recorder.record(`cmd_${step}`, series, 'ms', ms)
    recorder.record(`tokens_${step}`, series, 'tokens', tokens)
  }
}

async function benchWarm(server: PageServer, client: BrowserClient, peer: McpPeer | null, shots: string) {
  const url = server.url(FORM.path)
  const drivers = [clientDriver(client, shots), ...(peer ? [mcpDriver(peer)] : [])]
  const samples = new Map(drivers.map((d) => [d, newSamples()]))
  // Round robin: one iteration of each driver per round, so load from elsewhere hits both alike.
  for (let i = 0; i <= N.warm; i++) {
    if (i % 5 === 0) progress(`warm form loop ${i}/${N.warm}`)
    for (const driver of drivers) {
      try {
        await formIteration(driver, url, i, i === 0 ? null : samples.get(driver)!)
      } catch (error) {
        if (driver.series !== MCP) throw error
        peerErrors.mcpWarm = (error as Error).message.slice(0, 2000)
        warn(`playwright-mcp failed in the warm loop: ${(error as Error).message.split('\n')[0]}`)
        drivers.pop()
      }
    }
  }
  for (const [driver, s] of samples) recordSteps(driver.series, s)
}

async function benchCli(server: PageServer, workspace: string, home: string, shots: string) {
  const url = server.url(FORM.path)
  const floor: number[] = []
  for (let i = 0; i < N.nodeFloor; i++) floor.push((await runNode(['-e', '0'])).ms)
  recorder.record('process_floor', FLOOR, 'ms', floor)
  const driver = cliDriver(workspace, home, shots)
  const samples = newSamples()
  for (let i = 0; i <= N.cli; i++) {
    if (i % 5 === 0) progress(`CLI form loop ${i}/${N.cli}`)
    await formIteration(driver, url, 100 + i, i === 0 ? null : samples)
  }
  recordSteps(CLI_SERIES, samples)
}

// ---------------------------------------------------------------------------------------------------------------
// 3-4. Pages: latency, snapshot sizes, footprint
// ---------------------------------------------------------------------------------------------------------------

const pageKey = (page: BenchPage) => page.path.slice(1)

interface Sized {
  series: string
  text: string
}

function recordSizes(page: BenchPage, sized: Sized[]): void {
  for (const { series, text } of sized) {
    recorder.record(`page_${pageKey(page)}_tokens`, series, 'tokens', [countTokens(text)])
    recorder.record(`page_${pageKey(page)}_chars`, series, 'chars', [text.length])
  }
}

const SIZE = {
  full: 'dstack snapshot (default 8k budget)',
  unbounded: 'dstack snapshot (unbounded)',
  interactive: 'dstack snapshot -i',
  interactiveUnbounded: 'dstack snapshot -i (unbounded)',
  diff: 'dstack snapshot -D after click',
  mcpNavigate: 'mcp browser_navigate response',
  mcpSnapshot: 'mcp browser_snapshot',
  mcpClick: 'mcp browser_click response',
  mcpAfter: 'mcp browser_snapshot after click',
} as const

async function benchPages(server: PageServer, client: BrowserClient, peer: McpPeer | null) {
  const pages = [FORM, ...HEAVY]
  const timings = new Map<string, number[]>()
  const time = (page: BenchPage, what: string, series: string, reply: StepReply) => {
    const key = `${pageKey(page)}|${what}|${series}`
    timings.set(key, [...(timings.get(key) ?? []), reply.ms])
  }
  const memory = { dstack: [] as TreeMemory[], mcp: [] as TreeMemory[] }
  const dstack = clientDriver(client, tmpdir())
  for (let pass = 0; pass < N.pagePasses; pass++) {
    for (const page of pages) {
      progress(`pages pass ${pass + 1}/${N.pagePasses}: ${page.label}`)
      const url = server.url(page.path)
      const first = pass === 0
      // dstack: goto, -i (default and unbounded), full (default and unbounded: the diff's base), click, -D.
      time(page, 'goto', DSTACK, checked(await dstack.goto(url), `goto ${page.path}`))
      const interactive = checked(await dstack.snapshot(['-i']), 'snapshot -i')
      time(page, 'snapshot -i', DSTACK, interactive)
      const interactiveAll = first
        ? checked(await dstack.snapshot(['-i', '--budget', UNBOUNDED]), 'snapshot -i unbounded')
        : null
      const full = checked(await dstack.snapshot(), 'snapshot')
      time(page, 'snapshot', DSTACK, full)
      const unbounded = checked(await dstack.snapshot(['--budget', UNBOUNDED]), 'snapshot unbounded')
      time(page, 'snapshot (unbounded)', DSTACK, unbounded)
      const click = checked(
        await dstack.click(findRef(unbounded.text, page.click.role, page.click.name), page.click.name),
        `click on ${page.path}`,
      )
      time(page, 'click', DSTACK, click)
      const diff = checked(await dstack.snapshot(['-D']), 'snapshot -D')
      time(page, 'snapshot -D', DSTACK, diff)
      if (client.state.pid) memory.dstack.push(treeMemory(client.state.pid))
      if (first)
        recordSizes(page, [
          { series: SIZE.full, text: full.text },
          { series: SIZE.unbounded, text: unbounded.text },
          { series: SIZE.interactive, text: interactive.text },
          { series: SIZE.interactiveUnbounded, text: interactiveAll!.text },
          { series: SIZE.diff, text: diff.text },
        ])

      if (!peer || peerErrors.mcpPages) continue
      try {
        const mcp = mcpDriver(peer)
        const nav = checked(await mcp.goto(url), `browser_navigate ${page.path}`)
        time(page, 'goto', MCP, nav)
        const snap = checked(await mcp.snapshot(), 'browser_snapshot')
        time(page, 'snapshot', MCP, snap)
        const hit = checked(
          await mcp.click(findRef(snap.text, page.click.role, page.click.name), page.click.name),
          'browser_click',
        )
        time(page, 'click', MCP, hit)
        const after = checked(await mcp.snapshot(), 'browser_snapshot after click')
        time(page, 'snapshot after click', MCP, after)
        if (peer.pid) memory.mcp.push(treeMemory(peer.pid))
        if (first)
          recordSizes(page, [
            { series: SIZE.mcpNavigate, text: nav.text },
            { series: SIZE.mcpSnapshot, text: snap.text },
            { series: SIZE.mcpClick, text: hit.text },
            { series: SIZE.mcpAfter, text: after.text },
          ])
      } catch (error) {
        peerErrors.mcpPages = `${page.path}: ${(error as Error).message.slice(0, 2000)}`
        warn(`playwright-mcp failed on ${page.path}: ${(error as Error).message.split('\n')[0]}`)
      }
    }
  }
  for (const [key, ms] of timings) {
    const [page, what, series] = key.split('|') as [string, string, string]
    recorder.record(`page_${page}_${what.replace(/[^a-z]+/gi, '_').replace(/_$/, '')}`, series, 'ms', ms)
  }
  const recordMemory = (series: string, list: TreeMemory[]) => {
    if (list.length === 0) return
    recorder.record('rss_tree_heavy_max', series, 'MB', [Math.max(...list.map((m) => m.rssMb))])
    recorder.record('pss_tree_heavy_max', series, 'MB', [Math.max(...list.map((m) => m.pssMb))])
    recorder.record('rss_root_heavy_max', series, 'MB', [Math.max(...list.map((m) => m.rootRssMb))])
  }
  recordMemory(DSTACK, memory.dstack)
  recordMemory(MCP, memory.mcp)
}

function recordFormMemory(client: BrowserClient, peer: McpPeer | null): void {
  const put = (series: string, m: TreeMemory) => {
    recorder.record('rss_tree_form', series, 'MB', [m.rssMb])
    recorder.record('pss_tree_form', series, 'MB', [m.pssMb])
    recorder.record('rss_root_form', series, 'MB', [m.rootRssMb])
    recorder.record('processes_form', series, 'count', [m.processes])
  }
  put(DSTACK, treeMemory(client.state.pid))
  if (peer?.pid) put(MCP, treeMemory(peer.pid))
}

// ---------------------------------------------------------------------------------------------------------------
// 5. Ref safety (BR-2 light)
// ---------------------------------------------------------------------------------------------------------------

const VARIANTS = ['insert', 'rerender', 'relabel'] as const
const OUTCOMES = ['correct', 'changed element', 'look-alike', 'wrong element', 'refused', 'no click'] as const
type Outcome = (typeof OUTCOMES)[number]

function outcomeOf(ok: boolean, clicks: string[]): Outcome {
  if (clicks.length === 0) return ok ? 'no click' : 'refused'
  if (clicks.length > 1) return 'wrong element'
  if (clicks[0] === 'beta') return 'correct'
  if (clicks[0] === 'beta-relabelled') return 'changed element'
  if (clicks[0] === 'beta-new') return 'look-alike'
  return 'wrong element'
}

async function benchRefSafety(server: PageServer, client: BrowserClient, peer: McpPeer | null) {
  const drivers = [clientDriver(client, tmpdir()), ...(peer && !peerErrors.mcpPages ? [mcpDriver(peer)] : [])]
  const refSafety: Record<string, Record<string, unknown>> = {}
  for (const variant of VARIANTS) {
    progress(`ref safety: ${variant}`)
    const counts = new Map(
      drivers.map((d) => [d.series, new Map<Outcome, number>(OUTCOMES.map((o) => [o, 0]))]),
    )
    const refusedMs = new Map(drivers.map((d) => [d.series, [] as number[]]))
    const clickedMs = new Map(drivers.map((d) => [d.series, [] as number[]]))
    const messages = new Map<string, string>()
    for (let trial = 0; trial < N.refTrials; trial++) {
      for (const driver of [...drivers]) {
        const id = `${driver.series === MCP ? 'mcp' : 'dstack'}-${variant}-${trial}`
        try {
          checked(await driver.goto(server.url(`/refs?variant=${variant}&trial=${id}`)), 'goto refs page')
          const snap = checked(await driver.snapshot(), 'snapshot of refs page')
          const ref = findRef(snap.text, 'button', 'Beta')
          await server.mutate(id)
          const reply = await driver.click(ref, 'Beta button')
          const clicks = await server.clicks(id, reply.ok ? 1000 : 300)
          const outcome = outcomeOf(reply.ok, clicks)
          counts.get(driver.series)!.set(outcome, counts.get(driver.series)!.get(outcome)! + 1)
          ;(outcome === 'refused' ? refusedMs : clickedMs).get(driver.series)!.push(reply.ms)
          if (!messages.has(`${driver.series} ${outcome}`))
            messages.set(`${driver.series} ${outcome}`, reply.text.replace(/\s+/g, ' ').slice(0, 400))
        } catch (error) {
          if (driver.series !== MCP) throw error
          peerErrors.mcpRefs = (error as Error).message.slice(0, 2000)
          warn(`playwright-mcp failed in the ref-safety trials: ${(error as Error).message.split('\n')[0]}`)
          drivers.pop()
        }
      }
    }
    for (const [series, byOutcome] of counts) {
      const total = [...byOutcome.values()].reduce((a, b) => a + b, 0)
      if (total === 0) continue
      for (const [outcome, n] of byOutcome)
        recorder.record(`ref_${variant}_${outcome.replace(/ /g, '_')}`, series, 'count', [n])
      if (refusedMs.get(series)!.length)
        recorder.record(`ref_${variant}_refusal_ms`, series, 'ms', refusedMs.get(series)!)
      if (clickedMs.get(series)!.length)
        recorder.record(`ref_${variant}_click_ms`, series, 'ms', clickedMs.get(series)!)
      refSafety[`${variant} ${series}`] = { ...Object.fromEntries(byOutcome), trials: total }
    }
    for (const [key, message] of messages) refSafety[`${variant} ${key} (first message)`] = { message }
  }
  details.refSafety = refSafety
}

// ---------------------------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------------------------

const med = (metric: string, series: string) => recorder.get(metric, series)?.median
const ratioText = (value: number | undefined, suffix = '×') =>
  value === undefined || !Number.isFinite(value) ? '-' : `${formatNumber(value)}${suffix}`
const short = (r: Result | undefined) => {
  if (!r) return '-'
  const value = (x: number) => (r.unit === 'count' ? String(x) : formatNumber(x))
  return r.n === 1 ? value(r.median) : `${value(r.median)} (p95 ${value(r.p95)})`
}

function computeRatios(): Record<string, number> {
  const ratios: Record<string, number> = {}
  const put = (name: string, value: number | undefined) => {
    if (value !== undefined && Number.isFinite(value)) ratios[name] = round(value)
  }
  for (const step of STEPS) {
    put(`cmd_${step}.dstack_client_vs_mcp`, recorder.ratio([`cmd_${step}`, DSTACK], [`cmd_${step}`, MCP]))
    put(`cmd_${step}.dstack_cli_vs_mcp`, recorder.ratio([`cmd_${step}`, CLI_SERIES], [`cmd_${step}`, MCP]))
    put(
      `cmd_${step}.dstack_cli_vs_client`,
      recorder.ratio([`cmd_${step}`, CLI_SERIES], [`cmd_${step}`, DSTACK]),
    )
    put(`tokens_${step}.mcp_vs_dstack`, recorder.ratio([`tokens_${step}`, MCP], [`tokens_${step}`, DSTACK]))
  }
  put(
    'tokens_loop.mcp_full_loop_vs_dstack_agent_loop',
    recorder.ratio(['tokens_loop', MCP], ['tokens_loop_agent', DSTACK]),
  )
  put('cmd_loop.mcp_vs_dstack_agent_loop', recorder.ratio(['cmd_loop', MCP], ['cmd_loop_agent', DSTACK]))
  put('cold_start.dstack_client_vs_mcp', recorder.ratio(['cold_start', DSTACK], ['cold_start', MCP]))
  put('cold_start.dstack_cli_vs_mcp', recorder.ratio(['cold_start', CLI_SERIES], ['cold_start', MCP]))
  for (const m of [
    'rss_tree_form',
    'pss_tree_form',
    'rss_tree_heavy_max',
    'pss_tree_heavy_max',
    'rss_root_form',
  ])
    put(`${m}.dstack_vs_mcp`, recorder.ratio([m, DSTACK], [m, MCP]))
  for (const page of [FORM, ...HEAVY]) {
    const k = pageKey(page)
    const t = `page_${k}_tokens`
    put(`${t}.mcp_snapshot_vs_dstack_unbounded`, recorder.ratio([t, SIZE.mcpSnapshot], [t, SIZE.unbounded]))
    put(`${t}.mcp_snapshot_vs_dstack_default`, recorder.ratio([t, SIZE.mcpSnapshot], [t, SIZE.full]))
    put(
      `${t}.mcp_snapshot_vs_dstack_interactive`,
      recorder.ratio([t, SIZE.mcpSnapshot], [t, SIZE.interactive]),
    )
    put(`${t}.mcp_after_click_vs_dstack_diff`, recorder.ratio([t, SIZE.mcpAfter], [t, SIZE.diff]))
    put(
      `page_${k}_snapshot.dstack_vs_mcp`,
      recorder.ratio([`page_${k}_snapshot`, DSTACK], [`page_${k}_snapshot`, MCP]),
    )
    put(
      `page_${k}_snapshot_unbounded.dstack_vs_mcp`,
      recorder.ratio([`page_${k}_snapshot_unbounded`, DSTACK], [`page_${k}_snapshot`, MCP]),
    )
    put(`page_${k}_goto.dstack_vs_mcp`, recorder.ratio([`page_${k}_goto`, DSTACK], [`page_${k}_goto`, MCP]))
    put(
      `page_${k}_click.dstack_vs_mcp`,
      recorder.ratio([`page_${k}_click`, DSTACK], [`page_${k}_click`, MCP]),
    )
  }
  return ratios
}

function latencyTable(): string {
  const rows = STEPS.map((step) => {
    const m = `cmd_${step}`
    return [
      STEP_LABEL[step],
      short(recorder.get(m, DSTACK)),
      short(recorder.get(m, CLI_SERIES)),
      short(recorder.get(m, MCP)),
      ratioText(recorder.ratio([m, DSTACK], [m, MCP])),
      ratioText(recorder.ratio([m, CLI_SERIES], [m, MCP])),
      `${med(`tokens_${step}`, DSTACK) ?? '-'} / ${med(`tokens_${step}`, MCP) ?? '-'}`,
    ]
  })
  rows.push(['(process floor: node -e 0)', '', short(recorder.get('process_floor', FLOOR)), '', '', '', ''])
  return renderTable(
    [
      'form page, ms',
      `${DSTACK} n=${N.warm}`,
      `${CLI_SERIES} n=${N.cli}`,
      `${MCP} n=${N.warm}`,
      'client÷mcp',
      'CLI÷mcp',
      'tokens/resp dstack / mcp',
    ],
    rows,
  )
}

function footprintTable(): string {
  const rows: string[][] = []
  const row = (label: string, metric: string, unit: string) =>
    rows.push([
      label,
      unit,
      short(recorder.get(metric, DSTACK)),
      short(recorder.get(metric, CLI_SERIES)),
      short(recorder.get(metric, MCP)),
      ratioText(recorder.ratio([metric, DSTACK], [metric, MCP])),
    ])
  row(`cold start: connect + first goto (n=${N.cold})`, 'cold_start', 'ms')
  row('  of which connect / spawn+initialize', 'cold_connect', 'ms')
  row('RSS, daemon/server + Chromium, form page', 'rss_tree_form', 'MB')
  row('PSS, same tree, form page', 'pss_tree_form', 'MB')
  row('RSS, daemon/server process alone', 'rss_root_form', 'MB')
  row('processes in the tree', 'processes_form', 'count')
  row('RSS tree, max over the pages', 'rss_tree_heavy_max', 'MB')
  row('PSS tree, max over the pages', 'pss_tree_heavy_max', 'MB')
  return renderTable(['cold start and footprint', 'unit', DSTACK, CLI_SERIES, MCP, 'dstack÷mcp'], rows)
}

function sizeTable(): string {
  const rows = [FORM, ...HEAVY].map((page) => {
    const t = `page_${pageKey(page)}_tokens`
    const v = (series: string) => {
      const r = recorder.get(t, series)
      return r ? String(r.median) : '-'
    }
    return [
      page.label,
      v(SIZE.full),
      v(SIZE.unbounded),
      v(SIZE.interactive),
      v(SIZE.diff),
      v(SIZE.mcpSnapshot),
      v(SIZE.mcpClick),
      ratioText(recorder.ratio([t, SIZE.mcpSnapshot], [t, SIZE.unbounded])),
      ratioText(recorder.ratio([t, SIZE.mcpSnapshot], [t, SIZE.interactive])),
      ratioText(recorder.ratio([t, SIZE.mcpAfter], [t, SIZE.diff])),
    ]
  })
  return renderTable(
    [
      'tokens per response',
      'dstack full (8k budget)',
      'dstack full (unbounded)',
      'dstack -i',
      'dstack -D after click',
      'mcp snapshot',
      'mcp click resp.',
      'mcp÷dstack unbounded',
      'mcp÷dstack -i',
      'mcp snapshot after click÷dstack -D',
    ],
    rows,
  )
}

function pageLatencyTable(): string {
  const rows = [FORM, ...HEAVY].map((page) => {
    const k = pageKey(page)
    const d = (what: string) => short(recorder.get(`page_${k}_${what}`, DSTACK))
    const m = (what: string) => short(recorder.get(`page_${k}_${what}`, MCP))
    return [
      page.label,
      `${d('goto')} / ${m('goto')}`,
      `${d('snapshot')} / ${d('snapshot_unbounded')} / ${m('snapshot')}`,
      d('snapshot_i'),
      `${d('click')} / ${m('click')}`,
      d('snapshot_D'),
      ratioText(recorder.ratio([`page_${k}_snapshot_unbounded`, DSTACK], [`page_${k}_snapshot`, MCP])),
    ]
  })
  return renderTable(
    [
      `ms, median of ${N.pagePasses}`,
      'goto dstack / mcp',
      'snapshot dstack 8k / unbounded / mcp',
      'dstack -i',
      'click dstack / mcp',
      'dstack -D',
      'unbounded÷mcp',
    ],
    rows,
  )
}

function refTable(): string {
  const rows: string[][] = []
  for (const variant of VARIANTS)
    for (const series of [DSTACK, MCP]) {
      const count = (o: Outcome) => recorder.get(`ref_${variant}_${o.replace(/ /g, '_')}`, series)?.median
      if (count('correct') === undefined) continue
      rows.push([
        variant,
        series,
        ...OUTCOMES.map((o) => String(count(o))),
        short(recorder.get(`ref_${variant}_refusal_ms`, series)),
        short(recorder.get(`ref_${variant}_click_ms`, series)),
      ])
    }
  return renderTable(['ref safety', 'series', ...OUTCOMES, 'refusal ms', 'click ms'], rows)
}

/** Facts computed from this run's numbers (never typed in). */
function findings(): string[] {
  const out: string[] = []
  for (const page of [FORM, ...HEAVY]) {
    const k = pageKey(page)
    const tokens = (series: string) => recorder.get(`page_${k}_tokens`, series)?.median
    const chars = (series: string) => recorder.get(`page_${k}_chars`, series)?.median
    const full = tokens(SIZE.full)
    const fullChars = chars(SIZE.full)
    if (full !== undefined && fullChars !== undefined && fullChars / 4 > 0 && tokenizer.startsWith('o200k'))
      out.push(
        `${page.label}: dstack's default snapshot is ${full} tokens for ${fullChars} characters ` +
          `(${formatNumber(full / (fullChars / 4))}× its chars/4 estimate)`,
      )
    const diff = tokens(SIZE.diff)
    if (diff !== undefined && full !== undefined && diff > full)
      out.push(
        `${page.label}: the diff after one click (${diff} tokens) is larger than the whole default snapshot (${full})`,
      )
  }
  for (const variant of VARIANTS)
    for (const series of [DSTACK, MCP]) {
      const wrong = recorder.get(`ref_${variant}_wrong_element`, series)?.median
      const changed = recorder.get(`ref_${variant}_changed_element`, series)?.median
      if (wrong) out.push(`ref safety ${variant}: ${series} clicked the wrong element ${wrong} time(s)`)
      if (changed) out.push(`ref safety ${variant}: ${series} clicked the renamed element ${changed} time(s)`)
    }
  return out
}

// ---------------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const startedAt = new Date()
  if (
    !existsSync(join(import.meta.dirname, '..', 'dist', 'index.js')) ||
    !existsSync(join(CLI, '..', '..', 'dist'))
  )
    throw new Error('build first: pnpm turbo run build --filter=@dstack/cli...')
  const work = mkdtempSync(join(tmpdir(), 'dstack-browser-bench-'))
  const home = join(work, 'home')
  const workspace = join(work, 'workspace')
  const shots = join(work, 'shots')
  const mcpDir = join(work, 'mcp')
  for (const dir of [home, workspace, shots, mcpDir]) mkdirSync(dir, { recursive: true })
  progress(`work dir ${work}`)
  const server = await servePages(N.seed)
  let client: BrowserClient | null = null
  let peer: McpPeer | null = null
  try {
    const installError = await installPeers(progress)
    if (installError) {
      peerErrors.install = installError
      warn(`could not install the peers: ${installError.split('\n')[0]}`)
    }
    const loaded = await loadTokenizer()
    if ('count' in loaded) {
      countTokens = loaded.count
      tokenizer = 'o200k_base (js-tiktoken)'
    } else warn(`js-tiktoken could not be loaded (${loaded.error}): tokens are chars/4`)
    const peerReady = !installError && existsSync(McpPeer.args(mcpDir)[0]!)

    await benchColdStart(server, workspace, home, peerReady ? mcpDir : null)

    progress('starting the warm sessions')
    client = await BrowserClient.connect({ workspace, home, agent: 'bench' })
    checked(await clientDriver(client, shots).goto(server.url(FORM.path)), 'goto')
    if (peerReady && !peerErrors.mcp) {
      try {
        peer = await McpPeer.start(mcpDir)
        checked(await peer.call('browser_navigate', { url: server.url(FORM.path) }), 'browser_navigate')
      } catch (error) {
        peerErrors.mcp = (error as Error).message.slice(0, 2000)
        warn(`playwright-mcp failed to start: ${(error as Error).message.split('\n')[0]}`)
        await peer?.close()
        peer = null
      }
    }
    recordFormMemory(client, peer)
    await benchWarm(server, client, peer, shots)
    await benchCli(server, workspace, home, shots)
    await benchPages(server, client, peer)
    await benchRefSafety(server, client, peer)
  } finally {
    await peer?.close()
    await stopDaemon({ workspace, home }).catch(() => {})
    await server.close()
    if (process.env.BROWSER_BENCH_KEEP === '1') progress(`kept ${work}`)
    else rmSync(work, { recursive: true, force: true })
  }

  const ratios = computeRatios()
  console.log(latencyTable())
  console.log('')
  console.log(footprintTable())
  console.log('')
  console.log(pageLatencyTable())
  console.log('')
  console.log(sizeTable())
  console.log('')
  console.log(refTable())
  console.log(
    `\nTokens: ${tokenizer}, of the text each call returns (dstack: the command's output with its untrusted-content ` +
      `envelope, as the CLI prints it; playwright-mcp: the text parts of the tool result). dstack snapshots are cut at ` +
      `8,000 estimated tokens by default (--budget); "unbounded" = --budget ${UNBOUNDED}. playwright-mcp ${MCP_VERSION} ` +
      `(--headless --isolated --executable-path <chromium>${process.getuid?.() === 0 ? ' --no-sandbox' : ''}, viewport ` +
      `1280x720, default 500 ms settle after actions) has no interactive-only or diff snapshot; its navigate and click ` +
      `responses link the snapshot as a file instead of inlining it, so an agent that wants to see the page after a ` +
      `click calls browser_snapshot ("mcp snapshot after click"). Per-command ms: a round robin of one iteration of ` +
      `dstack (client in this process, HTTP to the daemon) and one of playwright-mcp (SDK client over stdio), after ` +
      `one unrecorded warm-up; the CLI series is one node process per command (spawn → exit). RSS/PSS: summed over ` +
      `the daemon or MCP server and its descendants from /proc (RSS counts shared pages in every process; PSS splits ` +
      `them). Ref safety: the page changes between the snapshot and the click; "correct" = the element the snapshot ` +
      `showed, "changed element" = that node, renamed since the snapshot, "look-alike" = a new element with the same ` +
      `role and name, "refused" = an error and no click. Published anchors (§3.2/§3.5/§5.3): gstack ~3 s cold and ` +
      `100-200 ms warm, a stale ref failing in ~5 ms; agent-browser 617 ms cold (Rust), ~1 ms warm overhead, 8 MB ` +
      `daemon; Playwright click ~1.03-1.14 s (500 ms settle) vs snapshot ~0.095 s; playwright-mcp full snapshots on ` +
      `50 real pages median 44,962 / p95 391,250 tokens. Other work on this machine adds noise to every timing; ` +
      `compare series within a run.`,
  )
  console.log('')
  for (const line of findings()) console.log(line)
  for (const [what, error] of Object.entries(peerErrors)) console.log(`PEER ERROR ${what}: ${error}`)
  for (const warning of warnings) console.log(`WARNING: ${warning}`)
  const file = writeResults('browser', startedAt, recorder.results, ratios, {
    ...details,
    tokenizer,
    pages: [FORM, ...HEAVY],
    samples: N,
    peers: {
      playwrightMcp: MCP_VERSION,
      args: McpPeer.args('<work>/mcp/mcp-output').slice(1),
      cache: PEER_CACHE,
      errors: peerErrors,
    },
    warnings,
    totalSeconds: round((performance.now() - started) / 1000, 1),
  })
  console.log(`\nresults: ${file} (${((performance.now() - started) / 1000).toFixed(0)} s)`)
}

await main()

// Shared by every `pnpm bench` script: sample statistics, process timing, the printed table and the JSON file
// under bench/results/. Benchmarks measure; tests never time anything.

import { spawn } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { arch, cpus, platform, release, totalmem } from 'node:os'
import { join } from 'node:path'

export const RESULTS_DIR = join(import.meta.dirname, 'results')

/** Summary of one metric for one series (a driver, a tool, a baseline). */
export interface Result {
  metric: string
  series: string
  unit: string
  median: number
  p95: number
  min: number
  n: number
}

/** Collects samples into Results. */
export class Recorder {
  readonly results: Result[] = []

  record(metric: string, series: string, unit: string, samples: number[]): Result {
    if (samples.length === 0) throw new Error(`no samples for ${metric} (${series})`)
    const sorted = [...samples].sort((a, b) => a - b)
    const mid = sorted.length / 2
    const median = sorted.length % 2 ? sorted[Math.floor(mid)]! : (sorted[mid - 1]! + sorted[mid]!) / 2
    const p95 = sorted[Math.ceil(0.95 * sorted.length) - 1]! // nearest rank
    const result = { metric, series, unit, median, p95, min: sorted[0]!, n: sorted.length }
    this.results.push(result)
    return result
  }

  get(metric: string, series: string): Result | undefined {
    return this.results.find((r) => r.metric === metric && r.series === series)
  }

  /** median(a) / median(b), or undefined when either is missing. */
  ratio(a: [string, string], b: [string, string]): number | undefined {
    const x = this.get(...a)
    const y = this.get(...b)
    return x && y ? x.median / y.median : undefined
  }
}

export interface NodeRun {
  /** From spawn to the process's exit (not to its pipes closing). */
  ms: number
  /** performance.now() at exit. */
  exitedAt: number
  stdout: string
}

/**
 * Runs a command to completion, timing spawn → exit; a non-zero exit is an error with its stderr. `input` is
 * written to its stdin (as Claude Code does for hooks); without it stdin is closed.
 */
export function runProcess(
  command: string,
  args: string[],
  env?: NodeJS.ProcessEnv,
  input?: string,
): Promise<NodeRun> {
  return new Promise((done, fail) => {
    const started = performance.now()
    let exitedAt = 0
    let stdout = ''
    let stderr = ''
    const child = spawn(command, args, {
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      env: env ?? process.env,
    })
    if (input !== undefined) child.stdin?.end(input)
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
    })
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk
    })
    child.once('exit', () => {
      exitedAt = performance.now()
    })
    child.once('error', fail)
    child.once('close', (code, signal) => {
      if (code === 0) done({ ms: exitedAt - started, exitedAt, stdout })
      else fail(new Error(`${command} ${args.join(' ')} exited with ${code ?? signal}:\n${stderr.trim()}`))
    })
  })
}

/** Runs `node <args>` with this Node. */
export function runNode(args: string[], env?: NodeJS.ProcessEnv, input?: string): Promise<NodeRun> {
  return runProcess(process.execPath, args, env, input)
}

/**
 * The sample at a percentile (nearest rank).
 *
 * @example
 * percentile([5, 1, 3], 50) // 3
 */
export function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!
}

export async function timed(action: () => Promise<unknown>): Promise<number> {
  const started = performance.now()
  await action()
  return performance.now() - started
}

export function formatNumber(value: number): string {
  if (value >= 100) return value.toFixed(0)
  return value >= 10 ? value.toFixed(1) : value.toFixed(2)
}

/** "median (p95 x, min y, n=z)", or the value alone for a single sample. */
export function cell(result: Result | undefined): string {
  if (!result) return '-'
  if (result.n === 1) return formatNumber(result.median)
  return `${formatNumber(result.median)} (p95 ${formatNumber(result.p95)}, min ${formatNumber(result.min)}, n=${result.n})`
}

/** A plain-text table with a header rule. */
export function renderTable(header: string[], rows: string[][]): string {
  const widths = header.map((_, col) => Math.max(...[header, ...rows].map((row) => (row[col] ?? '').length)))
  const line = (row: string[]) => row.map((text, col) => text.padEnd(widths[col]!)).join(' | ')
  return [line(header), widths.map((width) => '-'.repeat(width)).join('-+-'), ...rows.map(line)].join('\n')
}

/** Writes bench/results/<bench>-<time>.json with the machine it ran on (and the bench's own `details`); returns the path. */
export function writeResults(
  bench: string,
  startedAt: Date,
  results: Result[],
  ratios: Record<string, number>,
  details?: Record<string, unknown>,
): string {
  const cpuList = cpus()
  const output = {
    bench,
    date: startedAt.toISOString(),
    machine: {
      node: process.version,
      cpus: cpuList.length,
      cpuModel: cpuList[0]?.model ?? 'unknown',
      platform: platform(),
      arch: arch(),
      release: release(),
      totalMemoryMb: Math.round(totalmem() / 1024 / 1024),
    },
    results,
    ratios,
    ...(details ? { details } : {}),
  }
  mkdirSync(RESULTS_DIR, { recursive: true })
  const stamp = startedAt
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replaceAll(':', '-')
  const file = join(RESULTS_DIR, `${bench}-${stamp}.json`)
  writeFileSync(file, `${JSON.stringify(output, null, 2)}\n`)
  return file
}

/**
 * A deterministic PRNG in [0, 1) (mulberry32): every run of a benchmark generates the same data from the same seed.
 *
 * @example
 * const random = prng(42)
 * random() // 0.6011037519201636, every time
 */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * Installs pinned packages from the npm registry into `dir` (a cache outside the workspace: peers are measured, never
 * depended on), unless each is already there at that version. Returns npm's error text on failure, else null.
 *
 * @example
 * const error = await installPinned('/tmp/peers', { nx: '24.0.6', turbo: '2.11.11' })
 */
export async function installPinned(dir: string, packages: Record<string, string>): Promise<string | null> {
  const { existsSync, readFileSync } = await import('node:fs')
  const have = (name: string, version: string) => {
    const file = join(dir, 'node_modules', name, 'package.json')
    return (
      existsSync(file) && (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version === version
    )
  }
  const wanted = Object.entries(packages)
  if (wanted.every(([name, version]) => have(name, version))) return null
  mkdirSync(dir, { recursive: true })
  try {
    await runProcess('npm', [
      'install',
      '--prefix',
      dir,
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
      ...wanted.map(([name, version]) => `${name}@${version}`),
    ])
    return null
  } catch (error) {
    return (error as Error).message.slice(0, 2000)
  }
}

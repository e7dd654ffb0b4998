import { setTimeout as sleep } from 'node:timers/promises'
import { runCommand } from '@dstack/daemon'
import type { Affected } from './queries/affected.ts'
import { type Cycle, orderRepos } from './queries/order.ts'
import type { RepoGraph } from './types.ts'
import type { HealthCheck, WorkspaceFile } from './workspace-file.ts'

export type Phase = 'build' | 'restart' | 'verify'

export type PlanStep =
  | { phase: Phase; repo: string; kind: 'command'; name: string; command: string; cwd: string }
  | { phase: 'verify'; repo: string; kind: 'health'; name: string; health: HealthCheck }

export interface RebuildPlan {
  /** The affected repositories, dependencies first. */
  repos: string[]
  /** Every build in that order, then every restart in that order, then every health check and verify command. */
  steps: PlanStep[]
  /** Affected repositories dstack.yaml says nothing about: nothing is run for them. */
  unconfigured: string[]
  /** Cycles among the affected repositories; their members are ordered by name. */
  cycles: Cycle[]
}

/**
 * What to run after a change: rebuild every affected repository in dependency order, then restart their services in
 * the same order, then check health and run the verify commands — "change dirmacs-core, rebuild ares, restart the
 * service, verify ehb still works" from the graph and dstack.yaml.
 *
 * @example
 * const plan = planRebuild(graph, workspace, affected(graph, { repos: ['dirmacs-core'] }))
 * plan.steps.map((s) => `${s.phase} ${s.repo}: ${s.name}`)
 * // ['build dirmacs-core: cargo build --release', 'build ares: cargo build --release',
 * //  'restart ares: sudo systemctl restart ares', 'verify ares: GET http://127.0.0.1:3000/health', 'verify ehb: ./smoke.sh']
 */
export function planRebuild(graph: RepoGraph, workspace: WorkspaceFile, affected: Affected): RebuildPlan {
  const ordering = orderRepos(graph, { only: affected.repos })
  const roots = new Map(graph.repos.map((r) => [r.id, r.root]))
  const steps: PlanStep[] = []
  const entries = ordering.order.map((repo) => ({ repo, entry: workspace.repos[repo] }))
  for (const { repo, entry } of entries)
    for (const command of entry?.build ?? [])
      steps.push({ phase: 'build', repo, kind: 'command', name: command, command, cwd: roots.get(repo)! })
  for (const { repo, entry } of entries)
    for (const service of entry?.services ?? [])
      steps.push({
        phase: 'restart',
        repo,
        kind: 'command',
        name: `${service.name}: ${service.restart}`,
        command: service.restart,
        cwd: roots.get(repo)!,
      })
  for (const { repo, entry } of entries) {
    for (const service of entry?.services ?? [])
      if (service.health)
        steps.push({
          phase: 'verify',
          repo,
          kind: 'health',
          name: `${service.name}: GET ${service.health.url}`,
          health: service.health,
        })
    for (const command of entry?.verify ?? [])
      steps.push({ phase: 'verify', repo, kind: 'command', name: command, command, cwd: roots.get(repo)! })
  }
  return {
    repos: ordering.order,
    steps,
    unconfigured: ordering.order.filter((repo) => !workspace.repos[repo]),
    cycles: ordering.cycles,
  }
}

export interface StepResult {
  step: PlanStep
  status: 'ok' | 'failed' | 'skipped'
  durationMs: number
  /** What failed, in one line; null when ok or skipped. */
  error: string | null
  /** The end of the command's output (or the last response), for the report. */
  output: string
}

export interface PlanRun {
  ok: boolean
  results: StepResult[]
}

export interface RunPlanOptions {
  /** Per command; default 10 minutes. */
  timeoutMs?: number
  /** Aborting stops the running step (its process group is killed) and skips the rest. */
  signal?: AbortSignal
  onStep?: (result: StepResult, index: number, total: number) => void
}

/**
 * Runs a plan's steps in order and stops at the first failure (the remaining steps are reported as skipped).
 * Commands come from the user's own dstack.yaml and run with `sh -c` in the repository, as a Makefile's would;
 * restarts may leave their service running, every other step's leftovers are killed.
 *
 * @example
 * const run = await runPlan(plan, { onStep: (r) => console.log(r.status, r.step.name) })
 * if (!run.ok) process.exitCode = 1
 */
export async function runPlan(plan: RebuildPlan, options: RunPlanOptions = {}): Promise<PlanRun> {
  const results: StepResult[] = []
  let failed = false
  for (const [i, step] of plan.steps.entries()) {
    let result: StepResult
    if (failed || options.signal?.aborted)
      result = { step, status: 'skipped', durationMs: 0, error: null, output: '' }
    else if (step.kind === 'health') result = { step, ...(await checkHealth(step.health, options.signal)) }
    else {
      const run = await runCommand(['sh', '-c', step.command], {
        cwd: step.cwd,
        timeoutMs: options.timeoutMs ?? 600_000,
        killLeftovers: step.phase !== 'restart',
        signal: options.signal,
      })
      const output = `${run.stdout}${run.stderr}`.slice(-2000)
      const error = run.startError
        ? `could not start: ${run.startError}`
        : run.aborted
          ? 'interrupted'
          : run.timedOut
            ? `timed out after ${options.timeoutMs ?? 600_000} ms`
            : run.exitCode !== 0
              ? `exit code ${run.exitCode ?? run.signal}`
              : null
      result = { step, status: error ? 'failed' : 'ok', durationMs: run.durationMs, error, output }
    }
    failed ||= result.status === 'failed'
    results.push(result)
    options.onStep?.(result, i, plan.steps.length)
  }
  return { ok: !failed, results }
}

/**
 * GETs the URL until it answers as expected or the retries run out (backoff 0.25 s, doubling, at most 2 s); an
 * abort ends it at once.
 *
 * @example
 * await checkHealth({ url: 'http://127.0.0.1:3000/health', timeout_ms: 2000, retries: 5 })
 * // { status: 'ok', durationMs: 12, error: null, output: '200 {"ok":true}' }
 */
export async function checkHealth(
  health: HealthCheck,
  signal?: AbortSignal,
): Promise<Omit<StepResult, 'step'> & { status: 'ok' | 'failed' }> {
  const started = performance.now()
  let error = ''
  let output = ''
  for (let attempt = 0; attempt <= health.retries; attempt++) {
    if (attempt > 0) await sleep(Math.min(2000, 250 * 2 ** (attempt - 1)))
    if (signal?.aborted) {
      error = 'interrupted'
      break
    }
    try {
      const timeout = AbortSignal.timeout(health.timeout_ms)
      const response = await fetch(health.url, {
        signal: signal ? AbortSignal.any([timeout, signal]) : timeout,
        redirect: 'manual',
      })
      const body = await response.text()
      output = `${response.status} ${body.slice(0, 500)}`
      const statusOk =
        health.status === undefined
          ? response.status >= 200 && response.status < 400
          : response.status === health.status
      if (!statusOk) error = `status ${response.status}, expected ${health.status ?? '2xx or 3xx'}`
      else if (health.body !== undefined && !body.includes(health.body))
        error = `body does not contain ${JSON.stringify(health.body)}`
      else return { status: 'ok', durationMs: performance.now() - started, error: null, output }
    } catch (e) {
      const cause = (e as Error & { cause?: Error }).cause
      error =
        (e as Error).name === 'TimeoutError'
          ? `no answer within ${health.timeout_ms} ms`
          : signal?.aborted
            ? 'interrupted'
            : (cause?.message ?? (e as Error).message)
    }
  }
  return {
    status: 'failed',
    durationMs: performance.now() - started,
    error: `${health.url}: ${error} (after ${health.retries + 1} attempts)`,
    output,
  }
}

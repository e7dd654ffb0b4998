import { spawn } from 'node:child_process'
import { hostname, userInfo } from 'node:os'
import { type CommandResult, runCommand } from '@dstack/daemon'
import { withoutRepoEnv } from '@dstack/git'
import { checkHealth } from '@dstack/repo-graph'
import type { Service } from './config.ts'
import { databaseUrl, envFileText, type ResolvedEnv, redact } from './env.ts'
import { pgEnv } from './migrations.ts'
import { type DeployPlan, describeStep, type Reached, type Step } from './plan.ts'
import { LOCKED_EXIT, MOVED_EXIT } from './scripts.ts'
import type { HistoryEntry } from './state.ts'
import type { Target } from './targets/index.ts'

export type Outcome = HistoryEntry['outcome']

/** One step as it ran. */
export interface StepRun {
  id: string
  kind: Step['kind']
  title: string
  /** The command line as this machine ran it (the plan's, exactly), or the HTTP check. */
  command: string[]
  status: 'ok' | 'failed'
  durationMs: number
  exitCode: number | null
  /** The end of its output, secrets blanked. */
  output: string
  error: string | null
}

/**
 * What a deploy or rollback did, for people (formatReport) and programs (`--json`): every step with its command,
 * duration and output, the outcome, and why it failed.
 */
export interface DeployReport {
  schema: 'dstack.deploy-report/v1'
  action: DeployPlan['action']
  service: string
  target: string
  release: string
  previous: string | null
  commit: string | null
  /**
   * `deployed`; `rolled-back` (failed, and the previous release was put back); `aborted` (failed before going live:
   * nothing changed); `failed` (the rollback failed too, or there was nothing to go back to: needs a person);
   * `refused` (did not start: locked, plan out of date, breaking migration).
   */
  outcome: Outcome
  reason: string | null
  failedStep: string | null
  /** What `current` points at afterwards, as far as this deploy knows. */
  serving: string | null
  startedAt: string
  finishedAt: string
  durationMs: number
  steps: StepRun[]
  rollback: StepRun[]
  finish: StepRun[]
  migrations: DeployPlan['migrations']
}

export interface RunOptions {
  /** The service's environment (resolveEnv): written to the release, and the database URL for migrations. */
  env: ResolvedEnv
  /** Stops the step running now; the rollback and the unlock still run (they are not interruptible). */
  signal?: AbortSignal
  onStep?: (run: StepRun, phase: 'steps' | 'rollback' | 'finish') => void
  /** Called as a step starts (progress). */
  onStart?: (step: Step, phase: 'steps' | 'rollback' | 'finish') => void
}

const OUTPUT_TAIL = 4000

/**
 * Executes a plan exactly as planned: its steps in order; on the first failure the rollback steps for what had been
 * reached; then the history record and the unlock, whatever happened (once the lock was taken). Never throws for a
 * failed step — the report says what failed and why.
 *
 * @example
 * const plan = await planDeploy(service, target, await inspectTarget(target, service))
 * const report = await runDeploy(plan, target, service, { env: resolveEnv(service, dir) })
 * if (report.outcome !== 'deployed') console.error(formatReport(report))
 */
export async function runDeploy(
  plan: DeployPlan,
  target: Target,
  service: Service,
  options: RunOptions,
): Promise<DeployReport> {
  const startedAt = new Date()
  const started = performance.now()
  const secrets = options.env.secretValues
  const context: StepContext = { plan, target, service, options, secrets, history: '' }
  const report: DeployReport = {
    schema: 'dstack.deploy-report/v1',
    action: plan.action,
    service: plan.service,
    target: plan.target,
    release: plan.release,
    previous: plan.previous,
    commit: plan.commit,
    outcome: 'deployed',
    reason: null,
    failedStep: null,
    serving: plan.release,
    startedAt: startedAt.toISOString(),
    finishedAt: '',
    durationMs: 0,
    steps: [],
    rollback: [],
    finish: [],
    migrations: plan.migrations,
  }
  const done = () => {
    report.finishedAt = new Date().toISOString()
    report.durationMs = Math.round(performance.now() - started)
    return report
  }
  if (plan.refusal) {
    report.outcome = 'refused'
    report.reason = plan.refusal
    report.serving = plan.previous
    return done()
  }

  const reached = new Set<Reached>()
  let locked = false
  let lockedAt = 0
  for (const step of plan.steps) {
    if (locked && performance.now() - lockedAt > service.lock_ttl_s * 1000 - 5000) {
      fail(
        report,
        step,
        `the lock is about to expire (lock_ttl_s ${service.lock_ttl_s}); stopped before ${step.id}`,
      )
      break
    }
    options.onStart?.(step, 'steps')
    const run = await runStep(context, step, options.signal)
    report.steps.push(run)
    options.onStep?.(run, 'steps')
    if (step.kind === 'upload') reached.add('unused')
    if (step.kind === 'switch') {
      reached.delete('unused')
      reached.add('switched')
    }
    if (step.kind === 'restart') reached.add('restarted')
    // A /load that timed out may still have been applied: loading the previous config again is harmless.
    if (step.kind === 'caddy' && !/exit 22\b/.test(run.error ?? '')) reached.add('reloaded')
    if (run.status === 'ok') {
      if (step.kind === 'lock') {
        locked = true
        lockedAt = performance.now()
      }
      continue
    }
    if (step.kind === 'lock') {
      const refused = run.exitCode === LOCKED_EXIT || run.exitCode === MOVED_EXIT
      report.outcome = refused ? 'refused' : 'aborted'
      report.reason = `lock: ${run.error}`
      report.failedStep = step.id
      report.serving = plan.previous
      // Another failure (a dropped connection, Ctrl-C) may come after the lock was taken: give back ours, if it is.
      const unlock = plan.finish.find((s) => s.kind === 'unlock')
      if (!refused && unlock) report.finish.push(await runStep(context, unlock, undefined, true))
      return done()
    }
    fail(report, step, run.error ?? 'failed')
    break
  }

  if (report.failedStep) {
    const live = reached.has('switched')
    report.outcome = live ? 'rolled-back' : 'aborted'
    report.serving = plan.previous
    for (const step of plan.rollback) {
      if (!reached.has(step.when)) continue
      options.onStart?.(step, 'rollback')
      const run = await runStep(context, step, undefined, true)
      report.rollback.push(run)
      options.onStep?.(run, 'rollback')
      // An unused upload that could not be removed changes nothing about what serves.
      if (run.status === 'failed' && step.kind !== 'cleanup') {
        report.outcome = 'failed'
        report.serving = null
        report.reason = `${report.reason}; rollback step ${step.id} failed too: ${run.error}`
      }
    }
    if (live && !plan.previous) {
      report.outcome = 'failed'
      report.serving = null
      report.reason = `${report.reason}; there is no earlier release to go back to, so ${plan.service} is stopped`
    }
  }

  context.history = `${JSON.stringify(historyOf(report))}\n`
  for (const step of plan.finish) {
    if (!locked) break
    options.onStart?.(step, 'finish')
    const run = await runStep(context, step, undefined, true)
    report.finish.push(run)
    options.onStep?.(run, 'finish')
  }
  return done()
}

function fail(report: DeployReport, step: Step, error: string): void {
  report.failedStep = step.id
  report.reason = `${step.id}: ${error}`
}

interface StepContext {
  plan: DeployPlan
  target: Target
  service: Service
  options: RunOptions
  secrets: string[]
  /** The history line the record step appends (set once the outcome is known). */
  history: string
}

async function runStep(
  context: StepContext,
  step: Step,
  signal?: AbortSignal,
  uninterruptible = false,
): Promise<StepRun> {
  const command = describeStep(context.target, step)
  const started = performance.now()
  const shown = (text: string) => redact(text, context.secrets).slice(-OUTPUT_TAIL)
  const finish = (
    status: StepRun['status'],
    exitCode: number | null,
    output: string,
    error: string | null,
  ) => ({
    id: step.id,
    kind: step.kind,
    title: step.title,
    command,
    status,
    durationMs: Math.round(performance.now() - started),
    exitCode,
    output: shown(output),
    error: error === null ? null : shown(error),
  })
  if (signal?.aborted) return finish('failed', null, '', 'interrupted before it started')

  if (step.on === 'http') {
    const result = await checkHealth(step.health!, signal)
    return result.status === 'ok'
      ? finish('ok', null, result.output, null)
      : finish('failed', null, result.output, `${step.health!.url}: ${result.error}`)
  }

  let result: CommandResult
  let producer: ReturnType<typeof startTar> | null = null
  if (step.on === 'local') {
    result = await runCommand(step.argv!, {
      cwd: step.cwd,
      env: withoutRepoEnv(process.env),
      timeoutMs: step.timeoutMs,
      signal,
    })
  } else {
    let input: string | NodeJS.ReadableStream | undefined
    try {
      if (step.stdin?.kind === 'tar') {
        const tar = startTar(step.stdin.argv, step.stdin.cwd)
        producer = tar
        input = tar.stdout
      } else if (step.stdin?.kind === 'env') input = envFileText(context.options.env.values)
      else if (step.stdin?.kind === 'pg') {
        const url = databaseUrl(context.service, context.options.env)
        if (!url)
          throw new Error(
            `migrations need ${context.service.migrations?.database_env}, which is in neither env nor secrets`,
          )
        input = pgEnv(url)
      } else if (step.stdin?.kind === 'history') input = context.history
    } catch (error) {
      return finish('failed', null, '', (error as Error).message)
    }
    result = await context.target.exec(step.argv!, {
      input,
      timeoutMs: step.timeoutMs,
      signal,
      uninterruptible,
    })
  }
  const output = `${result.stdout}${result.stderr ? `\n${result.stderr}` : ''}`.trim()
  // A receiver that stopped reading leaves tar blocked on a full pipe: stop it, so the deploy goes on to roll back.
  if (producer && result.exitCode !== 0) producer.kill()
  const producerError = producer ? await producer.done : null
  if (result.exitCode === 0 && !producerError) return finish('ok', 0, output, null)
  // The receiving side's failure says more (a dropped connection) than tar's broken pipe.
  const why = explain(context.target, result, result.exitCode !== 0 ? null : producerError)
  return finish('failed', result.exitCode, output, why)
}

/** Why a command failed, in one line a person at 3 AM can act on. */
function explain(target: Target, result: CommandResult, producerError: string | null): string {
  if (producerError) return producerError
  if (result.startError) return result.startError
  if (result.aborted) return 'interrupted'
  if (result.timedOut) return `timed out after ${Math.round(result.durationMs / 1000)} s`
  if (target.name.startsWith('ssh://') && result.exitCode === 255)
    return `the SSH connection to ${target.name} failed or dropped: ${lastLine(result.stderr) || 'no message'}`
  // Both streams: a crash logs to stderr, while curl puts the server's answer (Caddy's error) on stdout.
  const detail = [lastLines(result.stderr), lastLines(result.stdout, 3)].filter(Boolean).join(' | ')
  return `exit ${result.exitCode ?? result.signal}${detail ? `: ${detail}` : ''}`
}

function lastLine(text: string): string {
  return text.trim().split('\n').at(-1) ?? ''
}

function lastLines(text: string, n = 6): string {
  return text.trim().split('\n').slice(-n).join(' | ')
}

/** A local tar writing to a pipe; `done` is null when it succeeded, else why not; `kill` stops it. */
function startTar(
  argv: string[],
  cwd: string,
): { stdout: NodeJS.ReadableStream; done: Promise<string | null>; kill: () => void } {
  const child = spawn(argv[0]!, argv.slice(1), { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (c: string) => {
    stderr = (stderr + c).slice(-2000)
  })
  const done = new Promise<string | null>((resolve) => {
    child.once('error', (e) => resolve(`tar could not start: ${e.message}`))
    child.once('close', (code) =>
      resolve(code === 0 ? null : `packing the artifact failed (tar exit ${code}): ${lastLines(stderr)}`),
    )
  })
  return { stdout: child.stdout, done, kill: () => child.kill('SIGKILL') }
}

function historyOf(report: DeployReport): HistoryEntry {
  const live = report.steps.some((s) => s.kind === 'switch')
  return {
    action: report.action,
    service: report.service,
    release: report.release,
    previous: report.previous,
    outcome: report.outcome,
    reason: report.reason,
    bad: report.failedStep && live ? [report.release] : [],
    by: `${userInfo().username}@${hostname()}`,
    startedAt: report.startedAt,
    durationMs: Date.now() - Date.parse(report.startedAt),
  }
}

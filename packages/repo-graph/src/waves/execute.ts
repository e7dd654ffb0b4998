// Runs a plan wave by wave: each task in a git worktree of its own, its executor in parallel with the wave's other
// tasks, then a check of what the tasks REALLY changed (the committed diff, not what the plan declared) before
// anything is merged. Prior art (get-shit-done, Minnow) trusts the declared files; a task that edits a file it did
// not declare is exactly the conflict they find only at merge time.

import { existsSync } from 'node:fs'
import { mkdir, readdir, rm, rmdir, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { type CommandResult, runCommand } from '@dstack/daemon'
import { currentHead, runGit, withoutRepoEnv } from '@dstack/git'
import { z } from 'zod'
import { callback, parseOptions } from '../options.ts'
import { mapPool } from '../pool.ts'
import { matchesAny } from './overlap.ts'
import { type ExecutorSpec, executorSpecSchema, type Plan, type PlanTask } from './plan.ts'
import { planWaves, trackedFiles } from './schedule.ts'

export type TaskStatus = 'succeeded' | 'failed' | 'timeout' | 'skipped'

/** What the executor said about its work, parsed from its output. */
export type ExecutorSummary =
  | { type: 'shell' /** The end of its stdout. */; output: string }
  | {
      type: 'pawan'
      success: boolean
      content: string | null
      error: string | null
      iterations: number | null
      toolCallCount: number | null
      usage: {
        promptTokens: number | null
        completionTokens: number | null
        totalTokens: number | null
      } | null
    }
  | {
      type: 'claude'
      isError: boolean
      subtype: string | null
      result: string | null
      sessionId: string | null
      costUsd: number | null
      numTurns: number | null
    }

export interface TaskReport {
  id: string
  wave: number
  status: TaskStatus
  /** Why it failed, timed out or was skipped; null when it succeeded. */
  error: string | null
  exitCode: number | null
  durationMs: number
  executor: ExecutorSpec['type'] | null
  /** The command line run (or that would run, in a dry run); the prompt is one argument, never shell text. */
  argv: string[]
  summary: ExecutorSummary | null
  /** The end of its stderr, for diagnosing failures. */
  stderr: string
  /** The patterns the plan declared. */
  declared: string[]
  /** Files the branch really changes against the wave's base (added, modified, deleted; both sides of a rename). */
  actual: string[]
  /** Actual files no declared pattern covers. */
  undeclared: string[]
  /** The branch tip after dstack committed what the executor left; null when nothing ran. */
  commit: string | null
  /** Commits on the branch, oldest first (the executor's own, then dstack's). */
  commits: Array<{ sha: string; subject: string }>
  branch: string | null
  worktree: string | null
  /** The worktree and branch are left in place for a human. */
  kept: boolean
}

/** A file two or more tasks of one wave really changed (the plan's declared files said they would not). */
export interface RealOverlap {
  file: string
  tasks: string[]
}

export interface WaveReport {
  index: number
  /** `merged`: all merged and cleaned up; `kept`: ran, worktrees left for a human; `skipped`/`planned`: not run. */
  status: 'merged' | 'kept' | 'skipped' | 'planned'
  /** The commit the wave's worktrees started from; null when it did not run. */
  base: string | null
  tasks: TaskReport[]
  overlaps: RealOverlap[]
  merged: boolean
  /** The merge commits made, in task order. */
  mergeCommits: string[]
}

export type StopReason =
  | 'task-failed'
  | 'task-timeout'
  | 'overlap'
  | 'merge-failed'
  | 'merge-disabled'
  | 'aborted'

export interface ExecutionReport {
  plan: { name: string | null; slug: string; file: string }
  repo: string
  /** The branch merged into; null on a detached HEAD. */
  branch: string | null
  startedAt: string
  finishedAt: string
  durationMs: number
  dryRun: boolean
  /** `completed`: every selected wave merged; `stopped`: see `stop`; `dry-run`: nothing ran. */
  outcome: 'completed' | 'stopped' | 'dry-run'
  stop: { wave: number; reason: StopReason; message: string } | null
  /** HEAD before and after the run. */
  startHead: string
  endHead: string
  /** All the plan's waves, for comparison with the critical path. */
  plannedWaves: number
  criticalPathLength: number
  waves: WaveReport[]
  /** What a human should do now, as sentences with commands. */
  next: string[]
}

export type WaveEvent =
  | { type: 'wave-start'; wave: number; tasks: string[]; base: string }
  | { type: 'task-start'; wave: number; task: string; worktree: string; branch: string; argv: string[] }
  | { type: 'task-end'; wave: number; task: TaskReport }
  | { type: 'merged'; wave: number; task: string; commit: string }
  | { type: 'wave-end'; wave: WaveReport }
  | { type: 'stopped'; wave: number; reason: StopReason; message: string }

export interface ExecuteOptions {
  /** The repository to run in (any directory inside it); worktrees branch from its HEAD and merge back into it. */
  repo: string
  /** 1-based wave numbers to run; default all. */
  waves?: number[]
  /** Use this executor for every task instead of the plan's. */
  executor?: ExecutorSpec
  /** Tasks running at once; default 4 (agents mostly wait on their model). */
  concurrency?: number
  /** Per task; default 30 minutes. The executor's whole process group is killed when it runs out. */
  timeoutMs?: number
  /** Merge a clean wave into the current branch and go on; default true. Off: stop after one wave, keep it. */
  merge?: boolean
  onEvent?: (event: WaveEvent) => void
  /** Check and report what would run, create nothing. */
  dryRun?: boolean
  /** Abort: running executors are killed, nothing more is merged. */
  signal?: AbortSignal
}

/** The run could not start: bad options, an unusable repository, or a task without an executor. */
export class WaveExecutionError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'WaveExecutionError'
  }
}

const optionsSchema = z.strictObject({
  repo: z.string().min(1, 'repo is empty'),
  waves: z.array(z.number().int().positive()).min(1).optional(),
  executor: executorSpecSchema.optional(),
  concurrency: z.number().int().positive().max(64).optional(),
  timeoutMs: z.number().int().positive().optional(),
  merge: z.boolean().optional(),
  onEvent: callback<(event: WaveEvent) => void>().optional(),
  dryRun: z.boolean().optional(),
  signal: z.custom<AbortSignal>((v) => v instanceof AbortSignal, 'must be an AbortSignal').optional(),
})

const DEFAULT_CONCURRENCY = 4
const DEFAULT_TIMEOUT_MS = 30 * 60_000
// Checking out or merging a large repository takes longer than runGit's 30 s default.
const SLOW_GIT_MS = 10 * 60_000
// pawan gets this long past its own --timeout to print its timeout JSON before we kill it.
const PAWAN_GRACE_MS = 5_000
const CLAUDE_DEFAULT_ARGS = ['--permission-mode', 'acceptEdits']
const TAIL = 4000
const pawanOutput = z.object({
  success: z.boolean(),
  content: z.string().optional(),
  error: z.string().optional(),
  iterations: z.number().optional(),
  tool_call_count: z.number().optional(),
  usage: z
    .object({
      prompt_tokens: z.number().optional(),
      completion_tokens: z.number().optional(),
      total_tokens: z.number().optional(),
    })
    .optional(),
})

const claudeOutput = z.object({
  type: z.string().optional(),
  subtype: z.string().optional(),
  is_error: z.boolean(),
  result: z.string().optional(),
  session_id: z.string().optional(),
  total_cost_usd: z.number().optional(),
  num_turns: z.number().optional(),
})

function tail(text: string, max = TAIL): string {
  return text.length > max ? `…${text.slice(-max)}` : text
}

function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`
}

/** The last JSON object in an agent's stdout: the whole output, else the last `{`-at-line-start to the end, else the last line. */
function lastJsonObject(stdout: string): unknown {
  const text = stdout.trim()
  const attempts = [text]
  const at = text.lastIndexOf('\n{')
  if (at !== -1) attempts.push(text.slice(at + 1))
  attempts.push(text.slice(text.lastIndexOf('\n') + 1))
  for (const attempt of attempts) {
    try {
      return JSON.parse(attempt)
    } catch {
      // Try the next shape.
    }
  }
  return undefined
}

/**
 * The prompt an agent executor gets: the task, the declared files, and the rule to change only those.
 *
 * @example
 * taskPrompt(plan, plan.tasks[0]) // 'You are carrying out one task of the plan "auth" … Change only these files: …'
 */
export function taskPrompt(plan: Plan, task: PlanTask): string {
  return [
    `You are carrying out one task of the plan "${plan.name ?? plan.slug}", in a git worktree of your own. Other agents work on the plan's other tasks at the same time, in other worktrees.`,
    '',
    `Task ${task.id}: ${task.prompt}`,
    ...(task.prompt === task.description ? [] : ['', `Summary of the task: ${task.description}`]),
    '',
    'Change only these files (paths or globs relative to the repository root):',
    ...task.files.map((f) => `- ${f}`),
    '',
    "Do not create, edit or delete any other file: changes outside this list are reported, and a file another task also changes keeps the whole wave's work from being merged. You may commit your work or leave it uncommitted; what you leave is committed for you.",
  ].join('\n')
}

function effectiveExecutor(
  plan: Plan,
  task: PlanTask,
  override: ExecutorSpec | undefined,
): ExecutorSpec | null {
  return override ?? task.executor ?? (task.command === undefined ? plan.executor : { type: 'shell' }) ?? null
}

interface Invocation {
  file: string
  args: string[]
  /** Hard kill deadline. */
  timeoutMs: number
}

function invocation(
  spec: ExecutorSpec,
  task: PlanTask,
  prompt: string,
  worktree: string,
  timeoutMs: number,
): Invocation {
  switch (spec.type) {
    case 'shell':
      return { file: 'sh', args: ['-c', spec.command ?? task.command ?? ''], timeoutMs }
    case 'pawan': {
      const seconds = spec.timeoutSeconds ?? Math.max(1, Math.ceil(timeoutMs / 1000))
      const args = ['-w', worktree, ...(spec.model ? ['-m', spec.model] : [])]
      // Never -v: it prints to stdout and corrupts the JSON.
      args.push('run', prompt, '--output', 'json', '--timeout', String(seconds))
      return { file: 'pawan', args, timeoutMs: Math.max(timeoutMs, seconds * 1000) + PAWAN_GRACE_MS }
    }
    case 'claude':
      return {
        file: 'claude',
        args: ['-p', prompt, '--output-format', 'json', ...(spec.args ?? CLAUDE_DEFAULT_ARGS)],
        timeoutMs,
      }
  }
}

interface Outcome {
  status: Exclude<TaskStatus, 'skipped'>
  error: string | null
  summary: ExecutorSummary | null
}

function exitText(result: CommandResult): string {
  return result.exitCode === null
    ? `was killed by ${result.signal ?? 'a signal'}`
    : `exited with code ${result.exitCode}`
}

function judge(spec: ExecutorSpec, result: CommandResult, timeoutMs: number): Outcome {
  if (result.startError !== null) return { status: 'failed', error: result.startError, summary: null }
  if (result.aborted)
    return { status: 'failed', error: 'aborted; its process group was killed', summary: null }
  const timedOut = `timed out after ${timeoutMs} ms; its process group was killed`
  if (spec.type === 'shell') {
    const summary: ExecutorSummary = { type: 'shell', output: tail(result.stdout) }
    if (result.timedOut) return { status: 'timeout', error: timedOut, summary }
    return result.exitCode === 0
      ? { status: 'succeeded', error: null, summary }
      : { status: 'failed', error: `sh -c ${exitText(result)}`, summary }
  }
  const json = lastJsonObject(result.stdout)
  if (spec.type === 'pawan') {
    const parsed = pawanOutput.safeParse(json)
    const summary: ExecutorSummary | null = parsed.success
      ? {
          type: 'pawan',
          success: parsed.data.success,
          content: parsed.data.content ?? null,
          error: parsed.data.error ?? null,
          iterations: parsed.data.iterations ?? null,
          toolCallCount: parsed.data.tool_call_count ?? null,
          usage: parsed.data.usage
            ? {
                promptTokens: parsed.data.usage.prompt_tokens ?? null,
                completionTokens: parsed.data.usage.completion_tokens ?? null,
                totalTokens: parsed.data.usage.total_tokens ?? null,
              }
            : null,
        }
      : null
    // pawan's own --timeout exits 2.
    if (result.timedOut || result.exitCode === 2) {
      return {
        status: 'timeout',
        error: summary?.type === 'pawan' ? (summary.error ?? timedOut) : timedOut,
        summary,
      }
    }
    if (!parsed.success) {
      return { status: 'failed', error: `pawan ${exitText(result)} without its JSON result`, summary }
    }
    if (result.exitCode === 0 && parsed.data.success) return { status: 'succeeded', error: null, summary }
    return { status: 'failed', error: `pawan: ${parsed.data.error ?? exitText(result)}`, summary }
  }
  const parsed = claudeOutput.safeParse(json)
  const summary: ExecutorSummary | null = parsed.success
    ? {
        type: 'claude',
        isError: parsed.data.is_error,
        subtype: parsed.data.subtype ?? null,
        result: parsed.data.result ?? null,
        sessionId: parsed.data.session_id ?? null,
        costUsd: parsed.data.total_cost_usd ?? null,
        numTurns: parsed.data.num_turns ?? null,
      }
    : null
  if (result.timedOut) return { status: 'timeout', error: timedOut, summary }
  if (!parsed.success) {
    return { status: 'failed', error: `claude ${exitText(result)} without its JSON result`, summary }
  }
  if (result.exitCode === 0 && !parsed.data.is_error) return { status: 'succeeded', error: null, summary }
  const why = parsed.data.subtype ?? parsed.data.result ?? exitText(result)
  return { status: 'failed', error: `claude: ${why}`, summary }
}

function executorEnv(plan: Plan, task: PlanTask, worktree: string): NodeJS.ProcessEnv {
  // Without git's hook variables: an executor inheriting them would run its git commands against the wrong tree.
  return {
    ...withoutRepoEnv(process.env),
    DSTACK_TASK_ID: task.id,
    DSTACK_TASK_DESCRIPTION: task.description,
    // One pattern a line: paths may hold spaces.
    DSTACK_TASK_FILES: task.files.join('\n'),
    DSTACK_PLAN: plan.file,
    DSTACK_WORKTREE: worktree,
  }
}

/** `-c user.name=… -c user.email=…` when the repository has no identity, so bookkeeping commits never fail on it. */
async function identityArgs(repo: string): Promise<string[]> {
  const opts = { okExitCodes: [0, 1] }
  const [name, email] = await Promise.all([
    runGit(repo, ['config', '--get', 'user.name'], opts),
    runGit(repo, ['config', '--get', 'user.email'], opts),
  ])
  const args: string[] = []
  if (!name.stdout.trim()) args.push('-c', 'user.name=dstack')
  if (!email.stdout.trim()) args.push('-c', 'user.email=dstack@localhost')
  return args
}

function worktreesRoot(repo: string): string {
  return join(repo, '.dstack', 'worktrees')
}

/**
 * Worktrees live inside the repository, at `.dstack/worktrees/<plan>/<task>`: on the same disk (a cheap checkout),
 * next to the code for a human to inspect, surviving reboots (unlike the OS temp dir), and found by tools that walk up
 * to the repository's node_modules. A `.gitignore` holding `*` makes the directory ignore itself, so they never show
 * in `git status` and nothing in the user's own ignore files changes.
 */
async function ensureWorktreesRoot(repo: string): Promise<void> {
  const root = worktreesRoot(repo)
  await mkdir(root, { recursive: true })
  const ignore = join(root, '.gitignore')
  if (!existsSync(ignore)) {
    await writeFile(ignore, '# Written by dstack: agent worktrees, never part of the repository.\n*\n')
  }
}

/** Removes `.dstack/worktrees/<plan>` and the dirs above it when no worktree is left in them. */
async function tidyWorktreesRoot(repo: string, slug: string): Promise<void> {
  const root = worktreesRoot(repo)
  const tryRemove = async (dir: string, allowed: string[] = []): Promise<boolean> => {
    try {
      const entries = await readdir(dir)
      if (entries.some((e) => !allowed.includes(e))) return false
      for (const e of entries) await rm(join(dir, e))
      await rmdir(dir)
      return true
    } catch {
      return false
    }
  }
  if (!(await tryRemove(join(root, slug)))) return
  if (!(await tryRemove(root, ['.gitignore']))) return
  await tryRemove(join(repo, '.dstack'))
}

function branchName(plan: Plan, task: PlanTask): string {
  return `dstack/wave/${plan.slug}/${task.id}`
}

function worktreePath(repo: string, plan: Plan, task: PlanTask): string {
  return join(worktreesRoot(repo), plan.slug, task.id)
}

function blankReport(
  plan: Plan,
  task: PlanTask,
  wave: number,
  repo: string,
  argv: string[],
  executor: ExecutorSpec | null,
): TaskReport {
  return {
    id: task.id,
    wave,
    status: 'skipped',
    error: null,
    exitCode: null,
    durationMs: 0,
    executor: executor?.type ?? null,
    argv,
    summary: null,
    stderr: '',
    declared: [...task.files],
    actual: [],
    undeclared: [],
    commit: null,
    commits: [],
    branch: branchName(plan, task),
    worktree: worktreePath(repo, plan, task),
    kept: false,
  }
}

function checkOptions(options: ExecuteOptions): ExecuteOptions {
  try {
    return parseOptions(optionsSchema, options, 'executePlan')
  } catch (error) {
    throw new WaveExecutionError((error as Error).message)
  }
}

function where(plan: Plan, task: PlanTask): string {
  return `${plan.file}${task.line === undefined ? '' : `:${task.line}`}: task ${JSON.stringify(task.id)}`
}

interface Context {
  plan: Plan
  repo: string
  identity: string[]
  concurrency: number
  timeoutMs: number
  merge: boolean
  branch: string | null
  signal: AbortSignal | undefined
  emit: (event: WaveEvent) => void
  executors: Map<string, ExecutorSpec>
}

interface WaveResult {
  report: WaveReport
  stop: { reason: StopReason; message: string } | null
}

async function runTask(ctx: Context, task: PlanTask, report: TaskReport, base: string): Promise<void> {
  const spec = ctx.executors.get(task.id)!
  const worktree = report.worktree!
  const branch = report.branch!
  const prompt = taskPrompt(ctx.plan, task)
  const call = invocation(spec, task, prompt, worktree, ctx.timeoutMs)
  ctx.emit({ type: 'task-start', wave: report.wave, task: task.id, worktree, branch, argv: report.argv })
  const started = performance.now()
  const result = await runCommand([call.file, ...call.args], {
    cwd: worktree,
    env: executorEnv(ctx.plan, task, worktree),
    timeoutMs: call.timeoutMs,
    signal: ctx.signal,
  })
  report.durationMs = Math.round(performance.now() - started)
  const outcome = judge(spec, result, call.timeoutMs)
  report.status = outcome.status
  report.error = outcome.error
  report.summary = outcome.summary
  report.exitCode = result.exitCode
  report.stderr = tail(result.stderr)

  try {
    // An executor that checked out another branch left its work where the merge would not see it.
    const head = await runGit(worktree, ['symbolic-ref', '-q', 'HEAD'], { okExitCodes: [0, 1] })
    const on = head.stdout.trim()
    if (on !== `refs/heads/${branch}`) {
      report.status = 'failed'
      report.error = `the executor left the worktree on ${on || 'a detached HEAD'} instead of ${branch}`
    } else {
      await runGit(worktree, ['add', '-A'], { timeoutMs: SLOW_GIT_MS })
      const staged = await runGit(worktree, ['diff', '--cached', '--quiet'], { okExitCodes: [0, 1] })
      if (staged.exitCode === 1) {
        // --no-verify: this commit records what the executor left; a failing hook must not lose that record.
        await runGit(
          worktree,
          [...ctx.identity, 'commit', '-q', '--no-verify', '-m', `dstack: ${task.id} — ${task.description}`],
          { timeoutMs: SLOW_GIT_MS },
        )
      }
    }
    const tip = (await runGit(ctx.repo, ['rev-parse', '--verify', `refs/heads/${branch}`])).stdout.trim()
    const [diff, log] = await Promise.all([
      runGit(ctx.repo, ['diff', '--name-only', '-z', '--no-renames', base, tip]),
      runGit(ctx.repo, ['log', '--reverse', '--format=%H%x00%s', `${base}..${tip}`]),
    ])
    report.commit = tip
    report.actual = diff.stdout.split('\0').filter(Boolean).sort()
    report.undeclared = report.actual.filter((f) => !matchesAny(f, task.files))
    report.commits = log.stdout
      .split('\n')
      .filter((line) => line.includes('\0'))
      .map((line) => {
        const [sha, subject] = line.split('\0')
        return { sha: sha!, subject: subject ?? '' }
      })
  } catch (error) {
    report.status = 'failed'
    report.error = `${report.error ? `${report.error}; ` : ''}recording its changes failed: ${(error as Error).message}`
  }
  ctx.emit({ type: 'task-end', wave: report.wave, task: report })
}

async function removeWorktree(ctx: Context, report: TaskReport): Promise<void> {
  await runGit(ctx.repo, ['worktree', 'remove', '--force', report.worktree!], { timeoutMs: SLOW_GIT_MS })
  await runGit(ctx.repo, ['branch', '-D', report.branch!])
  report.kept = false
}

async function runWave(
  ctx: Context,
  index: number,
  tasks: PlanTask[],
  reports: TaskReport[],
): Promise<WaveResult> {
  const base = (await currentHead(ctx.repo)).sha!
  const wave: WaveReport = {
    index,
    status: 'kept',
    base,
    tasks: reports,
    overlaps: [],
    merged: false,
    mergeCommits: [],
  }
  ctx.emit({ type: 'wave-start', wave: index, tasks: tasks.map((t) => t.id), base })
  await ensureWorktreesRoot(ctx.repo)

  // One at a time: `git worktree add` takes locks in the shared git dir.
  const ready: Array<{ task: PlanTask; report: TaskReport }> = []
  for (const [i, task] of tasks.entries()) {
    const report = reports[i]!
    try {
      await runGit(ctx.repo, ['worktree', 'add', '-q', '-b', report.branch!, report.worktree!, base], {
        timeoutMs: SLOW_GIT_MS,
      })
      report.kept = true
      ready.push({ task, report })
    } catch (error) {
      report.status = 'failed'
      report.error = `could not create its worktree: ${(error as Error).message}`
      report.branch = null
      report.worktree = null
    }
  }
  await mapPool(ready, ctx.concurrency, ({ task, report }) => runTask(ctx, task, report, base))

  const changedBy = new Map<string, string[]>()
  for (const report of reports) {
    for (const file of report.actual) changedBy.set(file, [...(changedBy.get(file) ?? []), report.id])
  }
  wave.overlaps = [...changedBy]
    .filter(([, ids]) => ids.length > 1)
    .map(([file, ids]) => ({ file, tasks: ids }))
    .sort((a, b) => (a.file < b.file ? -1 : 1))

  const stop = (reason: StopReason, message: string): WaveResult => {
    ctx.emit({ type: 'wave-end', wave })
    ctx.emit({ type: 'stopped', wave: index, reason, message })
    return { report: wave, stop: { reason, message } }
  }
  const failed = reports.filter((r) => r.status === 'failed')
  const timedOut = reports.filter((r) => r.status === 'timeout')
  if (ctx.signal?.aborted) return stop('aborted', `aborted during wave ${index}; its worktrees are kept`)
  if (failed.length > 0) {
    const list = failed.map((r) => `${r.id} (${r.error})`).join(', ')
    return stop(
      'task-failed',
      `wave ${index}: ${failed.length === 1 ? 'task' : 'tasks'} ${list} failed; nothing was merged`,
    )
  }
  if (timedOut.length > 0) {
    const list = timedOut.map((r) => r.id).join(', ')
    return stop('task-timeout', `wave ${index}: ${list} timed out; nothing was merged`)
  }
  if (wave.overlaps.length > 0) {
    const list = wave.overlaps.map((o) => `${o.file} (${o.tasks.join(', ')})`).join('; ')
    return stop(
      'overlap',
      `wave ${index}: files changed by more than one task, which the plan said would not happen: ${list}; nothing was merged`,
    )
  }
  if (!ctx.merge)
    return stop('merge-disabled', `wave ${index} ran; merging is off, so its branches are kept for review`)

  for (const report of reports) {
    // Merge into the branch the run started on, or not at all: a human may have switched branches meanwhile.
    const head = await currentHead(ctx.repo)
    if (head.branch !== ctx.branch) {
      return stop(
        'merge-failed',
        `wave ${index}: the repository is now on ${head.branch ?? 'a detached HEAD'}, not ${ctx.branch ?? 'a detached HEAD'}; ${report.id} and later tasks were not merged`,
      )
    }
    try {
      await runGit(
        ctx.repo,
        [
          ...ctx.identity,
          'merge',
          '--no-ff',
          '--no-edit',
          '-m',
          `dstack: merge ${report.id} (wave ${index} of ${ctx.plan.slug})`,
          report.branch!,
        ],
        { timeoutMs: SLOW_GIT_MS },
      )
    } catch (error) {
      await runGit(ctx.repo, ['merge', '--abort'], { okExitCodes: [0, 1, 128] }).catch(() => undefined)
      return stop('merge-failed', `wave ${index}: merging ${report.id} failed: ${(error as Error).message}`)
    }
    const commit = (await runGit(ctx.repo, ['rev-parse', 'HEAD'])).stdout.trim()
    wave.mergeCommits.push(commit)
    ctx.emit({ type: 'merged', wave: index, task: report.id, commit })
    await removeWorktree(ctx, report)
  }
  wave.merged = true
  wave.status = 'merged'
  await tidyWorktreesRoot(ctx.repo, ctx.plan.slug)
  ctx.emit({ type: 'wave-end', wave })
  return { report: wave, stop: null }
}

function nextSteps(report: ExecutionReport): string[] {
  if (report.outcome === 'dry-run')
    return ['Nothing ran. Run again without dryRun to execute the waves above.']
  if (report.outcome === 'completed') {
    return [
      `All selected waves are merged into ${report.branch ?? 'HEAD'}. Review them with: git log --oneline ${report.startHead.slice(0, 12)}..${report.endHead.slice(0, 12)}`,
    ]
  }
  const steps: string[] = []
  const stop = report.stop!
  const wave = report.waves.find((w) => w.index === stop.wave)
  const kept = wave?.tasks.filter((t) => t.kept) ?? []
  if (stop.reason === 'overlap') {
    for (const o of wave?.overlaps ?? []) {
      steps.push(
        `${o.file} was changed by ${o.tasks.join(' and ')}: declare it in the files of the task that owns it and make the others depend on that task, then re-run; or merge the branches by hand and resolve the conflict.`,
      )
    }
  }
  for (const t of wave?.tasks ?? []) {
    if (t.status === 'failed' || t.status === 'timeout') {
      steps.push(
        `Task ${t.id} ${t.status === 'timeout' ? 'timed out' : 'failed'} (${t.error}).${t.worktree && t.kept ? ` Its work so far is in ${t.worktree} (branch ${t.branch}).` : ''}`,
      )
    }
  }
  if (stop.reason === 'merge-disabled') {
    steps.push(
      `Review the branches, then merge them in order: ${kept.map((t) => `git merge --no-ff ${t.branch}`).join(' && ')}`,
    )
  }
  if (stop.reason === 'merge-failed') steps.push(stop.message)
  if (kept.length > 0) {
    steps.push(
      `Before re-running, remove the kept worktrees and branches: ${kept.map((t) => `git worktree remove --force ${quote(t.worktree!)} && git branch -D ${t.branch}`).join(' && ')}`,
    )
  }
  const remaining = report.waves.filter((w) => w.index >= stop.wave).map((w) => w.index)
  if (remaining.length > 0 && stop.reason !== 'merge-disabled')
    steps.push(`Then re-run waves ${remaining.join(', ')}.`)
  if (stop.reason === 'merge-disabled' && remaining.length > 1) {
    steps.push(`After merging, run waves ${remaining.slice(1).join(', ')}.`)
  }
  return steps
}

/**
 * Executes a plan wave by wave in git worktrees (`<repo>/.dstack/worktrees/<plan>/<task>`, branch
 * `dstack/wave/<plan>/<task>`, ignored by git status). Each wave's executors run in parallel (bounded); then what each
 * left is committed, and the REAL changed files (`git diff <base> <branch>`) are checked: files no declared pattern
 * covers are `undeclared`, files two tasks of the wave changed are `overlaps`. A wave where every task succeeded and
 * nothing overlaps is merged (`git merge --no-ff`, task order) and its worktrees removed; otherwise the run stops
 * there and keeps the worktrees and branches for a human. Throws `WaveExecutionError` before doing anything when the
 * options, the repository (no commits, uncommitted changes when merging, leftover branches) or an executor are
 * unusable.
 *
 * @example
 * const report = await executePlan(await loadPlan('PLAN.md'), { repo: '.', onEvent: (e) => log(e.type) })
 * report.outcome // 'completed'
 */
export async function executePlan(plan: Plan, options: ExecuteOptions): Promise<ExecutionReport> {
  const opts = checkOptions(options)
  const startedAt = new Date()
  const started = performance.now()
  const onEvent = opts.onEvent
  const emit = (event: WaveEvent): void => {
    try {
      onEvent?.(event)
    } catch {
      // A progress callback must not break a run that has worktrees and processes to look after.
    }
  }

  let repo: string
  try {
    repo = (await runGit(resolve(opts.repo), ['rev-parse', '--show-toplevel'])).stdout.trim()
  } catch (error) {
    throw new WaveExecutionError(`cannot run ${plan.file}: ${(error as Error).message}`)
  }
  const head = await currentHead(repo)
  if (head.sha === null)
    throw new WaveExecutionError(`${repo} has no commits yet: worktrees need a commit to start from`)
  const schedule = planWaves(plan, { trackedFiles: await trackedFiles(repo) })

  const selected = opts.waves
    ? [...new Set(opts.waves)].sort((a, b) => a - b)
    : schedule.waves.map((w) => w.index)
  const missing = selected.filter((n) => n > schedule.waves.length)
  if (missing.length > 0) {
    throw new WaveExecutionError(
      `${plan.file}: the plan has ${schedule.waves.length} waves; there is no wave ${missing.join(', ')}`,
    )
  }
  const byId = new Map(plan.tasks.map((t) => [t.id, t]))
  const waveTasks = selected.map((n) => schedule.waves[n - 1]!.tasks.map((id) => byId.get(id)!))

  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const executors = new Map<string, ExecutorSpec>()
  for (const task of waveTasks.flat()) {
    const spec = effectiveExecutor(plan, task, opts.executor)
    if (spec === null) {
      throw new WaveExecutionError(
        `${where(plan, task)}: no executor: set one on the task or the plan, give the task a command, or pass options.executor`,
      )
    }
    if (spec.type === 'shell' && spec.command === undefined && task.command === undefined) {
      throw new WaveExecutionError(
        `${where(plan, task)}: the shell executor needs a command (on the executor or the task)`,
      )
    }
    executors.set(task.id, spec)
  }

  const merge = opts.merge ?? true
  const leftovers: string[] = []
  for (const task of waveTasks.flat()) {
    const branch = branchName(plan, task)
    const exists = await runGit(repo, ['rev-parse', '--verify', '-q', `refs/heads/${branch}`], {
      okExitCodes: [0, 1],
    })
    if (exists.exitCode === 0 || existsSync(worktreePath(repo, plan, task))) leftovers.push(task.id)
  }
  if (leftovers.length > 0) {
    const cmds = leftovers.map((id) => {
      const task = byId.get(id)!
      return `git worktree remove --force ${quote(worktreePath(repo, plan, task))}; git branch -D ${branchName(plan, task)}`
    })
    throw new WaveExecutionError(
      `${plan.file}: an earlier run left the worktree or branch of ${leftovers.join(', ')}; merge or inspect them, then remove them: ${cmds.join('; ')}`,
    )
  }
  if (merge) {
    // A dirty tree could make a merge fail half-way or mix the user's edits into dstack's merge commits.
    const status = await runGit(repo, ['status', '--porcelain', '--untracked-files=no'])
    if (status.stdout.trim() !== '') {
      throw new WaveExecutionError(
        `${repo} has uncommitted changes to tracked files; commit or stash them first (or pass merge: false)`,
      )
    }
  }

  const ctx: Context = {
    plan,
    repo,
    identity: await identityArgs(repo),
    concurrency: opts.concurrency ?? DEFAULT_CONCURRENCY,
    timeoutMs,
    merge,
    branch: head.branch,
    signal: opts.signal,
    emit,
    executors,
  }

  const waves: WaveReport[] = []
  let stop: ExecutionReport['stop'] = null
  for (const [i, index] of selected.entries()) {
    const tasks = waveTasks[i]!
    const reports = tasks.map((task) => {
      const spec = executors.get(task.id)!
      const worktree = worktreePath(repo, plan, task)
      const call = invocation(spec, task, taskPrompt(plan, task), worktree, timeoutMs)
      return blankReport(plan, task, index, repo, [call.file, ...call.args], spec)
    })
    if (opts.dryRun || stop !== null || opts.signal?.aborted) {
      if (!opts.dryRun) {
        for (const r of reports) r.error = `not run: the run stopped at wave ${stop?.wave ?? index}`
        if (stop === null) stop = { wave: index, reason: 'aborted', message: `aborted before wave ${index}` }
      }
      waves.push({
        index,
        status: opts.dryRun ? 'planned' : 'skipped',
        base: null,
        tasks: reports,
        overlaps: [],
        merged: false,
        mergeCommits: [],
      })
      continue
    }
    const result = await runWave(ctx, index, tasks, reports)
    waves.push(result.report)
    if (result.stop) stop = { wave: index, ...result.stop }
  }

  const end = await currentHead(repo)
  const report: ExecutionReport = {
    plan: { name: plan.name ?? null, slug: plan.slug, file: plan.file },
    repo,
    branch: head.branch,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    durationMs: Math.round(performance.now() - started),
    dryRun: opts.dryRun ?? false,
    outcome: opts.dryRun ? 'dry-run' : stop === null ? 'completed' : 'stopped',
    stop,
    startHead: head.sha,
    endHead: end.sha ?? head.sha,
    plannedWaves: schedule.waves.length,
    criticalPathLength: schedule.criticalPathLength,
    waves,
    next: [],
  }
  report.next = nextSteps(report)
  return report
}

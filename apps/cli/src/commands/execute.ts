import {
  type ExecutionReport,
  type ExecutorSpec,
  executePlan,
  loadPlan,
  updateImplementationDoc,
  type WaveEvent,
} from '@dstack/repo-graph'
import { Args, Flags } from '@oclif/core'
import { DstackCommand } from '../lib/command.ts'
import { EXIT } from '../lib/exit-codes.ts'
import { duration } from '../lib/format.ts'

export default class Execute extends DstackCommand {
  static override summary =
    "Run a plan's waves: each task in its own git worktree, in parallel, then check the real diffs"
  static override description =
    `Waves come from \`dstack waves\`. Each task of a wave runs in a worktree on its own branch through its executor:
  shell   the task's \`command\` (sh -c, env DSTACK_TASK_ID, DSTACK_TASK_DESCRIPTION, DSTACK_TASK_FILES)
  pawan   pawan -w <worktree> run <prompt> --output json
  claude  claude -p <prompt> --output-format json (in the worktree)
Then the files each task really changed are compared with the files it declared and with the other tasks of its
wave. A clean wave is merged into the current branch and the next wave starts from it; a failure or an overlap the
plan missed stops the run and keeps the worktrees and branches for you to look at. The companion doc beside the plan
(IMPLEMENTATION.md for PLAN.md, else <plan>.implementation.md) is updated with what actually happened.

Exit codes: 0 every selected wave merged (or --dry-run), 2 a bad plan or flags, 6 the run stopped (a task failed or
timed out, or two tasks changed the same file), 130 interrupted (Ctrl-C: executors stopped, worktrees kept, the
companion doc still written).`
  static override examples = [
    '<%= config.bin %> execute PLAN.md --dry-run',
    '<%= config.bin %> execute PLAN.md --executor pawan',
    '<%= config.bin %> execute plan.yaml --wave 1 --no-merge --json',
  ]
  static override args = { plan: Args.string({ required: true, description: 'the plan file' }) }
  static override flags = {
    wave: Flags.integer({
      description: 'run only this wave (repeatable); default all',
      multiple: true,
      min: 1,
    }),
    executor: Flags.string({
      options: ['shell', 'pawan', 'claude'],
      description: "use this executor for every task instead of the plan's",
    }),
    concurrency: Flags.integer({ description: 'tasks at once (default 4)', min: 1, max: 64 }),
    timeout: Flags.integer({ description: 'minutes each task may take (default 30)', min: 1 }),
    merge: Flags.boolean({
      description: 'merge clean waves and go on (--no-merge: stop after one wave)',
      default: true,
      allowNo: true,
    }),
    'dry-run': Flags.boolean({ description: 'check the plan and print what would run; create nothing' }),
    repo: Flags.string({ description: "the repository to run in; default the plan's repo" }),
  }

  async run(): Promise<ExecutionReport & { companion: string | null }> {
    const { args, flags } = await this.parse(Execute)
    const plan = await loadPlan(args.plan)
    const repo = flags.repo ?? plan.repo ?? process.cwd()
    const signal = this.interruptSignal()
    const report = await executePlan(plan, {
      signal,
      repo,
      waves: flags.wave,
      executor: flags.executor ? ({ type: flags.executor } as ExecutorSpec) : undefined,
      concurrency: flags.concurrency,
      timeoutMs: flags.timeout ? flags.timeout * 60_000 : undefined,
      merge: flags.merge,
      dryRun: flags['dry-run'],
      onEvent: (event) => this.say(eventLine(event)),
    })
    const companion = report.dryRun ? null : await updateImplementationDoc(plan.file, report)
    this.say(
      [
        `${report.outcome}${report.stop ? `: ${report.stop.message}` : ''} (${duration(report.durationMs / 1000)})`,
        ...report.next.map((n) => `  ${n}`),
        companion ? `updated ${companion}` : '',
      ]
        .filter(Boolean)
        .join('\n'),
    )
    const result = { ...report, companion }
    if (report.outcome === 'stopped') {
      this.exitWith(result, signal.aborted ? EXIT.INTERRUPTED : EXIT.UNHEALTHY)
    }
    return result
  }
}

function eventLine(event: WaveEvent): string {
  switch (event.type) {
    case 'wave-start':
      return `wave ${event.wave}: ${event.tasks.join(', ')}`
    case 'task-start':
      return `  ${event.task} started in ${event.worktree}`
    case 'task-end': {
      const t = event.task
      const undeclared = t.undeclared.length ? `; changed undeclared ${t.undeclared.join(', ')}` : ''
      return `  ${t.id} ${t.status} in ${duration(t.durationMs / 1000)}: ${t.actual.length} file(s)${undeclared}${t.error ? ` (${t.error})` : ''}`
    }
    case 'merged':
      return `  merged ${event.task} (${event.commit.slice(0, 7)})`
    case 'wave-end':
      return event.wave.overlaps.length
        ? `  overlaps the plan missed: ${event.wave.overlaps.map((o) => `${o.file} (${o.tasks.join(', ')})`).join('; ')}`
        : `  wave ${event.wave.index} ${event.wave.status}`
    case 'stopped':
      return `stopped at wave ${event.wave}: ${event.message}`
  }
}

import {
  affected,
  type PlanRun,
  planRebuild,
  type RebuildPlan,
  resolveChanges,
  runPlan,
  type StepResult,
} from '@dstack/repo-graph'
import { Flags } from '@oclif/core'
import { DstackCommand } from '../../lib/command.ts'
import { EXIT } from '../../lib/exit-codes.ts'
import { fleetFlags, loadFleet } from '../../lib/fleet.ts'
import { duration } from '../../lib/format.ts'

export default class ReposPlan extends DstackCommand {
  static override summary = 'Rebuild → restart → verify, in dependency order, for what a change affects'
  static override description =
    `Takes the affected repositories (from --repo, or from git as in \`repos affected\`) and dstack.yaml's build,
services (restart + health) and verify entries, and prints the steps: every build in dependency order, then every
restart, then every health check and verify command. --run executes them in order and stops at the first failure.

dstack.yaml (found in this directory or a parent):
  repos:
    dirmacs-core: { build: cargo build --release }
    ares:
      build: cargo build --release
      services: [{ name: ares, restart: sudo systemctl restart ares, health: { url: "http://127.0.0.1:3000/health" } }]
    ehb: { verify: ./scripts/smoke.sh }

Exit codes: 0 planned (or every step passed), 2 bad flags, 3 invalid dstack.yaml, 6 a step failed, 130 interrupted
(the running step's processes were stopped).`
  static override examples = [
    '<%= config.bin %> repos plan --repo dirmacs-core',
    '<%= config.bin %> repos plan --repo dirmacs-core --run',
  ]
  static override flags = {
    ...fleetFlags,
    repo: Flags.string({
      description: 'a changed repository (repeatable); default: what git says changed',
      multiple: true,
    }),
    base: Flags.string({ description: 'without --repo: changes since this commit-ish in each repository' }),
    run: Flags.boolean({ description: 'execute the steps' }),
    timeout: Flags.integer({ description: 'seconds each command may take (default 600)', min: 1 }),
  }

  async run(): Promise<RebuildPlan & { run?: PlanRun }> {
    const { flags } = await this.parse(ReposPlan)
    const { graph, workspace } = await loadFleet(flags)
    const { changes, gitErrors } = await resolveChanges(graph, { repos: flags.repo }, { base: flags.base })
    for (const { repo, message } of gitErrors) this.warn(`${repo}: ${message} (left out of the plan)`)
    const plan = planRebuild(graph, workspace, affected(graph, changes))
    if (workspace.path === null)
      this.warn('no dstack.yaml here or in a parent directory: nothing to build, restart or verify')
    else
      for (const repo of plan.unconfigured)
        this.say(`(${repo}: affected, nothing configured in ${workspace.path})`)
    if (!flags.run) {
      this.say(
        plan.steps.length === 0
          ? 'nothing to do'
          : plan.steps.map((s, i) => `${i + 1}. ${s.phase.padEnd(7)} ${s.repo}: ${s.name}`).join('\n'),
      )
      return plan
    }
    const signal = this.interruptSignal()
    const run = await runPlan(plan, {
      signal,
      timeoutMs: flags.timeout ? flags.timeout * 1000 : undefined,
      onStep: (r, i, total) => this.say(stepLine(r, i, total)),
    })
    const result = { ...plan, run }
    if (!run.ok) {
      const failed = run.results.find((r) => r.status === 'failed')!
      this.say(`\nfailed: ${failed.step.name}: ${failed.error}\n${failed.output}`)
      this.exitWith(result, signal.aborted ? EXIT.INTERRUPTED : EXIT.UNHEALTHY)
    }
    return result
  }
}

function stepLine(r: StepResult, i: number, total: number): string {
  const mark = { ok: '✓', failed: '✗', skipped: '-' }[r.status]
  return `${mark} [${i + 1}/${total}] ${r.step.phase} ${r.step.repo}: ${r.step.name}${r.status === 'skipped' ? ' (skipped)' : ` ${duration(r.durationMs / 1000)}`}`
}

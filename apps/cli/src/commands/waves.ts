import { loadPlan, planWaves, trackedFiles, type Waves } from '@dstack/repo-graph'
import { Args } from '@oclif/core'
import { DstackCommand } from '../lib/command.ts'

export default class WavesCommand extends DstackCommand {
  static override summary =
    "Group a plan's tasks into waves: dependencies first, never two tasks that touch the same files at once"
  static override description = `The plan is YAML, JSON, or a PLAN.md holding one fenced \`\`\`yaml block:
  tasks:
    - id: api-route
      description: Add the /health route
      files: [src/routes/health.ts, test/health.test.ts]
    - id: docs
      description: Document /health
      files: [docs/api.md]
      depends_on: [api-route]

Globs are compared with each other and with the repository's tracked files, so \`src/**/*.ts\` and
\`src/routes/health.ts\` never share a wave. Nothing runs: see \`dstack execute\`.

Exit codes: 0 done, 2 a bad plan (the message names the file, line and task).`
  static override examples = ['<%= config.bin %> waves PLAN.md', '<%= config.bin %> waves plan.yaml --json']
  static override args = { plan: Args.string({ required: true, description: 'the plan file' }) }

  async run(): Promise<Waves> {
    const { args } = await this.parse(WavesCommand)
    const plan = await loadPlan(args.plan)
    const waves = planWaves(plan, { trackedFiles: plan.repo ? await trackedFiles(plan.repo) : undefined })
    const lines = waves.waves.map((w) => `wave ${w.index}: ${w.tasks.join(', ')}`)
    for (const d of waves.deferred)
      for (const c of d.conflicts)
        lines.push(
          `  ${d.task} not in wave ${c.wave}: it may touch what ${c.task} touches (${c.overlaps.map((o) => `${o.left} ~ ${o.right}`).join(', ')})`,
        )
    lines.push(
      `${waves.waves.length} waves for ${plan.tasks.length} tasks; the longest dependency chain is ${waves.criticalPathLength}`,
    )
    this.say(lines.join('\n'))
    return waves
  }
}

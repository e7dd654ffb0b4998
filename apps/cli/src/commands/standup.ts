import { type Standup as StandupResult, standup } from '@dstack/brain-schema'
import { Flags } from '@oclif/core'
import { DstackCommand } from '../lib/command.ts'
import { BRAIN_EXIT_HELP } from '../lib/exit-codes.ts'

export default class Standup extends DstackCommand {
  static override summary =
    'What happened in the last day or week: shipped, in progress, decisions, handoffs, edits'
  static override description = `${BRAIN_EXIT_HELP}.`
  static override examples = [
    '<%= config.bin %> standup',
    '<%= config.bin %> standup --window week --all-repos',
  ]
  static override flags = {
    window: Flags.string({ options: ['day', 'week'], default: 'day' }),
    'all-repos': Flags.boolean({ description: 'every repository in the brain, not just this one' }),
  }

  async run(): Promise<StandupResult> {
    const { flags } = await this.parse(Standup)
    const result = await this.withWorkspace((ws) =>
      standup(ws.brain.db, ws.scope, {
        window: flags.window as 'day' | 'week',
        allRepos: flags['all-repos'],
      }),
    )
    const section = (title: string, lines: string[]) =>
      lines.length > 0 ? [`${title}:`, ...lines.map((l) => `  ${l}`)] : []
    this.say(
      [
        `Since ${result.since.toISOString()}`,
        ...section(
          'Shipped',
          result.shipped.map((s) => `${s.agent_id}: ${s.title}${s.pr_url ? ` (${s.pr_url})` : ''}`),
        ),
        ...section(
          'In progress',
          result.active.map((s) => `${s.agent_id}: ${s.title} [${s.status}]`),
        ),
        ...section(
          'Decisions',
          result.decisions.map((d) => `ADR-${d.number} [${d.status}] ${d.title} (${d.authored_by})`),
        ),
        ...section(
          'Handoffs',
          result.handoffs.map((h) => `${h.from_agent}${h.to_agent ? ` → ${h.to_agent}` : ''}: ${h.note}`),
        ),
        ...section(
          'Edits',
          result.edits.map((e) => `${e.agent_id}: ${e.edits} edits to ${e.files} files`),
        ),
      ].join('\n'),
    )
    return result
  }
}

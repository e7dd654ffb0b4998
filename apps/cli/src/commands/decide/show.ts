import { type DecisionDetail, getDecision } from '@dstack/brain-schema'
import { Args } from '@oclif/core'
import { DstackCommand } from '../../lib/command.ts'
import { BRAIN_EXIT_HELP } from '../../lib/exit-codes.ts'

export default class DecideShow extends DstackCommand {
  static override summary = 'Show a decision: compiled truth, timeline, earlier versions, links'
  static override description = `${BRAIN_EXIT_HELP}, 7 no such ADR.`
  static override examples = ['<%= config.bin %> decide show 7']
  static override args = { number: Args.integer({ required: true }) }

  async run(): Promise<DecisionDetail> {
    const { args } = await this.parse(DecideShow)
    const detail = await this.withWorkspace((ws) => getDecision(ws.brain.db, ws.scope, args.number))
    const d = detail.decision
    this.say(
      [
        `ADR-${d.number} ${d.title} [${d.status}, version ${d.version}]`,
        '',
        d.body,
        '',
        'Timeline:',
        ...detail.timeline.map(
          (e) => `  ${e.occurred_at.toISOString()} ${e.agent_id} ${e.kind}: ${e.summary}`,
        ),
        detail.files.length > 0 ? `Files: ${detail.files.join(', ')}` : '',
        detail.features.length > 0 ? `Features: ${detail.features.join(', ')}` : '',
        detail.versions.length > 0
          ? `Earlier versions: ${detail.versions.map((v) => v.version).join(', ')}`
          : '',
      ]
        .filter((line, i, all) => line !== '' || all[i - 1] !== '')
        .join('\n')
        .trimEnd(),
    )
    return detail
  }
}

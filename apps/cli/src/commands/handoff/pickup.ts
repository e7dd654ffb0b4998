import { type PickedUpHandoff, pickupHandoff } from '@dstack/brain-schema'
import { Flags } from '@oclif/core'
import { DstackCommand } from '../../lib/command.ts'
import { BRAIN_EXIT_HELP } from '../../lib/exit-codes.ts'

export default class HandoffPickup extends DstackCommand {
  static override summary = 'Claim a handoff and get what you need to continue'
  static override description =
    `The newest open handoff for you, or --id. If two agents race, one wins and the other
exits 8. Shows the intent, recent edits of its files, linked decisions, and the branch to switch to.

${BRAIN_EXIT_HELP}, 7 no open handoff, 8 someone else picked it up.`
  static override examples = [
    '<%= config.bin %> handoff pickup',
    '<%= config.bin %> handoff pickup --id 6f1c…',
  ]
  static override flags = { id: Flags.string({ description: 'the handoff id' }) }

  async run(): Promise<PickedUpHandoff> {
    const { flags } = await this.parse(HandoffPickup)
    const picked = await this.withWorkspace((ws) => pickupHandoff(ws.brain.db, ws.scope, { id: flags.id }))
    const { handoff } = picked
    this.say(
      [
        `picked up ${handoff.id} from ${handoff.from_agent}: ${handoff.note}`,
        handoff.next_step ? `next: ${handoff.next_step}` : null,
        picked.intent ? `intent: "${picked.intent.title}"` : null,
        picked.switchBranch ? `switch branch: git switch ${picked.switchBranch}` : null,
        ...picked.recentEdits.map((e) => `  ${e.created_at.toISOString()} ${e.agent_id} ${e.op} ${e.path}`),
        ...picked.decisions.map((d) => `  ADR-${d.number} [${d.status}] ${d.title}`),
      ]
        .filter((line) => line !== null)
        .join('\n'),
    )
    return picked
  }
}

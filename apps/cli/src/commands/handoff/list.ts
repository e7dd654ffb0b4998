import { type Handoff, listHandoffs } from '@dstack/brain-schema'
import { DstackCommand } from '../../lib/command.ts'
import { BRAIN_EXIT_HELP } from '../../lib/exit-codes.ts'

export default class HandoffList extends DstackCommand {
  static override summary =
    'Open handoffs here for you: addressed to you, to anyone, or from your other sessions'
  static override description = `${BRAIN_EXIT_HELP}.`
  static override examples = ['<%= config.bin %> handoff list --json']

  async run(): Promise<Handoff[]> {
    const handoffs = await this.withWorkspace((ws) => listHandoffs(ws.brain.db, ws.scope))
    this.say(
      handoffs.length === 0
        ? 'no open handoffs'
        : handoffs
            .map(
              (h) =>
                `${h.id}  from ${h.from_agent}${h.to_agent ? ` to ${h.to_agent}` : ''}  ${h.created_at.toISOString()}\n  ${h.note}` +
                `${h.next_step ? `\n  next: ${h.next_step}` : ''}`,
            )
            .join('\n'),
    )
    return handoffs
  }
}

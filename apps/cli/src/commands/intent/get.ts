import { currentIntent, type Intent } from '@dstack/brain-schema'
import { DstackCommand } from '../../lib/command.ts'
import { BRAIN_EXIT_HELP } from '../../lib/exit-codes.ts'

export default class IntentGet extends DstackCommand {
  static override summary = 'Show the intent you are working under in this repository'
  static override description =
    `This session's active intent first, then your latest on this branch, then in the repo.

${BRAIN_EXIT_HELP}.`
  static override examples = ['<%= config.bin %> intent get --json']

  async run(): Promise<Intent | null> {
    const intent = await this.withWorkspace((ws) => currentIntent(ws.brain.db, ws.scope))
    this.say(
      intent
        ? `"${intent.title}" [${intent.status}${intent.inferred ? ', inferred' : ''}] ${intent.id}${intent.body ? `\n${intent.body}` : ''}`
        : 'no active intent here: `dstack intent write --title ...` declares one',
    )
    return intent
  }
}

import { type Intent, writeIntent } from '@dstack/brain-schema'
import { Flags } from '@oclif/core'
import { DstackCommand } from '../../lib/command.ts'
import { BRAIN_EXIT_HELP } from '../../lib/exit-codes.ts'
import { splitList } from '../../lib/flags.ts'

export default class IntentWrite extends DstackCommand {
  static override summary = 'Declare what you are working on (pauses your previous intent in this session)'
  static override description =
    `Teammates see it in their digest and in the push pre-check. An intent you write is never
overwritten by one inferred from prompts.

${BRAIN_EXIT_HELP}.`
  static override examples = [
    `<%= config.bin %> intent write --title "Rate-limit /login" --promises "no schema change" --not-touching src/billing/`,
  ]
  static override flags = {
    title: Flags.string({ required: true, description: 'one line, at most 300 characters' }),
    body: Flags.string({ description: 'details' }),
    promises: Flags.string({ description: 'what you promise not to break' }),
    'not-touching': Flags.string({ description: 'comma-separated paths you will stay out of' }),
  }

  async run(): Promise<Intent> {
    const { flags } = await this.parse(IntentWrite)
    const intent = await this.withWorkspace((ws) =>
      writeIntent(ws.brain.db, ws.scope, {
        title: flags.title,
        body: flags.body,
        promises: flags.promises,
        notTouching: splitList(flags['not-touching']),
      }),
    )
    this.say(`intent "${intent.title}" is active (${intent.id})`)
    return intent
  }
}

import { type Intent, shipIntent } from '@dstack/brain-schema'
import { Flags } from '@oclif/core'
import { DstackCommand } from '../../lib/command.ts'
import { BRAIN_EXIT_HELP } from '../../lib/exit-codes.ts'

export default class IntentShip extends DstackCommand {
  static override summary = 'Mark your current intent shipped (or abandoned / paused)'
  static override description = `${BRAIN_EXIT_HELP}, 7 no active intent here.`
  static override examples = [
    '<%= config.bin %> intent ship --pr-url https://github.com/acme/api/pull/42',
    '<%= config.bin %> intent ship --status abandoned',
  ]
  static override flags = {
    'pr-url': Flags.string({ description: 'the pull request that shipped it' }),
    status: Flags.string({ options: ['shipped', 'abandoned', 'paused'], default: 'shipped' }),
    id: Flags.string({ description: 'an intent id instead of the current one' }),
  }

  async run(): Promise<Intent> {
    const { flags } = await this.parse(IntentShip)
    const intent = await this.withWorkspace((ws) =>
      shipIntent(ws.brain.db, ws.scope, {
        intentId: flags.id,
        prUrl: flags['pr-url'],
        status: flags.status as 'shipped' | 'abandoned' | 'paused',
      }),
    )
    this.say(`"${intent.title}" is ${intent.status}`)
    return intent
  }
}

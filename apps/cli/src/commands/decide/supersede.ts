import { type Decision, supersedeDecision } from '@dstack/brain-schema'
import { Args, Flags } from '@oclif/core'
import { DstackCommand } from '../../lib/command.ts'
import { BRAIN_EXIT_HELP } from '../../lib/exit-codes.ts'

export default class DecideSupersede extends DstackCommand {
  static override summary = 'Mark a decision superseded by a newer one'
  static override description = `${BRAIN_EXIT_HELP}, 7 no such ADR, 8 it would make a cycle.`
  static override examples = [
    `<%= config.bin %> decide supersede 3 --by 7 --reason "bcrypt replaced by argon2id"`,
  ]
  static override args = {
    number: Args.integer({ required: true, description: 'the ADR that is superseded' }),
  }
  static override flags = {
    by: Flags.integer({ required: true, description: 'the ADR that replaces it' }),
    reason: Flags.string({ required: true }),
  }

  async run(): Promise<{ superseded: Decision; by: Decision }> {
    const { args, flags } = await this.parse(DecideSupersede)
    const result = await this.withWorkspace((ws) =>
      supersedeDecision(ws.brain.db, ws.scope, { number: args.number, by: flags.by, reason: flags.reason }),
    )
    this.say(`ADR-${args.number} superseded by ADR-${flags.by}`)
    return result
  }
}

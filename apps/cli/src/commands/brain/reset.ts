import { type BrainUpResult, brainUp, resetBrain } from '@dstack/brain-schema'
import { Flags } from '@oclif/core'
import { agentOf, DstackCommand } from '../../lib/command.ts'
import { EXIT } from '../../lib/exit-codes.ts'

export default class BrainReset extends DstackCommand {
  static override summary = 'Delete everything in the brain and recreate an empty schema'
  static override description =
    `Embedded: stops the server and deletes the database files (config and logs stay). Postgres: drops the
dstack schema (every intent, edit, decision, handoff, memory of the whole team) and leaves the rest of the database
alone. Then applies the migrations and registers this agent again. Requires --yes.

Exit codes: 0 reset, 2 --yes missing, 3 bad config, 4 brain unreachable.`
  static override examples = ['<%= config.bin %> brain reset --yes']
  static override flags = {
    yes: Flags.boolean({ description: 'really delete all brain data' }),
  }

  async run(): Promise<BrainUpResult> {
    const { flags } = await this.parse(BrainReset)
    const config = this.settings()
    if (!flags.yes) {
      this.error(
        `this deletes all brain data of the ${config.brain.driver} brain (${config.brain.driver === 'embedded' ? config.brain.dataDir : 'the dstack schema of the Postgres database'}); re-run with --yes`,
        { exit: EXIT.USAGE },
      )
    }
    await resetBrain(config.brain)
    const up = await brainUp(config.brain, {
      agent: agentOf(config),
    })
    this.say(`brain reset: ${up.migrationsApplied.length} migrations applied, agent ${up.agent} registered`)
    return up
  }
}

import { brainDown } from '@dstack/brain-schema'
import { DstackCommand } from '../../lib/command.ts'

export default class BrainDown extends DstackCommand {
  static override summary = 'Stop the embedded brain server'
  static override description =
    `Stops the local server of an embedded brain gracefully: the request in flight finishes, open
transactions roll back, the database is closed. It starts again on the next command that needs it. A Postgres brain
is not run by dstack, so there is nothing to stop.

Exit codes: 0 stopped or nothing to stop, 3 bad config.`
  static override examples = ['<%= config.bin %> brain down']

  async run(): Promise<{ driver: string; stopped: boolean }> {
    const config = this.settings()
    const stopped = await brainDown(config.brain)
    this.say(
      config.brain.driver === 'postgres'
        ? 'the brain is a Postgres server that dstack does not run: nothing to stop'
        : stopped
          ? 'embedded brain server stopped'
          : 'embedded brain server was not running',
    )
    return { driver: config.brain.driver, stopped }
  }
}

import { type BrainUpResult, brainUp } from '@dstack/brain-schema'
import { Flags } from '@oclif/core'
import { agentOf, DstackCommand } from '../../lib/command.ts'
import { keyValues } from '../../lib/format.ts'

export default class BrainUp extends DstackCommand {
  static override summary = 'Start the brain, apply pending migrations and register this agent'
  static override description =
    `Embedded brain: starts the local server that owns the PGlite database (it stops by itself after
brain.idle_timeout_minutes without clients). Postgres brain: connects. Either way, applies pending migrations and
registers the configured agent. Safe to run any number of times.

Exit codes: 0 ready, 3 bad config, 4 brain unreachable, 5 an applied migration was modified.`
  static override examples = ['<%= config.bin %> brain up', '<%= config.bin %> brain up --no-migrate --json']
  static override flags = {
    'no-migrate': Flags.boolean({ description: 'start and connect only; leave pending migrations alone' }),
  }

  async run(): Promise<BrainUpResult> {
    const { flags } = await this.parse(BrainUp)
    const config = this.settings()
    const up = await brainUp(config.brain, {
      migrate: !flags['no-migrate'],
      agent: agentOf(config),
    })
    this.say(
      keyValues([
        ['brain', `${up.driver} at ${up.location}`],
        ['server', up.driver === 'embedded' ? (up.serverStarted ? 'started' : 'already running') : undefined],
        [
          'migrations',
          up.migrationsApplied.length ? up.migrationsApplied.map((m) => m.name).join(', ') : 'none pending',
        ],
        ['schema', up.schemaVersion],
        ['agent', up.agent],
        ['took', `${up.ms} ms`],
      ]),
    )
    return up
  }
}

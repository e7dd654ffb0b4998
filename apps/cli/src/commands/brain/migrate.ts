import { migrate } from '@dstack/brain-schema'
import { Flags } from '@oclif/core'
import { DstackCommand } from '../../lib/command.ts'

export default class BrainMigrate extends DstackCommand {
  static override summary = 'Apply pending brain migrations'
  static override description =
    `Each migration runs in its own transaction with its bookkeeping row; concurrent runs take turns.
Refuses to run if an applied migration's file was modified since.

Exit codes: 0 up to date, 3 bad config, 4 brain unreachable, 5 a migration was modified or failed.`
  static override examples = [
    '<%= config.bin %> brain migrate',
    '<%= config.bin %> brain migrate --dry-run --json',
  ]
  static override flags = {
    'dry-run': Flags.boolean({ description: 'list what would be applied without applying it' }),
  }

  async run(): Promise<{ pending: string[]; applied: Array<{ version: string; name: string; ms: number }> }> {
    const { flags } = await this.parse(BrainMigrate)
    const config = this.settings()
    const result = await this.withBrain(config.brain, (brain) =>
      migrate(brain.db, { dryRun: flags['dry-run'] }),
    )
    const pending = result.plan.pending.map((m) => `${m.version}_${m.name}`)
    if (flags['dry-run']) this.say(pending.length ? `would apply:\n  ${pending.join('\n  ')}` : 'up to date')
    else
      this.say(
        result.ran.length
          ? result.ran.map((m) => `applied ${m.version}_${m.name} (${m.ms} ms)`).join('\n')
          : 'up to date',
      )
    return { pending, applied: result.ran }
  }
}

import { applyGc, planGc } from '@dstack/memory'
import { Flags } from '@oclif/core'
import { DstackCommand } from '../../lib/command.ts'
import { MEMORY_EXIT_HELP, memoryFlags } from '../../lib/memory-flags.ts'

export default class MemoryGc extends DstackCommand {
  static override summary = 'Show (and with --apply remove) expired memories and near-identical duplicates'
  static override description =
    `"Compound, don't accumulate": expired memories (superseded ones included) and groups
of memories that say the same thing (90% of their words shared), of which the best-established is kept.
Without --apply nothing is removed.

${MEMORY_EXIT_HELP}.`
  static override examples = ['<%= config.bin %> memory gc', '<%= config.bin %> memory gc --apply']
  static override flags = {
    ...memoryFlags,
    apply: Flags.boolean({ description: 'remove what the plan lists' }),
  }

  async run(): Promise<{
    expired: string[]
    duplicates: Array<{ keep: string; drop: string[] }>
    removed: number
  }> {
    const { flags } = await this.parse(MemoryGc)
    return this.withMemory(flags, async (m) => {
      const plan = planGc(await m.exportAll())
      const removed = flags.apply ? await applyGc(m, plan) : 0
      const result = {
        expired: plan.expired.map((x) => x.key),
        duplicates: plan.duplicates.map((g) => ({ keep: g.keep.key, drop: g.drop.map((x) => x.key) })),
        removed,
      }
      this.say(
        [
          `${result.expired.length} expired${result.expired.length ? `: ${result.expired.join(', ')}` : ''}`,
          `${result.duplicates.length} duplicate group(s)`,
          ...result.duplicates.map((g) => `  keep ${g.keep}, drop ${g.drop.join(', ')}`),
          flags.apply ? `removed ${removed}` : 'nothing removed (use --apply)',
        ].join('\n'),
      )
      return result
    })
  }
}

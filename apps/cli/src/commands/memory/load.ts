import type { Memory } from '@dstack/memory'
import { Args } from '@oclif/core'
import { DstackCommand } from '../../lib/command.ts'
import { MEMORY_EXIT_HELP, memoryFlags } from '../../lib/memory-flags.ts'

export default class MemoryLoad extends DstackCommand {
  static override summary = 'List the memories at or under a key prefix (all of the workspace without one)'
  static override description =
    `Prefixes match on segment boundaries: \`products\` loads products/a, not products_old/x.

${MEMORY_EXIT_HELP}.`
  static override examples = [
    '<%= config.bin %> memory load project/api',
    '<%= config.bin %> memory load --json',
  ]
  static override args = { prefix: Args.string({ default: '' }) }
  static override flags = memoryFlags

  async run(): Promise<Memory[]> {
    const { args, flags } = await this.parse(MemoryLoad)
    const memories = await this.withMemory(flags, (m) => m.load(args.prefix))
    this.say(
      memories.length === 0
        ? 'no memories'
        : memories.map((m) => `${m.key} [${m.state}] ${JSON.stringify(m.value).slice(0, 120)}`).join('\n'),
    )
    return memories
  }
}

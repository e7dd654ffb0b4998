import { Args } from '@oclif/core'
import { DstackCommand } from '../../lib/command.ts'
import { EXIT } from '../../lib/exit-codes.ts'
import { MEMORY_EXIT_HELP, memoryFlags } from '../../lib/memory-flags.ts'

export default class MemoryRm extends DstackCommand {
  static override summary = 'Delete a memory'
  static override description = `${MEMORY_EXIT_HELP}.`
  static override examples = ['<%= config.bin %> memory rm notes/obsolete']
  static override args = { key: Args.string({ required: true }) }
  static override flags = memoryFlags

  async run(): Promise<{ key: string; deleted: boolean }> {
    const { args, flags } = await this.parse(MemoryRm)
    const deleted = await this.withMemory(flags, (m) => m.delete(args.key))
    if (!deleted) {
      this.error(`no memory ${args.key}`, { exit: EXIT.NOT_FOUND })
    }
    this.say(`deleted ${args.key}`)
    return { key: args.key, deleted }
  }
}

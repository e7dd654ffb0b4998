import type { Memory } from '@dstack/memory'
import { Args } from '@oclif/core'
import { DstackCommand } from '../../lib/command.ts'
import { EXIT } from '../../lib/exit-codes.ts'
import { MEMORY_EXIT_HELP, memoryFlags } from '../../lib/memory-flags.ts'

export default class MemoryGet extends DstackCommand {
  static override summary = 'Show one memory'
  static override description = `${MEMORY_EXIT_HELP}.`
  static override examples = [
    '<%= config.bin %> memory get project/api/token-ttl',
    '<%= config.bin %> memory get db/engine -w team --json',
  ]
  static override args = { key: Args.string({ required: true }) }
  static override flags = memoryFlags

  async run(): Promise<Memory> {
    const { args, flags } = await this.parse(MemoryGet)
    const memory = await this.withMemory(flags, (m) => m.get(args.key))
    if (!memory) {
      this.error(`no memory ${args.key}`, { exit: EXIT.NOT_FOUND })
    }
    this.say(
      `${memory.key} [${memory.state}, confidence ${memory.confidence}] updated ${memory.updatedAt}\n${typeof memory.value === 'string' ? memory.value : JSON.stringify(memory.value, null, 2)}`,
    )
    return memory
  }
}

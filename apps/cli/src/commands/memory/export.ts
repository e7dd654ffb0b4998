import { writeFileSync } from 'node:fs'
import { toJsonl } from '@dstack/memory'
import { Flags } from '@oclif/core'
import { DstackCommand } from '../../lib/command.ts'
import { MEMORY_EXIT_HELP, memoryFlags } from '../../lib/memory-flags.ts'

export default class MemoryExport extends DstackCommand {
  static override summary = "Export the workspace's memories as JSONL (expired ones included)"
  static override description =
    `One memory per line, sorted by key: what \`memory import\` and \`memory merge\` read.

${MEMORY_EXIT_HELP}.`
  static override examples = [
    '<%= config.bin %> memory export > memories.jsonl',
    '<%= config.bin %> memory export --out team.jsonl -w team',
  ]
  static override flags = {
    ...memoryFlags,
    out: Flags.string({ char: 'o', description: 'write here instead of stdout' }),
  }

  async run(): Promise<{ count: number; out: string | null }> {
    const { flags } = await this.parse(MemoryExport)
    const memories = await this.withMemory(flags, (m) => m.exportAll())
    const text = toJsonl(memories)
    if (flags.out) writeFileSync(flags.out, text, { mode: 0o600 })
    else if (!this.jsonEnabled()) process.stdout.write(text)
    return { count: memories.length, out: flags.out ?? null }
  }
}

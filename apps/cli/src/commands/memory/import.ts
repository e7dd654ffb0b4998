import { readFileSync } from 'node:fs'
import { type ImportReport, importMemories, parseJsonl } from '@dstack/memory'
import { Args } from '@oclif/core'
import { DstackCommand } from '../../lib/command.ts'
import { MEMORY_EXIT_HELP, memoryFlags } from '../../lib/memory-flags.ts'

export default class MemoryImport extends DstackCommand {
  static override summary = 'Import a JSONL export into the workspace, under the knowledge-state rule'
  static override description =
    `Memories whose key holds a higher state here are reported as conflicts and not
written; identical ones are left alone; lines that are not valid memories are reported and skipped.

${MEMORY_EXIT_HELP}.`
  static override examples = ['<%= config.bin %> memory import memories.jsonl -w team']
  static override args = {
    file: Args.string({ required: true, description: 'a JSONL file, or - for stdin' }),
  }
  static override flags = memoryFlags

  async run(): Promise<ImportReport & { invalidLines: Array<{ line: number; problem: string }> }> {
    const { args, flags } = await this.parse(MemoryImport)
    const text = readFileSync(args.file === '-' ? 0 : args.file, 'utf8')
    const { memories, errors } = parseJsonl(text)
    const report = await this.withMemory(flags, (m) => importMemories(m, memories))
    for (const error of errors) this.warn(`line ${error.line}: ${error.problem}`)
    this.say(
      [
        `written ${report.written}, unchanged ${report.unchanged}, conflicts ${report.conflicts.length}, skipped ${report.skipped.length}, invalid lines ${errors.length}`,
        ...report.conflicts.map((c) => `  kept ${c.key}: stored ${c.stored} outranks incoming ${c.incoming}`),
        ...report.skipped.map((x) => `  skipped ${x.key}: ${x.reason}`),
      ].join('\n'),
    )
    return { ...report, invalidLines: errors }
  }
}

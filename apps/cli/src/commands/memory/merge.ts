import { readFileSync, writeFileSync } from 'node:fs'
import { type MergeConflict, mergeMemories, parseJsonl, toJsonl } from '@dstack/memory'
import { Args, Flags } from '@oclif/core'
import { DstackCommand } from '../../lib/command.ts'
import { MEMORY_EXIT_HELP } from '../../lib/memory-flags.ts'

export default class MemoryMerge extends DstackCommand {
  static override summary = 'Merge two JSONL exports key by key, with a report of every disagreement'
  static override description =
    `The higher knowledge state wins; at the same state, the more recently updated. The
merged JSONL goes to --out (or stdout); the conflicts are listed (and in --json).

${MEMORY_EXIT_HELP}.`
  static override examples = ['<%= config.bin %> memory merge laptop.jsonl server.jsonl --out merged.jsonl']
  static override args = { a: Args.string({ required: true }), b: Args.string({ required: true }) }
  static override flags = { out: Flags.string({ char: 'o', description: 'write the merged JSONL here' }) }

  async run(): Promise<{
    count: number
    conflicts: Array<Omit<MergeConflict, 'kept' | 'dropped'> & { keptState: string; droppedState: string }>
  }> {
    const { args, flags } = await this.parse(MemoryMerge)
    const read = (file: string) => {
      const { memories, errors } = parseJsonl(readFileSync(file, 'utf8'))
      for (const error of errors) this.warn(`${file} line ${error.line}: ${error.problem}`)
      return memories
    }
    const { merged, conflicts } = mergeMemories(read(args.a), read(args.b))
    const text = toJsonl(merged)
    if (flags.out) writeFileSync(flags.out, text, { mode: 0o600 })
    else if (!this.jsonEnabled()) process.stdout.write(text)
    const report = conflicts.map((c) => ({
      key: c.key,
      reason: c.reason,
      keptState: c.kept.state,
      droppedState: c.dropped.state,
    }))
    for (const c of report)
      this.logToStderr(`conflict ${c.key}: kept ${c.keptState} (${c.reason}) over ${c.droppedState}`)
    return { count: merged.length, conflicts: report }
  }
}

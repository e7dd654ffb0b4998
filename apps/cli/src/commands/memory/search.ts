import { KNOWLEDGE_STATES, type KnowledgeState, type SearchHit } from '@dstack/memory'
import { Args, Flags } from '@oclif/core'
import { DstackCommand } from '../../lib/command.ts'
import { splitList } from '../../lib/flags.ts'
import { MEMORY_EXIT_HELP, memoryFlags } from '../../lib/memory-flags.ts'

export default class MemorySearch extends DstackCommand {
  static override summary = 'Ranked search over memory keys and values'
  static override description = `${MEMORY_EXIT_HELP}.`
  static override examples = [
    '<%= config.bin %> memory search "password hashing"',
    '<%= config.bin %> memory search redis --prefix decisions --state CONFIRMED',
  ]
  static override args = { query: Args.string({ required: true }) }
  static override flags = {
    ...memoryFlags,
    limit: Flags.integer({ min: 1, max: 200, default: 10 }),
    prefix: Flags.string({ description: 'only keys under this prefix' }),
    state: Flags.string({ description: `comma-separated states (${KNOWLEDGE_STATES.join(', ')})` }),
    'min-confidence': Flags.string({ description: '0..1' }),
  }

  async run(): Promise<SearchHit[]> {
    const { args, flags } = await this.parse(MemorySearch)
    const states = splitList(flags.state)?.map((s) => s.toUpperCase()) as KnowledgeState[] | undefined
    for (const state of states ?? []) {
      if (!KNOWLEDGE_STATES.includes(state)) this.error(`unknown state ${state}`, { exit: 2 })
    }
    const minConfidence = flags['min-confidence'] === undefined ? undefined : Number(flags['min-confidence'])
    if (minConfidence !== undefined && !(minConfidence >= 0 && minConfidence <= 1)) {
      this.error(`--min-confidence is a number from 0 to 1, got ${flags['min-confidence']}`, { exit: 2 })
    }
    const hits = await this.withMemory(flags, (m) =>
      m.search(args.query, {
        limit: flags.limit,
        prefix: flags.prefix,
        states,
        minConfidence,
      }),
    )
    this.say(
      hits.length === 0
        ? 'no matches'
        : hits
            .map(
              (h) =>
                `${h.score.toFixed(3)}  ${h.memory.key} [${h.memory.state}] ${JSON.stringify(h.memory.value).slice(0, 120)}`,
            )
            .join('\n'),
    )
    return hits
  }
}

import { KNOWLEDGE_STATES, type KnowledgeState, type Memory, redactSecrets } from '@dstack/memory'
import { Args, Flags } from '@oclif/core'
import { DstackCommand } from '../../lib/command.ts'
import { MEMORY_EXIT_HELP, memoryFlags } from '../../lib/memory-flags.ts'

export default class MemorySet extends DstackCommand {
  static override summary = 'Write a memory (refused when a memory in a higher knowledge state is stored)'
  static override description =
    `The value is parsed as JSON when it is valid JSON, else stored as text. Provenance
(agent, session, repository, branch, commit) is recorded from the environment. Values that look like secrets are
refused (--redact stores them with the secret parts replaced).

${MEMORY_EXIT_HELP}.`
  static override examples = [
    '<%= config.bin %> memory set project/api/token-ttl 3600 --state CONFIRMED',
    `<%= config.bin %> memory set notes/caching "we cache sessions in redis" --state INFERRED --confidence 0.6`,
    '<%= config.bin %> memory set decisions/hashing-v2 argon2id --supersedes decisions/hashing-v1',
  ]
  static override args = { key: Args.string({ required: true }), value: Args.string({ required: true }) }
  static override flags = {
    ...memoryFlags,
    state: Flags.string({
      options: [...KNOWLEDGE_STATES],
      default: 'INFERRED',
      description:
        'knowledge state; CONFIRMED only for what a person or a check verified (nothing lower can replace it)',
    }),
    confidence: Flags.string({ description: '0..1 (default 1)' }),
    ttl: Flags.integer({ min: 1, description: 'expire after this many seconds' }),
    supersedes: Flags.string({ description: 'the key this memory replaces (it is expired)' }),
    text: Flags.boolean({ description: 'store the value as text even if it parses as JSON' }),
    redact: Flags.boolean({ description: 'store with secret-looking parts replaced instead of refusing' }),
  }

  async run(): Promise<Memory> {
    const { args, flags } = await this.parse(MemorySet)
    let value: unknown = args.value
    if (!flags.text) {
      try {
        value = JSON.parse(args.value)
      } catch {}
    }
    const memory = await this.withMemory(flags, (m) =>
      m.write({
        key: args.key,
        value: flags.redact ? redactSecrets(value as never) : (value as never),
        state: flags.state as KnowledgeState,
        confidence: flags.confidence === undefined ? undefined : Number(flags.confidence),
        ttlSeconds: flags.ttl,
        supersedes: flags.supersedes,
        provenance: this.provenance(),
      }),
    )
    this.say(`${memory.key} = ${JSON.stringify(memory.value)} [${memory.state}]`)
    return memory
  }
}

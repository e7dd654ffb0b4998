import { isExpired } from './prepare.ts'
import { textOf } from './search/bm25.ts'
import { stateRank } from './state.ts'
import type { Memory, MemoryProvider } from './types.ts'

/**
 * The memories worth putting in an agent's context for a task: those the task's words find (ranked), else the
 * best-established ones (state, then confidence, then most recent), as fact lines within `maxChars`.
 *
 * @example
 * const text = await memoryDigest(provider, { task: 'rate limiting on login', maxChars: 1500 })
 */
export async function memoryDigest(
  provider: MemoryProvider,
  options: { task?: string | null; maxChars: number; limit?: number },
): Promise<string> {
  const limit = options.limit ?? 20
  let memories: Memory[] = []
  if (options.task?.trim())
    memories = (await provider.search(options.task, { limit })).map((hit) => hit.memory)
  if (memories.length < limit) {
    const seen = new Set(memories.map((m) => m.key))
    const rest = (await provider.load(''))
      .filter((m) => !seen.has(m.key) && !isExpired(m))
      .sort(
        (a, b) =>
          stateRank(b.state) - stateRank(a.state) ||
          b.confidence - a.confidence ||
          Date.parse(b.updatedAt) - Date.parse(a.updatedAt),
      )
    memories = [...memories, ...rest].slice(0, limit)
  }
  if (memories.length === 0) return ''
  const lines = [`Memories for ${provider.workspace}:`]
  let used = lines[0]!.length
  for (const memory of memories) {
    const text = textOf(memory.value).replace(/\s+/g, ' ').trim()
    const line = `- ${memory.key} [${memory.state.toLowerCase()}${memory.confidence < 1 ? `, ${memory.confidence}` : ''}]: ${text.length > 240 ? `${text.slice(0, 239)}…` : text}`
    if (used + line.length + 1 > options.maxChars) break
    lines.push(line)
    used += line.length + 1
  }
  return lines.length > 1 ? lines.join('\n') : ''
}

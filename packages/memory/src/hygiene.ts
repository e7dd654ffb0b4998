import { isExpired } from './prepare.ts'
import { textOf, tokenize } from './search/bm25.ts'
import { stateRank } from './state.ts'
import type { Memory, MemoryProvider } from './types.ts'

// "Compound, don't accumulate": what `dstack memory gc` removes. Expired memories (superseded ones are expired by
// the write that superseded them), and near-identical duplicates, of which the best-established one is kept.

/** Two memories whose word sets overlap at least this much (Jaccard) say the same thing. */
export const DUPLICATE_SIMILARITY = 0.9

export interface DuplicateGroup {
  keep: Memory
  drop: Memory[]
  similarity: number
}

export interface GcPlan {
  expired: Memory[]
  duplicates: DuplicateGroup[]
}

function words(memory: Memory): Set<string> {
  return new Set(tokenize(textOf(memory.value)))
}

function jaccard(a: Set<string>, b: Set<string>): number {
  if (a.size === 0 && b.size === 0) return 1
  let shared = 0
  for (const word of a) if (b.has(word)) shared++
  return shared / (a.size + b.size - shared)
}

/** The better of two memories to keep: higher state, then higher confidence, then more recently updated. */
function better(a: Memory, b: Memory): Memory {
  const rank = stateRank(a.state) - stateRank(b.state)
  if (rank !== 0) return rank > 0 ? a : b
  if (a.confidence !== b.confidence) return a.confidence > b.confidence ? a : b
  return Date.parse(a.updatedAt) >= Date.parse(b.updatedAt) ? a : b
}

/**
 * Groups live memories that say the same thing (word-set similarity ≥ 0.9 and at least 3 words), keeping the
 * best-established of each group. Candidates are bucketed by their rarest words, so this stays near-linear (and
 * can, rarely, miss a pair: see below).
 *
 * @example
 * for (const group of findDuplicates(memories)) console.log(group.keep.key, '<-', group.drop.map((m) => m.key))
 */
export function findDuplicates(memories: Memory[], threshold = DUPLICATE_SIMILARITY): DuplicateGroup[] {
  // Only memories in the same folder are candidates: the same words under services/billing/db and services/auth/db
  // are two facts, not one said twice.
  const live = memories
    .map((memory) => ({ memory, words: words(memory), folder: memory.key.split('/').slice(0, -1).join('/') }))
    .filter((m) => m.words.size >= 3)
  const frequency = new Map<string, number>()
  for (const { words: set } of live)
    for (const word of set) frequency.set(word, (frequency.get(word) ?? 0) + 1)
  // Only memories sharing one of their three rarest words are compared: near-linear instead of all pairs. A 90%
  // similar pair almost always does; one whose rare words all sit in the differing 10% is missed.
  const buckets = new Map<string, number[]>()
  live.forEach(({ words: set }, index) => {
    const rarest = [...set]
      .sort((x, y) => frequency.get(x)! - frequency.get(y)! || (x < y ? -1 : 1))
      .slice(0, 3)
    for (const word of rarest) buckets.set(word, [...(buckets.get(word) ?? []), index])
  })
  const groupOf = new Map<number, number>()
  const groups: Array<{ members: number[]; similarity: number }> = []
  for (const indexes of buckets.values()) {
    for (let i = 0; i < indexes.length; i++) {
      for (let j = i + 1; j < indexes.length; j++) {
        const [x, y] = [indexes[i]!, indexes[j]!]
        if (live[x]!.folder !== live[y]!.folder) continue
        if (groupOf.has(y) && groupOf.get(y) === groupOf.get(x)) continue
        const similarity = jaccard(live[x]!.words, live[y]!.words)
        if (similarity < threshold) continue
        const target = groupOf.get(x) ?? groupOf.get(y)
        if (target === undefined) {
          groups.push({ members: [x, y], similarity })
          groupOf.set(x, groups.length - 1)
          groupOf.set(y, groups.length - 1)
        } else {
          const group = groups[target]!
          for (const member of [x, y]) {
            if (!groupOf.has(member)) {
              group.members.push(member)
              groupOf.set(member, target)
            }
          }
          group.similarity = Math.min(group.similarity, similarity)
        }
      }
    }
  }
  return groups.map(({ members, similarity }) => {
    const candidates = members.map((index) => live[index]!.memory)
    const keep = candidates.reduce(better)
    return {
      keep,
      drop: candidates.filter((m) => m !== keep).sort((a, b) => (a.key < b.key ? -1 : 1)),
      similarity,
    }
  })
}

/**
 * What gc would remove from these memories (an export, expired ones included), without removing anything.
 *
 * @example
 * const plan = planGc(await provider.exportAll())
 */
export function planGc(memories: Memory[], now = Date.now()): GcPlan {
  const expired = memories.filter((m) => isExpired(m, now))
  const live = memories.filter((m) => !isExpired(m, now))
  return { expired, duplicates: findDuplicates(live) }
}

/**
 * Carries out a plan: deletes the expired memories and the dropped duplicates, skipping any that changed since the
 * plan was made (an expired key written again is live; a duplicate rewritten is no longer the same). Returns how
 * many went.
 *
 * @example
 * const removed = await applyGc(provider, planGc(await provider.exportAll()))
 */
export async function applyGc(provider: MemoryProvider, plan: GcPlan): Promise<number> {
  let removed = 0
  for (const memory of plan.expired) {
    // get() hides expired memories: anything it returns was written after the plan.
    if ((await provider.get(memory.key)) !== null) continue
    if (await provider.delete(memory.key)) removed++
  }
  for (const memory of plan.duplicates.flatMap((g) => g.drop)) {
    const current = await provider.get(memory.key)
    if (!current || current.updatedAt !== memory.updatedAt) continue
    if (await provider.delete(memory.key)) removed++
  }
  return removed
}

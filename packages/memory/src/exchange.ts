import { z } from 'zod'
import { InvalidMemoryError, MemoryConflictError, SecretRefusedError } from './errors.ts'
import { canonicalKey } from './keys.ts'
import { isExpired } from './prepare.ts'
import { stateRank } from './state.ts'
import {
  type ImportReport,
  type JsonValue,
  knowledgeStateSchema,
  type Memory,
  type MemoryProvider,
  provenanceSchema,
  workspaceSchema,
} from './types.ts'

// Export, import and merge: JSONL, one memory per line, the same shape every provider returns.

const memorySchema = z.strictObject({
  workspace: workspaceSchema,
  key: z.string().transform((key) => canonicalKey(key)),
  value: z.json(),
  state: knowledgeStateSchema,
  confidence: z.number().min(0).max(1),
  provenance: provenanceSchema,
  createdAt: z.iso.datetime({ offset: true }),
  updatedAt: z.iso.datetime({ offset: true }),
  supersedes: z.string().nullable(),
  expiresAt: z.iso.datetime({ offset: true }).nullable(),
})

/**
 * Memories as JSONL: one JSON object per line, sorted by key, ending with a newline.
 *
 * @example
 * writeFileSync('memories.jsonl', toJsonl(await provider.exportAll()))
 */
export function toJsonl(memories: Memory[]): string {
  return memories.map((m) => `${JSON.stringify(m)}\n`).join('')
}

/**
 * Parses JSONL written by toJsonl. Bad lines are reported with their number and skipped; good lines are kept.
 *
 * @example
 * const { memories, errors } = parseJsonl(readFileSync('memories.jsonl', 'utf8'))
 */
export function parseJsonl(text: string): {
  memories: Memory[]
  errors: Array<{ line: number; problem: string }>
} {
  const memories: Memory[] = []
  const errors: Array<{ line: number; problem: string }> = []
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return
    let raw: unknown
    try {
      raw = JSON.parse(line)
    } catch (error) {
      errors.push({ line: index + 1, problem: `not JSON: ${(error as Error).message}` })
      return
    }
    const parsed = memorySchema.safeParse(raw)
    if (!parsed.success) {
      errors.push({
        line: index + 1,
        problem: parsed.error.issues.map((i) => `${i.path.join('.') || 'line'}: ${i.message}`).join('; '),
      })
      return
    }
    memories.push({ ...parsed.data, value: parsed.data.value as JsonValue })
  })
  return { memories, errors }
}

const sameContent = (a: Memory, b: Memory) =>
  a.state === b.state && a.confidence === b.confidence && JSON.stringify(a.value) === JSON.stringify(b.value)

/**
 * Writes memories into a provider under the state rule: a memory whose key holds a higher state there is a
 * conflict (reported, stored one kept); one identical to what is stored is left alone. The provider's workspace
 * wins over the memories' own.
 *
 * @example
 * const report = await importMemories(provider, parseJsonl(text).memories)
 */
export async function importMemories(provider: MemoryProvider, memories: Memory[]): Promise<ImportReport> {
  const report: ImportReport = { written: 0, unchanged: 0, conflicts: [], skipped: [] }
  for (const memory of memories) {
    const stored = await provider.get(memory.key)
    if (stored && sameContent(stored, memory)) {
      report.unchanged++
      continue
    }
    // An expired memory from an old export never replaces a live one.
    if (isExpired(memory) && stored) {
      report.skipped.push({ key: memory.key, reason: 'expired in the import, live here' })
      continue
    }
    try {
      await provider.write({
        key: memory.key,
        value: memory.value,
        state: memory.state,
        confidence: memory.confidence,
        provenance: memory.provenance,
        // Not replayed: an old supersede would expire a memory rewritten since.
        supersedes: null,
        expiresAt: memory.expiresAt,
      })
      report.written++
    } catch (error) {
      if (error instanceof MemoryConflictError) {
        report.conflicts.push({ key: memory.key, stored: error.stored, incoming: error.incoming })
      } else if (error instanceof InvalidMemoryError || error instanceof SecretRefusedError) {
        // One bad memory does not stop the rest.
        report.skipped.push({ key: memory.key, reason: error.message })
      } else {
        throw error
      }
    }
  }
  return report
}

export interface MergeConflict {
  key: string
  kept: Memory
  dropped: Memory
  /** Why `kept` won: it is live and the other expired, a higher state, or the same state and newer. */
  reason: 'live' | 'higher-state' | 'newer'
}

/**
 * Merges two sets of memories (two exports, two providers) key by key with the state rule: the higher state wins;
 * at the same state the more recently updated wins. Every key where the two disagreed is reported.
 *
 * @example
 * const { merged, conflicts } = mergeMemories(await laptop.exportAll(), await server.exportAll())
 */
export function mergeMemories(a: Memory[], b: Memory[]): { merged: Memory[]; conflicts: MergeConflict[] } {
  const byKey = new Map(a.map((m) => [m.key, m]))
  const conflicts: MergeConflict[] = []
  for (const incoming of b) {
    const current = byKey.get(incoming.key)
    if (!current) {
      byKey.set(incoming.key, incoming)
      continue
    }
    if (sameContent(current, incoming)) continue
    // A live memory beats an expired (or superseded) one whatever their states; then rank; then recency.
    const alive = Number(!isExpired(incoming)) - Number(!isExpired(current))
    const rank = stateRank(incoming.state) - stateRank(current.state)
    const incomingWins =
      alive !== 0
        ? alive > 0
        : rank > 0 || (rank === 0 && Date.parse(incoming.updatedAt) > Date.parse(current.updatedAt))
    const [kept, dropped] = incomingWins ? [incoming, current] : [current, incoming]
    byKey.set(incoming.key, kept)
    conflicts.push({
      key: incoming.key,
      kept,
      dropped,
      reason: alive !== 0 ? 'live' : rank !== 0 ? 'higher-state' : 'newer',
    })
  }
  const merged = [...byKey.values()].sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0))
  return { merged, conflicts }
}

import { z } from 'zod'

// The one shape of a memory, whichever provider holds it. Providers validate what they are given with these
// schemas (the boundary) and return Memory objects built from them.

export const KNOWLEDGE_STATES = ['CONFIRMED', 'INFERRED', 'UNCERTAIN', 'UNKNOWN'] as const
/** CONFIRMED (verified by a person or a check) > INFERRED (a guess) > UNCERTAIN (conflicting signals) > UNKNOWN (a known gap). */
export type KnowledgeState = (typeof KNOWLEDGE_STATES)[number]
export const knowledgeStateSchema = z.enum(KNOWLEDGE_STATES)

/** Any JSON value. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }

/** A workspace: the namespace memories live in (a repo, a team, a person). */
export const workspaceSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/,
    'a workspace is 1-128 letters, digits, dots, underscores or dashes',
  )

/** Where a memory came from. Every field optional; writers fill what they know. */
export const provenanceSchema = z.strictObject({
  agent: z.string().max(200).nullish(),
  session: z.string().max(200).nullish(),
  repo: z.string().max(500).nullish(),
  branch: z.string().max(255).nullish(),
  commit: z
    .string()
    .regex(/^[0-9a-f]{7,64}$/, 'a commit is a hex sha')
    .nullish(),
  source: z.string().max(500).nullish(),
})
export type Provenance = z.infer<typeof provenanceSchema>

/** A stored memory. Times are ISO 8601 strings. */
export interface Memory {
  workspace: string
  /** Canonical key path, e.g. `project/api/auth/token-ttl` (see keys.ts). */
  key: string
  value: JsonValue
  state: KnowledgeState
  /** 0..1: how sure the writer was. Does not decide overwrites; the state does. */
  confidence: number
  provenance: Provenance
  createdAt: string
  updatedAt: string
  /** The key this memory replaced; that memory is expired by the write. */
  supersedes: string | null
  /** After this time the memory is hidden from get/load/search and `gc` removes it. */
  expiresAt: string | null
}

/** What a caller writes. */
export interface MemoryWrite {
  key: string
  value: JsonValue
  state: KnowledgeState
  confidence?: number
  provenance?: Provenance
  supersedes?: string | null
  /** An absolute expiry, or `ttlSeconds` from now. */
  expiresAt?: string | Date | null
  ttlSeconds?: number
}

export interface SearchOptions {
  /** At most this many hits (default 10). */
  limit?: number
  /** Only keys under this prefix (segment boundary: `a/b` matches `a/b` and `a/b/c`, not `a/bc`). */
  prefix?: string
  states?: KnowledgeState[]
  minConfidence?: number
}

export interface SearchHit {
  memory: Memory
  /** Higher is better; comparable only within one result list. */
  score: number
}

export interface ImportReport {
  written: number
  unchanged: number
  /** Entries refused by the state rule (a lower state over a higher one): the stored memory was kept. */
  conflicts: Array<{ key: string; stored: KnowledgeState; incoming: KnowledgeState }>
  /** Entries not written, with why: invalid, holding a secret, or expired where a live memory exists. */
  skipped: Array<{ key: string; reason: string }>
}

/** A change seen by `watch`. */
export interface MemoryChange {
  op: 'write' | 'delete'
  key: string
}

/**
 * One memory store for one workspace. Every provider has the same semantics (the conformance suite in
 * test/conformance.ts runs against each): a lower knowledge state never overwrites a higher one
 * (MemoryConflictError, stored value kept), keys follow one canonical scheme, expired memories are invisible,
 * values that look like secrets are refused.
 */
export interface MemoryProvider {
  readonly kind: 'file' | 'brain' | 'eruka'
  readonly workspace: string
  /** The memory at exactly this key, or null (also when expired). */
  get(key: string): Promise<Memory | null>
  /** Every live memory at or under `prefix` (segment boundary), sorted by key. `''` loads the whole workspace. */
  load(prefix: string): Promise<Memory[]>
  /** Creates or replaces the memory at `write.key`; throws MemoryConflictError when the stored state ranks higher. */
  write(write: MemoryWrite): Promise<Memory>
  /** Ranked search over keys and values. */
  search(query: string, options?: SearchOptions): Promise<SearchHit[]>
  /** Removes the memory; false when there was none. */
  delete(key: string): Promise<boolean>
  /** Every memory of the workspace, expired ones included, sorted by key (for export and merge). */
  exportAll(): Promise<Memory[]>
  /** Calls `onChange` for writes and deletes by anyone, where the back-end can tell; undefined where it cannot. */
  watch?(onChange: (change: MemoryChange) => void): Promise<{ close(): Promise<void> }>
  close(): Promise<void>
}

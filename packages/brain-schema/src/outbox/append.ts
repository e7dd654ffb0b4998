// The writing half of the outbox. Hooks import this on every tool call, so it loads nothing but node builtins and
// @dstack/daemon: no kysely, no zod (zod alone takes ~35 ms to import, more than a whole `node -e 0`). Entries are
// validated with zod when they are flushed, which is where they cross into the brain.

import { randomUUID } from 'node:crypto'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { writeFileAtomic } from '@dstack/daemon'

/** A handoff lists at most this many uncommitted files (a repository with an un-ignored build directory has more). */
export const MAX_HANDOFF_FILES = 10_000

/** Where an entry happened: the repository as `@dstack/git` identifies it. */
export interface OutboxRepo {
  canonical: string
  branch: string | null
  defaultBranch?: string
}

interface EntryBase {
  v: 1
  /** Client-generated; becomes the row id, which makes every flush of this entry idempotent. */
  id: string
  /** ISO time the event happened. */
  at: string
  /** Set when the hook ran with DSTACK_AGENT; otherwise the flusher's configured agent. */
  agent?: string | null
  session?: string | null
  machine?: string | null
  repo: OutboxRepo
}

export type OutboxEntry = EntryBase &
  (
    | {
        kind: 'edit'
        path: string
        op: 'edit' | 'write' | 'create' | 'delete' | 'rename' | 'notebook'
        tool?: string | null
        hunks?: Array<[number, number]>
        summary?: string | null
      }
    | { kind: 'prompt'; prompt: string }
    | { kind: 'stop'; uncommittedFiles: string[]; lastMessage?: string | null }
    | { kind: 'push'; headSha?: string | null; remote?: string | null }
    | { kind: 'heartbeat'; status?: string; activeFiles?: string[] }
    | { kind: 'leave' }
  )

/** Distributes Omit over the union so each kind keeps its own fields. */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never
export type NewOutboxEntry = DistributiveOmit<OutboxEntry, 'v' | 'id' | 'at'> & { id?: string; at?: Date }

let sequence = 0

/**
 * The file name of an entry: time, then pid and a per-process counter, so a sorted listing is the order in which
 * entries were written (per process exactly; across processes to the millisecond).
 */
function entryFileName(at: Date, id: string): string {
  sequence = (sequence + 1) % 1_000_000
  return `${String(at.getTime()).padStart(15, '0')}-${String(process.pid).padStart(7, '0')}-${String(sequence).padStart(6, '0')}-${id}.json`
}

/** Entry files are `<time>-<pid>-<seq>-<uuid>.json`; anything else in the directory is not an entry. */
export const ENTRY_FILE = /^\d{15}-\d{7}-\d{6}-[0-9a-f-]{36}\.json$/

/**
 * Appends one entry to the outbox directory and returns at once: one small file, written to a temporary name and
 * renamed, so a flusher never sees half an entry and a concurrent flush never loses it (it simply is not in that
 * flush's listing). Returns the entry's id.
 *
 * @example
 * appendToOutbox('/home/me/.dstack/outbox', {
 *   kind: 'edit', path: 'src/auth/login.ts', op: 'edit', hunks: [[10, 14]],
 *   session: 'abc', repo: { canonical: 'github.com/acme/api', branch: 'main' },
 * })
 */
export function appendToOutbox(dir: string, entry: NewOutboxEntry): string {
  const id = entry.id ?? randomUUID()
  const at = entry.at ?? new Date()
  const record = { ...entry, v: 1, id, at: at.toISOString() }
  // Entries hold repo paths and prompt excerpts: readable by this user only.
  // No fsync (~3 ms, as much as the rest of the hook): the rename is still atomic and survives a crash of the
  // process; only a power loss in the next seconds could drop the last entries.
  writeFileAtomic(join(dir, entryFileName(at, id)), JSON.stringify(record), {
    mode: 0o600,
    dirMode: 0o700,
    fsync: false,
  })
  return id
}

/**
 * How many entries wait in the outbox (0 when the directory does not exist).
 *
 * @example
 * if (pendingCount(dir) > 0) startBackgroundFlush()
 */
export function pendingCount(dir: string): number {
  try {
    return readdirSync(dir).filter((name) => ENTRY_FILE.test(name)).length
  } catch {
    return 0
  }
}

import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tryLock } from '@dstack/daemon'
import type { Kysely } from 'kysely'
import { z } from 'zod'
import type { Database } from '../database.generated.ts'
import { BrainError, BrainUnavailableError } from '../errors.ts'
import { agentHandle, hunk, repoPath } from '../inputs.ts'
import { logEdit, recordPush } from '../ops/edits.ts'
import { autoHandoff } from '../ops/handoffs.ts'
import { inferIntent } from '../ops/intents.ts'
import { heartbeat, leave, presenceStatus } from '../ops/presence.ts'
import { type ResolvedScope, resolveScope } from '../ops/scope.ts'
import { ENTRY_FILE, MAX_HANDOFF_FILES, type OutboxEntry } from './append.ts'

const base = {
  v: z.literal(1),
  id: z.uuid(),
  at: z.iso.datetime({ offset: true }),
  agent: agentHandle.nullish(),
  session: z.string().min(1).max(200).nullish(),
  machine: z.string().max(200).nullish(),
  repo: z.object({
    canonical: z.string().min(1).max(500),
    branch: z.string().min(1).max(255).nullable(),
    defaultBranch: z.string().min(1).max(255).optional(),
  }),
}

/** The boundary: every entry is checked here before anything reaches the brain. */
export const outboxEntrySchema = z.discriminatedUnion('kind', [
  z.object({
    ...base,
    kind: z.literal('edit'),
    path: repoPath,
    op: z.enum(['edit', 'write', 'create', 'delete', 'rename', 'notebook']),
    tool: z.string().max(100).nullish(),
    hunks: z.array(hunk).max(10_000).optional(),
    summary: z.string().max(2_000).nullish(),
  }),
  z.object({ ...base, kind: z.literal('prompt'), prompt: z.string().max(1_000_000) }),
  z.object({
    ...base,
    kind: z.literal('stop'),
    uncommittedFiles: z.array(repoPath).max(MAX_HANDOFF_FILES),
    lastMessage: z.string().max(1_000_000).nullish(),
  }),
  z.object({
    ...base,
    kind: z.literal('push'),
    headSha: z
      .string()
      .regex(/^[0-9a-f]{7,64}$/)
      .nullish(),
    remote: z.string().max(500).nullish(),
  }),
  z.object({
    ...base,
    kind: z.literal('heartbeat'),
    status: presenceStatus.optional(),
    activeFiles: z.array(repoPath).max(1_000).optional(),
  }),
  z.object({ ...base, kind: z.literal('leave') }),
])

export interface FlushOptions {
  /** The outbox directory (<DSTACK_HOME>/outbox). */
  dir: string
  /** Agent for entries that do not name one: the machine's configured agent. */
  agentId: string
  machine?: string | null
  /** Entries per transaction; a failing batch is retried one entry at a time. Default 200. */
  batchSize?: number
  /** Stop starting new batches after this time (SessionEnd has 1.5 s). */
  deadline?: number
}

export interface FlushResult {
  /** Entries written to the brain (replays of entries already there count: they changed nothing). */
  applied: number
  /** Entries refused for good (invalid, or rejected by the schema), moved to <dir>/dead with the reason. */
  dead: number
  /** Entries still waiting (brain went away, deadline reached, or written during this flush). */
  remaining: number
  /** Another process is flushing; this call did nothing. */
  busy: boolean
  /** Why the flush stopped early when the brain failed mid-way (entries stay for the next flush). */
  interrupted: string | null
}

/** Node socket errors that mean "the brain is not reachable right now". */
const CONNECTION_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOENT',
  'EHOSTUNREACH',
  'ENETUNREACH',
])

/**
 * Errors worth retrying later: the brain is unreachable or went away (connection failures, SQLSTATE classes 08
 * and 57 — shutdown, admin kill), it is overloaded (53), or a transaction lost a race (40001, 40P01). Everything
 * else — bad data, a constraint, a privilege, a bug — will fail again the same way, so that entry is set aside.
 */
function isTransient(error: unknown): boolean {
  if (error instanceof BrainUnavailableError) return true
  if (error instanceof BrainError) return false
  const code = (error as { code?: unknown }).code
  if (typeof code !== 'string') {
    // pg reports a dropped connection as a plain Error with one of these messages.
    return /Connection terminated|connection timeout|Client has encountered a connection error/i.test(
      (error as Error)?.message ?? '',
    )
  }
  return CONNECTION_ERRNOS.has(code) || /^(08|57|53)/.test(code) || code === '40001' || code === '40P01'
}

/** Applies one validated entry inside the caller's transaction. */
async function applyEntry(db: Kysely<Database>, entry: OutboxEntry, scope: ResolvedScope): Promise<void> {
  const at = new Date(entry.at)
  switch (entry.kind) {
    case 'edit':
      await logEdit(db, scope, {
        id: entry.id,
        path: entry.path,
        op: entry.op,
        tool: entry.tool,
        hunks: entry.hunks,
        summary: entry.summary,
        at,
      })
      await heartbeat(db, scope, { status: 'coding', activeFiles: [entry.path], at })
      return
    case 'prompt':
      await inferIntent(db, scope, { id: entry.id, prompt: entry.prompt })
      await heartbeat(db, scope, { status: 'planning', at })
      return
    case 'stop':
      await autoHandoff(db, scope, {
        uncommittedFiles: entry.uncommittedFiles,
        lastMessage: entry.lastMessage,
      })
      await heartbeat(db, scope, { status: 'idle', at })
      return
    case 'push':
      await recordPush(db, scope, { id: entry.id, headSha: entry.headSha, remote: entry.remote, at })
      await heartbeat(db, scope, { status: 'shipping', at })
      return
    case 'heartbeat':
      await heartbeat(db, scope, {
        status: entry.status as z.infer<typeof presenceStatus> | undefined,
        activeFiles: entry.activeFiles,
        at,
      })
      return
    case 'leave':
      await leave(db, scope)
      return
  }
}

interface Loaded {
  name: string
  entry: OutboxEntry
}

/** Moves an entry that can never be applied out of the way, with the reason next to it. */
function bury(dir: string, name: string, reason: string): void {
  const dead = join(dir, 'dead')
  mkdirSync(dead, { recursive: true, mode: 0o700 })
  renameSync(join(dir, name), join(dead, name))
  writeFileSync(join(dead, `${name}.error.txt`), `${reason}\n`, { mode: 0o600 })
}

/** Temporary files of appends that crashed before their rename; live ones are milliseconds old. */
function sweepAbandonedTemps(dir: string, names: string[]): void {
  const hourAgo = Date.now() - 3_600_000
  for (const name of names) {
    if (!name.endsWith('.tmp') || !name.startsWith('.')) continue
    try {
      if (statSync(join(dir, name)).mtimeMs < hourAgo) rmSync(join(dir, name), { force: true })
    } catch {}
  }
}

/**
 * Flushes the outbox into the brain, oldest entry first. One flusher at a time (a lock with stale-owner detection:
 * a flusher that crashed does not block the next). Each batch is one transaction; its files are deleted only after
 * it commits, and every write is an idempotent upsert keyed by the entry's id, so a crash at any point means the
 * next flush re-applies a batch without duplicating anything. Entries appended during a flush wait for the next.
 * A brain that is down leaves every entry in place.
 *
 * @example
 * const { applied, remaining } = await flushOutbox(brain.db, { dir: '/home/me/.dstack/outbox', agentId: 'alice' })
 */
export async function flushOutbox(db: Kysely<Database>, options: FlushOptions): Promise<FlushResult> {
  const { dir } = options
  const pendingNames = () => {
    try {
      return readdirSync(dir)
        .filter((n) => ENTRY_FILE.test(n))
        .sort()
    } catch {
      return []
    }
  }
  const total = { applied: 0, dead: 0 }
  let interrupted: string | null = null
  // An appender that found the lock held relies on this flusher to take its entry: so after releasing the lock,
  // look again, and go round while entries remain (the appender wrote before it looked at the lock).
  for (let round = 0; ; round++) {
    if (pendingNames().length === 0) break
    const attempt = tryLock(join(dir, '.flush.lock'), 'outbox flush')
    if (!attempt.acquired) {
      if (round === 0) {
        return { applied: 0, dead: 0, remaining: pendingNames().length, busy: true, interrupted: null }
      }
      break // another flusher took over and will see the rest
    }
    try {
      interrupted = await flushHeld(db, options, pendingNames, total)
    } finally {
      attempt.lock.release()
    }
    if (interrupted !== null) break
    if (options.deadline !== undefined && Date.now() > options.deadline) break
  }
  return { ...total, remaining: pendingNames().length, busy: false, interrupted }
}

/** The flush proper, with the lock held: until the directory is empty, the brain fails, or the deadline passes. */
async function flushHeld(
  db: Kysely<Database>,
  options: FlushOptions,
  pendingNames: () => string[],
  total: { applied: number; dead: number },
): Promise<string | null> {
  const { dir } = options
  try {
    sweepAbandonedTemps(dir, readdirSync(dir))
  } catch {}
  const scopes = new Map<string, ResolvedScope>()
  const scopeOf = async (trx: Kysely<Database>, entry: OutboxEntry) => {
    const agentId = entry.agent ?? options.agentId
    const key = JSON.stringify([
      agentId,
      entry.session,
      entry.repo.canonical,
      entry.repo.branch,
      entry.machine,
    ])
    const scope =
      scopes.get(key) ??
      (await resolveScope(trx, {
        agentId,
        sessionId: entry.session,
        repo: entry.repo.canonical,
        branch: entry.repo.branch,
        defaultBranch: entry.repo.defaultBranch,
        machine: entry.machine ?? options.machine,
      }))
    return { key, scope }
  }
  const applyBatch = async (batch: Loaded[]) => {
    const resolved: Array<[string, ResolvedScope]> = []
    await db.transaction().execute(async (trx) => {
      for (const { entry } of batch) {
        const { key, scope } = await scopeOf(trx, entry)
        resolved.push([key, scope])
        await applyEntry(trx, entry, scope)
      }
    })
    // Ids resolved inside a rolled-back transaction may not exist: cache only after the commit.
    for (const [key, scope] of resolved) scopes.set(key, scope)
    for (const { name } of batch) rmSync(join(dir, name), { force: true })
    total.applied += batch.length
  }
  const load = (name: string): Loaded | null => {
    let text: string
    try {
      text = readFileSync(join(dir, name), 'utf8')
    } catch {
      return null // gone (another flusher before us) or unreadable for now: left for the next round
    }
    let raw: unknown
    try {
      raw = JSON.parse(text)
    } catch (error) {
      bury(dir, name, `not JSON: ${(error as Error).message}`)
      total.dead++
      return null
    }
    const parsed = outboxEntrySchema.safeParse(raw)
    if (!parsed.success) {
      bury(
        dir,
        name,
        `invalid entry: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      )
      total.dead++
      return null
    }
    return { name, entry: parsed.data as OutboxEntry }
  }

  const batchSize = options.batchSize ?? 200
  const seen = new Set<string>()
  try {
    // Re-list after each pass so entries appended meanwhile are taken too.
    for (let names = pendingNames(); names.some((n) => !seen.has(n)); names = pendingNames()) {
      const fresh = names.filter((n) => !seen.has(n))
      for (let start = 0; start < fresh.length; start += batchSize) {
        if (options.deadline !== undefined && Date.now() > options.deadline) return null
        const slice = fresh.slice(start, start + batchSize)
        for (const name of slice) seen.add(name)
        const batch = slice.map(load).filter((loaded) => loaded !== null)
        if (batch.length === 0) continue
        try {
          await applyBatch(batch)
        } catch (error) {
          if (isTransient(error)) throw error
          // Somebody in the batch is bad: apply one at a time so only that one is set aside.
          for (const one of batch) {
            try {
              await applyBatch([one])
            } catch (single) {
              if (isTransient(single)) throw single
              bury(dir, one.name, `refused by the brain: ${(single as Error).message}`)
              total.dead++
            }
          }
        }
      }
    }
    return null
  } catch (error) {
    // The brain went away mid-flush: everything not yet committed stays for the next flush.
    return (error as Error).message || String(error)
  }
}

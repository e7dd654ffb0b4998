import { type Kysely, sql, type Transaction } from 'kysely'
import { z } from 'zod'
import type { Database } from '../database.generated.ts'
import { agentHandle, InvalidInputError } from '../inputs.ts'
import { ensureBranch, ensureRepo } from './registry.ts'

/** A handle operations accept: the pool, or a transaction they join. */
export type Db = Kysely<Database> | Transaction<Database>

/**
 * Who is acting, and where. Every brain operation runs in a scope: the repository (by canonical name, as
 * `@dstack/git`'s readRepoIdentity gives it), the branch, and the agent session (Claude Code's session_id).
 */
export const scopeSchema = z.strictObject({
  agentId: agentHandle,
  /** Claude Code's session id; null for a person at a terminal. */
  sessionId: z.string().min(1).max(200).nullish(),
  /** `github.com/org/name` or `local:<path>`. */
  repo: z.string().trim().min(1).max(500),
  branch: z.string().min(1).max(255).nullish(),
  defaultBranch: z.string().min(1).max(255).optional(),
  machine: z.string().max(200).nullish(),
})

export type Scope = z.input<typeof scopeSchema>

/** A scope with its repository and branch resolved to ids (both created on first use). */
export interface ResolvedScope {
  agentId: string
  sessionId: string | null
  repo: string
  repoId: string
  branch: string | null
  branchId: string | null
  machine: string | null
}

/** Parses with zod, throwing InvalidInputError that lists every problem. */
export function parseWith<S extends z.ZodType>(schema: S, what: string, value: unknown): z.output<S> {
  const result = schema.safeParse(value)
  if (!result.success) throw new InvalidInputError(what, result.error.issues)
  return result.data
}

/**
 * Resolves a scope: validates it, gets-or-creates the repository and branch, and makes sure the agent has a row
 * (registered under its handle if it never ran `dstack init`), so every foreign key below holds.
 *
 * @example
 * const scope = await resolveScope(brain.db, { agentId: 'alice', sessionId: 's1', repo: 'github.com/acme/api', branch: 'main' })
 * scope.repoId // uuid
 */
export async function resolveScope(db: Db, input: Scope): Promise<ResolvedScope> {
  const scope = parseWith(scopeSchema, 'scope', input)
  await sql`insert into dstack.agents (id, display_name) values (${scope.agentId}, ${scope.agentId})
    on conflict (id) do nothing`.execute(db)
  const repoId = await ensureRepo(db, scope.repo, scope.defaultBranch)
  const branchId = scope.branch ? await ensureBranch(db, repoId, scope.branch, scope.defaultBranch) : null
  return {
    agentId: scope.agentId,
    sessionId: scope.sessionId ?? null,
    repo: scope.repo,
    repoId,
    branch: scope.branch ?? null,
    branchId,
    machine: scope.machine ?? null,
  }
}

/**
 * Looks up a repository's id without creating it; null when the brain has never seen it.
 *
 * @example
 * const repoId = await findRepoId(brain.db, 'github.com/acme/api')
 */
export async function findRepoId(db: Db, canonical: string): Promise<string | null> {
  const row = await db.selectFrom('repos').select('id').where('canonical', '=', canonical).executeTakeFirst()
  return row?.id ?? null
}

/** Runs `work` in a transaction, or inside the caller's when `db` already is one. */
export function inTransaction<T>(db: Db, work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  return db.isTransaction ? work(db as Transaction<Database>) : db.transaction().execute(work)
}

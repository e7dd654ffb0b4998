import { type Kysely, sql } from 'kysely'
import type { Database, Row } from '../database.generated.ts'
import { type Input, parseInput } from '../inputs.ts'

// Get-or-create for the shared registries. Each is one SQL call to a helper function in the schema, so two writers
// racing on the same name both get the same id.

/**
 * Registers a teammate, or updates their display name and email.
 *
 * @example
 * await registerAgent(brain.db, { id: 'alice', display_name: 'Alice' })
 */
export async function registerAgent(db: Kysely<Database>, input: Input<'agents'>): Promise<Row<'agents'>> {
  const agent = parseInput('agents', input)
  return db
    .insertInto('agents')
    .values({ id: agent.id, display_name: agent.display_name, email: agent.email ?? null })
    .onConflict((oc) =>
      oc.column('id').doUpdateSet((eb) => ({
        display_name: eb.ref('excluded.display_name'),
        email: sql<string | null>`coalesce(excluded.email, agents.email)`,
      })),
    )
    .returningAll()
    .executeTakeFirstOrThrow()
}

/**
 * The id of a repository by canonical name (`github.com/org/name` or `local:<path>`), created on first use.
 *
 * @example
 * const repoId = await ensureRepo(brain.db, 'github.com/acme/api')
 */
export async function ensureRepo(
  db: Kysely<Database>,
  canonical: string,
  defaultBranch?: string,
): Promise<string> {
  const repo = parseInput('repos', { canonical, default_branch: defaultBranch })
  const result = await sql<{ id: string }>`
    select dstack.upsert_repo(${repo.canonical}, ${repo.default_branch ?? null}) as id`.execute(db)
  return result.rows[0]!.id
}

/**
 * The id of a branch of a repository, created on first use.
 *
 * @example
 * const branchId = await ensureBranch(brain.db, repoId, 'feat/login')
 */
export async function ensureBranch(
  db: Kysely<Database>,
  repoId: string,
  name: string,
  base?: string,
): Promise<string> {
  const branch = parseInput('branches', { repo_id: repoId, name, base })
  const result = await sql<{ id: string }>`
    select dstack.upsert_branch(${branch.repo_id}, ${branch.name}, ${branch.base ?? null}) as id`.execute(db)
  return result.rows[0]!.id
}

/**
 * The id of a file (repo-relative path), created on first use; refreshes its last_seen_at.
 *
 * @example
 * const fileId = await ensureFile(brain.db, repoId, 'src/auth/login.ts')
 */
export async function ensureFile(db: Kysely<Database>, repoId: string, path: string): Promise<string> {
  const file = parseInput('files', { repo_id: repoId, path })
  const result = await sql<{
    id: string
  }>`select dstack.upsert_file(${file.repo_id}, ${file.path}) as id`.execute(db)
  return result.rows[0]!.id
}

/**
 * The id of a feature tag of a repository, created on first use.
 *
 * @example
 * const featureId = await ensureFeature(brain.db, repoId, 'auth', 'login, sessions, tokens')
 */
export async function ensureFeature(
  db: Kysely<Database>,
  repoId: string,
  name: string,
  description?: string,
): Promise<string> {
  const feature = parseInput('features', { repo_id: repoId, name, description })
  const result = await sql<{ id: string }>`
    select dstack.upsert_feature(${feature.repo_id}, ${feature.name}, ${feature.description ?? null}) as id`.execute(
    db,
  )
  return result.rows[0]!.id
}

/**
 * Reserves the next ADR number of a repository. Atomic across any number of concurrent callers.
 *
 * @example
 * const number = await nextDecisionNumber(brain.db, repoId) // 1, then 2, ...
 */
export async function nextDecisionNumber(db: Kysely<Database>, repoId: string): Promise<number> {
  const result = await sql<{ n: number }>`select dstack.next_decision_number(${repoId}) as n`.execute(db)
  return result.rows[0]!.n
}

/**
 * Deletes presence rows whose last heartbeat is older than `thresholdSeconds`; returns how many went.
 *
 * @example
 * const swept = await expireStalePresence(brain.db, 300)
 */
export async function expireStalePresence(db: Kysely<Database>, thresholdSeconds = 300): Promise<number> {
  const result = await sql<{ n: number }>`
    select dstack.expire_stale_presence(make_interval(secs => ${thresholdSeconds})) as n`.execute(db)
  return result.rows[0]!.n
}

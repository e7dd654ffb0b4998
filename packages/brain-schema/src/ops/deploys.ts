import { sql } from 'kysely'
import { z } from 'zod'
import type { Row } from '../database.generated.ts'
import { agentHandle, deployOutcome, MAX_DEPLOY_STEPS } from '../inputs.ts'
import { type Db, inTransaction, parseWith, type ResolvedScope } from './scope.ts'

/** A row of the deploy log; `steps` holds `[{ id, status, duration_ms }, ...]` in the order they ran. */
export type Deploy = Row<'deploys'>

/**
 * Who logs or reads deploys: a ResolvedScope, or just an agent (a service deployed from outside any repository
 * the brain knows has no repo).
 */
export type DeployScope = Pick<ResolvedScope, 'agentId'> & { repoId?: string | null }

const deployScopeSchema = z.object({ agentId: agentHandle, repoId: z.uuid().nullish() })

const MAX_INT4 = 2_147_483_647

export const logDeploySchema = z.strictObject({
  /** Client-generated: a replay with the same id writes nothing. */
  id: z.uuid().optional(),
  service: z.string().trim().min(1).max(200),
  /** Where it went: `local`, `ssh://deploy@vps1:22`, ... */
  target: z.string().min(1).max(500),
  release: z.string().min(1).max(200),
  /** The release that was current before; null for a first deploy. */
  previousRelease: z.string().min(1).max(200).nullish(),
  outcome: deployOutcome,
  /** Why it failed, was refused or rolled back. */
  reason: z.string().max(20_000).nullish(),
  durationMs: z.number().int().min(0).max(MAX_INT4),
  steps: z
    .array(
      z.strictObject({
        id: z.string().min(1).max(100),
        status: z.string().min(1).max(50),
        durationMs: z.number().int().min(0).max(MAX_INT4),
      }),
    )
    .max(MAX_DEPLOY_STEPS)
    .optional(),
  startedAt: z.date(),
  /** When the outcome was known; default: now (the database's clock). */
  finishedAt: z.date().optional(),
})

export type LogDeployInput = z.input<typeof logDeploySchema>

/**
 * Appends a deploy's outcome to the team's deploy log, as the scope's agent and in the scope's repository (none
 * when the scope has no `repoId`). The agent gets a row if it has none yet. The log is append-only; idempotent by
 * `id`, so a replayed write changes nothing (`inserted: false`).
 *
 * @example
 * await logDeploy(brain.db, scope, {
 *   service: 'api',
 *   target: 'ssh://deploy@vps1:22',
 *   release: '20261123T153012Z-3f2a9c1e0b',
 *   previousRelease: '20261120T101500Z-77aa01b2c3',
 *   outcome: 'deployed',
 *   durationMs: 48_210,
 *   steps: [{ id: 'upload', status: 'ok', durationMs: 12_400 }],
 *   startedAt: new Date(Date.now() - 48_210),
 * })
 */
export async function logDeploy(
  db: Db,
  scope: DeployScope,
  input: LogDeployInput,
): Promise<{ deployId: string; inserted: boolean }> {
  const deploy = parseWith(logDeploySchema, 'deploy', input)
  const who = parseWith(deployScopeSchema, 'deploy scope', { agentId: scope.agentId, repoId: scope.repoId })
  return inTransaction(db, async (trx) => {
    await sql`insert into dstack.agents (id, display_name) values (${who.agentId}, ${who.agentId})
      on conflict (id) do nothing`.execute(trx)
    const row = await trx
      .insertInto('deploys')
      .values({
        ...(deploy.id ? { id: deploy.id } : {}),
        agent_id: who.agentId,
        repo_id: who.repoId ?? null,
        service: deploy.service,
        target: deploy.target,
        release: deploy.release,
        previous_release: deploy.previousRelease ?? null,
        outcome: deploy.outcome,
        reason: deploy.reason ?? null,
        duration_ms: deploy.durationMs,
        steps: JSON.stringify(
          (deploy.steps ?? []).map((step) => ({
            id: step.id,
            status: step.status,
            duration_ms: step.durationMs,
          })),
        ),
        started_at: deploy.startedAt,
        ...(deploy.finishedAt ? { finished_at: deploy.finishedAt } : {}),
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .returning('id')
      .executeTakeFirst()
    return { deployId: row?.id ?? deploy.id!, inserted: row !== undefined }
  })
}

export const listDeploysSchema = z.strictObject({
  service: z.string().trim().min(1).max(200).optional(),
  limit: z.number().int().min(1).max(200).optional(),
  /** The whole team's log, deploys logged without a repository included. */
  allRepos: z.boolean().optional(),
})

/**
 * The deploy log, newest first (by when each finished): the scope's repository's deploys, or the whole team's with
 * `allRepos` or a scope without a `repoId`; only `service`'s when given. 20 by default, 200 at most.
 *
 * @example
 * const [last] = await listDeploys(brain.db, scope, { service: 'api', limit: 1 })
 * console.log(last?.outcome, last?.release) // 'deployed' '20261123T153012Z-3f2a9c1e0b'
 */
export async function listDeploys(
  db: Db,
  scope: DeployScope,
  options: z.input<typeof listDeploysSchema> = {},
): Promise<Deploy[]> {
  const { service, limit, allRepos } = parseWith(listDeploysSchema, 'deploy list', options)
  let query = db.selectFrom('deploys').selectAll()
  if (!allRepos && scope.repoId) query = query.where('repo_id', '=', scope.repoId)
  if (service !== undefined) query = query.where('service', '=', service)
  return query
    .orderBy('finished_at', 'desc')
    .orderBy('started_at', 'desc')
    .orderBy('id')
    .limit(limit ?? 20)
    .execute()
}

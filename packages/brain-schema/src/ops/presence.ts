import { sql } from 'kysely'
import { z } from 'zod'
import type { LivePresenceView } from '../database.generated.ts'
import { repoPath } from '../inputs.ts'
import { currentIntent } from './intents.ts'
import { type Db, parseWith, type ResolvedScope } from './scope.ts'

export const presenceStatus = z.enum([
  'planning',
  'coding',
  'reviewing',
  'shipping',
  'browsing',
  'idle',
  'away',
])

export const heartbeatSchema = z.strictObject({
  status: presenceStatus.optional(),
  /** Files being worked on; merged with the last heartbeat's, most recent first, at most 20. */
  activeFiles: z.array(repoPath).max(1_000).optional(),
  /** When the heartbeat happened; an older replay never moves last_heartbeat back. */
  at: z.date().optional(),
})

/** Presence needs a session key; a person at a terminal is the session `cli:<machine>`. */
function sessionKey(scope: ResolvedScope): string {
  return scope.sessionId ?? `cli:${scope.machine ?? 'unknown'}`
}

/**
 * Says "this agent session is live here": one row per (agent, session, repo), its intent the current one.
 * Replays and out-of-order heartbeats are harmless: last_heartbeat only moves forward.
 *
 * @example
 * await heartbeat(brain.db, scope, { status: 'coding', activeFiles: ['src/auth/login.ts'] })
 */
export async function heartbeat(
  db: Db,
  scope: ResolvedScope,
  input: z.input<typeof heartbeatSchema> = {},
): Promise<void> {
  const beat = parseWith(heartbeatSchema, 'heartbeat', input)
  const intent = await currentIntent(db, scope)
  const at = beat.at ?? new Date()
  const files = beat.activeFiles ?? []
  await sql`
    insert into dstack.presence as p
      (agent_id, session_id, repo_id, branch_name, intent_id, status, active_files, machine, last_heartbeat)
    values (${scope.agentId}, ${sessionKey(scope)}, ${scope.repoId}, ${scope.branch}, ${intent?.id ?? null},
            ${beat.status ?? 'coding'}, ${files}::text[], ${scope.machine}, ${at})
    on conflict (agent_id, session_id, repo_id) do update set
      branch_name = coalesce(excluded.branch_name, p.branch_name),
      intent_id = excluded.intent_id,
      status = case when excluded.last_heartbeat >= p.last_heartbeat then excluded.status else p.status end,
      active_files = (
        select coalesce(array_agg(f order by o), '{}') from (
          select f, min(o) as o from unnest(excluded.active_files || p.active_files) with ordinality as u(f, o)
          group by f order by min(o) limit 20
        ) merged
      ),
      machine = coalesce(excluded.machine, p.machine),
      last_heartbeat = greatest(p.last_heartbeat, excluded.last_heartbeat)`.execute(db)
}

/**
 * Ends a session in a repository (SessionEnd): others stop seeing its presence at once instead of after the TTL,
 * and the intent inferred from its prompts is paused (a written intent stays as the agent left it).
 *
 * @example
 * await leave(brain.db, scope)
 */
export async function leave(db: Db, scope: ResolvedScope): Promise<boolean> {
  const result = await db
    .deleteFrom('presence')
    .where('agent_id', '=', scope.agentId)
    .where('session_id', '=', sessionKey(scope))
    .where('repo_id', '=', scope.repoId)
    .executeTakeFirst()
  if (scope.sessionId) {
    await db
      .updateTable('intents')
      .set({ status: 'paused' })
      .where('agent_id', '=', scope.agentId)
      .where('repo_id', '=', scope.repoId)
      .where('session_id', '=', scope.sessionId)
      .where('status', '=', 'active')
      .where('inferred', '=', true)
      .execute()
  }
  return result.numDeletedRows > 0n
}

/** A live_presence row (view columns read as nullable). */
export type LivePresence = LivePresenceView

/**
 * Who is live in this repository (heartbeat in the last 5 minutes), this session excluded. Only this repository:
 * agents elsewhere never show up.
 *
 * @example
 * for (const p of await livePresence(brain.db, scope)) console.log(p.agent_id, p.intent_title)
 */
export async function livePresence(
  db: Db,
  scope: ResolvedScope,
  options: { includeSelf?: boolean } = {},
): Promise<LivePresence[]> {
  let query = db
    .selectFrom('live_presence')
    .selectAll()
    .where('repo_id', '=', scope.repoId)
    .orderBy('last_heartbeat', 'desc')
  if (!options.includeSelf) {
    query = query.where((eb) =>
      eb.or([eb('agent_id', '<>', scope.agentId), eb('session_id', '<>', sessionKey(scope))]),
    )
  }
  return query.execute()
}

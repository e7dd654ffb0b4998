import { type Kysely, sql } from 'kysely'
import type { Database } from '../database.generated.ts'

export interface BrainSummary {
  counts: {
    agents: number
    repos: number
    activeIntents: number
    edits: number
    decisions: number
    openHandoffs: number
    livePresence: number
    memories: number
  }
  latestIntent: { title: string; agentId: string; repo: string; status: string; updatedAt: Date } | null
  latestEdit: { path: string; agentId: string; repo: string; op: string; createdAt: Date } | null
}

/**
 * What the brain holds at a glance: counts, the latest intent and the latest edit.
 *
 * @example
 * const { counts } = await brainSummary(brain.db)
 * console.log(`${counts.activeIntents} active intents`)
 */
export async function brainSummary(db: Kysely<Database>): Promise<BrainSummary> {
  const counts = await sql<BrainSummary['counts']>`
    select
      (select count(*) from dstack.agents)::int as "agents",
      (select count(*) from dstack.repos)::int as "repos",
      (select count(*) from dstack.intents where status in ('active', 'paused'))::int as "activeIntents",
      (select count(*) from dstack.edits)::int as "edits",
      (select count(*) from dstack.decisions)::int as "decisions",
      (select count(*) from dstack.handoffs where status = 'open')::int as "openHandoffs",
      (select count(*) from dstack.live_presence)::int as "livePresence",
      (select count(*) from dstack.memories)::int as "memories"`.execute(db)
  const intent = await db
    .selectFrom('intents as i')
    .innerJoin('repos as r', 'r.id', 'i.repo_id')
    .select(['i.title', 'i.agent_id', 'r.canonical', 'i.status', 'i.updated_at'])
    .orderBy('i.updated_at', 'desc')
    .limit(1)
    .executeTakeFirst()
  const edit = await db
    .selectFrom('edits as e')
    .innerJoin('files as f', 'f.id', 'e.file_id')
    .innerJoin('repos as r', 'r.id', 'e.repo_id')
    .select(['f.path', 'e.agent_id', 'r.canonical', 'e.op', 'e.created_at'])
    .orderBy('e.created_at', 'desc')
    .limit(1)
    .executeTakeFirst()
  return {
    counts: counts.rows[0]!,
    latestIntent: intent
      ? {
          title: intent.title,
          agentId: intent.agent_id,
          repo: intent.canonical,
          status: intent.status,
          updatedAt: intent.updated_at,
        }
      : null,
    latestEdit: edit
      ? {
          path: edit.path,
          agentId: edit.agent_id,
          repo: edit.canonical,
          op: edit.op,
          createdAt: edit.created_at,
        }
      : null,
  }
}

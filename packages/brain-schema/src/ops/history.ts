import { sql } from 'kysely'
import { z } from 'zod'
import { repoPath } from '../inputs.ts'
import { type Db, parseWith, type ResolvedScope } from './scope.ts'

export interface WhyResult {
  path: string
  known: boolean
  features: string[]
  /** How each decision is connected: named the file, shares a feature, or was made under an intent that edited it. */
  decisions: Array<{
    number: number
    title: string
    status: string
    via: Array<'file' | 'feature' | 'intent'>
  }>
  edits: Array<{
    agent_id: string
    op: string
    created_at: Date
    hunks: Array<[number, number]>
    summary: string | null
    intent_title: string | null
  }>
  activeIntents: Array<{ id: string; agent_id: string; title: string; status: string; last_edit_at: Date }>
}

/**
 * Why a file is the way it is: the decisions linked to it (directly, through its features, or through intents that
 * edited it), its last edits with their intents, and who is working on it now.
 *
 * @example
 * const { decisions, edits } = await why(brain.db, scope, 'src/auth/login.ts')
 */
export async function why(
  db: Db,
  scope: ResolvedScope,
  path: string,
  options: { edits?: number } = {},
): Promise<WhyResult> {
  const file = parseWith(repoPath, 'path', path)
  const row = await db
    .selectFrom('files')
    .select('id')
    .where('repo_id', '=', scope.repoId)
    .where('path', '=', file)
    .executeTakeFirst()
  if (!row) {
    return {
      path: file,
      known: false,
      features: [],
      decisions: [],
      edits: [],
      activeIntents: [],
    } as WhyResult
  }
  const fileId = row.id
  const [features, decisions, edits, activeIntents] = await Promise.all([
    db
      .selectFrom('file_features as ff')
      .innerJoin('features as ft', 'ft.id', 'ff.feature_id')
      .select('ft.name')
      .where('ff.file_id', '=', fileId)
      .orderBy('ft.name')
      .execute(),
    sql<WhyResult['decisions'][number]>`
      select d.number, d.title, d.status, array_agg(distinct link.via order by link.via) as via
      from (
        select decision_id, 'file' as via from dstack.decision_files where file_id = ${fileId}
        union all
        select df.decision_id, 'feature' from dstack.decision_features df
          join dstack.file_features ff on ff.feature_id = df.feature_id where ff.file_id = ${fileId}
        union all
        select idc.decision_id, 'intent' from dstack.intent_decisions idc
          where idc.intent_id in (select intent_id from dstack.edits where file_id = ${fileId} and intent_id is not null)
      ) link
      join dstack.decisions d on d.id = link.decision_id
      group by d.id
      order by (d.status in ('superseded', 'deprecated')), bool_or(link.via = 'file') desc, d.number desc`
      .execute(db)
      .then((r) => r.rows),
    db
      .selectFrom('edits as e')
      .leftJoin('intents as i', 'i.id', 'e.intent_id')
      .select(['e.agent_id', 'e.op', 'e.created_at', 'e.hunks', 'e.summary', 'i.title as intent_title'])
      .where('e.file_id', '=', fileId)
      .orderBy('e.created_at', 'desc')
      .limit(options.edits ?? 20)
      .execute(),
    db
      .selectFrom('file_intents')
      .select(['intent_id', 'agent_id', 'intent_title', 'intent_status', 'last_edit_at'])
      .where('file_id', '=', fileId)
      .orderBy('last_edit_at', 'desc')
      .execute(),
  ])
  return {
    path: file,
    known: true,
    features: features.map((f) => f.name),
    decisions,
    edits: edits.map((e) => ({ ...e, hunks: e.hunks as Array<[number, number]> })),
    activeIntents: activeIntents.map((i) => ({
      id: i.intent_id!,
      agent_id: i.agent_id!,
      title: i.intent_title!,
      status: i.intent_status!,
      last_edit_at: i.last_edit_at!,
    })),
  } satisfies WhyResult
}

export type AuditEvent =
  | {
      kind: 'edit'
      at: Date
      agent_id: string
      op: string
      hunks: Array<[number, number]>
      intent_title: string | null
      session_id: string | null
    }
  | { kind: 'decision'; at: Date; agent_id: string; number: number; event: string; summary: string }
  | { kind: 'handoff'; at: Date; agent_id: string; note: string; status: string }
  | { kind: 'push'; at: Date; agent_id: string; head_sha: string | null }

/**
 * The audit trail of a file, oldest first: every logged edit (who, which intent, which lines), the timeline events
 * of decisions linked to it, handoffs that left it uncommitted, and pushes of the branches it was edited on. With
 * `line`, only edits whose hunks cover that line (a brain-side blame).
 *
 * @example
 * const trail = await auditTrail(brain.db, scope, 'src/auth/login.ts', { line: 42 })
 */
export async function auditTrail(
  db: Db,
  scope: ResolvedScope,
  path: string,
  options: { line?: number; limit?: number } = {},
): Promise<AuditEvent[]> {
  const file = parseWith(repoPath, 'path', path)
  const { line, limit } = parseWith(
    z.strictObject({
      line: z.number().int().min(1).optional(),
      limit: z.number().int().min(1).max(10_000).optional(),
    }),
    'audit options',
    options,
  )
  const result = await sql<{ kind: AuditEvent['kind']; at: Date; data: Record<string, unknown> }>`
    with f as (select id from dstack.files where repo_id = ${scope.repoId} and path = ${file})
    select * from (
      select 'edit' as kind, e.created_at as at, jsonb_build_object(
        'agent_id', e.agent_id, 'op', e.op, 'hunks', e.hunks, 'intent_title', i.title, 'session_id', e.session_id) as data
      from dstack.edits e join f on f.id = e.file_id left join dstack.intents i on i.id = e.intent_id
      where ${line ?? null}::int is null or exists (
        select 1 from jsonb_array_elements(e.hunks) h
        where (h ->> 0)::int <= ${line ?? 0} and (h ->> 1)::int >= ${line ?? 0})
      union all
      select 'decision', ev.occurred_at, jsonb_build_object(
        'agent_id', ev.agent_id, 'number', d.number, 'event', ev.kind, 'summary', ev.summary)
      from dstack.decision_events ev join dstack.decisions d on d.id = ev.decision_id
      join dstack.decision_files df on df.decision_id = d.id join f on f.id = df.file_id
      union all
      select 'handoff', h.created_at, jsonb_build_object('agent_id', h.from_agent, 'note', h.note, 'status', h.status)
      from dstack.handoffs h where h.repo_id = ${scope.repoId} and ${file} = any(h.uncommitted_files)
      union all
      select 'push', p.pushed_at, jsonb_build_object('agent_id', p.agent_id, 'head_sha', p.head_sha)
      -- Only pushes that published an edit of this file: on a branch it was edited on, after such an edit.
      from dstack.pushes p where p.repo_id = ${scope.repoId} and exists (
        select 1 from dstack.edits e join f on f.id = e.file_id
        where e.branch_id = p.branch_id and e.agent_id = p.agent_id and e.created_at <= p.pushed_at)
    ) trail
    order by at desc
    limit ${limit ?? 200}`.execute(db)
  return result.rows.reverse().map((row) => ({ kind: row.kind, at: row.at, ...row.data }) as AuditEvent)
}

export interface Standup {
  since: Date
  shipped: Array<{ agent_id: string; title: string; shipped_at: Date; pr_url: string | null; repo: string }>
  active: Array<{ agent_id: string; title: string; status: string; updated_at: Date; repo: string }>
  decisions: Array<{ number: number; title: string; status: string; authored_by: string; repo: string }>
  handoffs: Array<{ from_agent: string; to_agent: string | null; note: string; status: string; repo: string }>
  edits: Array<{ agent_id: string; repo: string; edits: number; files: number }>
}

/**
 * What happened since `window` ago (a day or a week), in this repository or in all of them: intents shipped and in
 * progress, decisions, handoffs, and edit counts per agent.
 *
 * @example
 * const s = await standup(brain.db, scope, { window: 'day' })
 */
export async function standup(
  db: Db,
  scope: ResolvedScope,
  options: { window?: 'day' | 'week'; allRepos?: boolean } = {},
): Promise<Standup> {
  const since = new Date(Date.now() - (options.window === 'week' ? 7 : 1) * 86_400_000)
  const here = options.allRepos ? null : scope.repoId
  const inRepo = sql<boolean>`(${here}::uuid is null or r.id = ${here}::uuid)`
  const [shipped, active, decisions, handoffs, edits] = await Promise.all([
    sql<Standup['shipped'][number]>`
      select i.agent_id, i.title, i.shipped_at, i.pr_url, r.canonical as repo
      from dstack.intents i join dstack.repos r on r.id = i.repo_id
      where i.status = 'shipped' and i.shipped_at >= ${since} and ${inRepo}
      order by i.shipped_at desc`.execute(db),
    sql<Standup['active'][number]>`
      select i.agent_id, i.title, i.status, i.updated_at, r.canonical as repo
      from dstack.intents i join dstack.repos r on r.id = i.repo_id
      where i.status in ('active', 'paused') and i.updated_at >= ${since} and ${inRepo}
      order by i.updated_at desc`.execute(db),
    sql<Standup['decisions'][number]>`
      select d.number, d.title, d.status, d.authored_by, r.canonical as repo
      from dstack.decisions d join dstack.repos r on r.id = d.repo_id
      where d.updated_at >= ${since} and ${inRepo}
      order by d.updated_at desc`.execute(db),
    sql<Standup['handoffs'][number]>`
      select h.from_agent, h.to_agent, h.note, h.status, r.canonical as repo
      from dstack.handoffs h join dstack.repos r on r.id = h.repo_id
      where h.created_at >= ${since} and ${inRepo}
      order by h.created_at desc`.execute(db),
    sql<Standup['edits'][number]>`
      select e.agent_id, r.canonical as repo, count(*)::int as edits, count(distinct e.file_id)::int as files
      from dstack.edits e join dstack.repos r on r.id = e.repo_id
      where e.created_at >= ${since} and ${inRepo}
      group by e.agent_id, r.canonical
      order by edits desc`.execute(db),
  ])
  return {
    since,
    shipped: shipped.rows,
    active: active.rows,
    decisions: decisions.rows,
    handoffs: handoffs.rows,
    edits: edits.rows,
  }
}

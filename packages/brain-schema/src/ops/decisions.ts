import { sql } from 'kysely'
import { z } from 'zod'
import type { Row } from '../database.generated.ts'
import { NotFoundError, StateConflictError } from '../errors.ts'
import { featureName, repoPath } from '../inputs.ts'
import { searchMatch, searchRank, searchTerms } from './fulltext.ts'
import { currentIntent } from './intents.ts'
import { ensureFeature, ensureFile } from './registry.ts'
import { type Db, inTransaction, parseWith, type ResolvedScope } from './scope.ts'

export type Decision = Row<'decisions'>
export type DecisionEvent = Row<'decision_events'>
export type DecisionVersion = Row<'decision_versions'>

export const writeDecisionSchema = z.strictObject({
  id: z.uuid().optional(),
  title: z.string().trim().min(1).max(300),
  body: z.string().trim().min(1).max(100_000),
  status: z.enum(['proposed', 'accepted']).optional(),
  /** Repo-relative files this decision is about: `why <file>` finds it through them. */
  files: z.array(repoPath).max(1_000).optional(),
  features: z.array(featureName).max(100).optional(),
  source: z.enum(['manual', 'infer', 'import']).optional(),
})

/** Links a decision to files, features and the intent it was made under (all idempotent). */
async function linkDecision(
  db: Db,
  scope: ResolvedScope,
  decisionId: string,
  links: { files?: string[]; features?: string[]; intentId?: string | null },
): Promise<void> {
  for (const path of links.files ?? []) {
    const fileId = await ensureFile(db, scope.repoId, path)
    await db
      .insertInto('decision_files')
      .values({ decision_id: decisionId, file_id: fileId })
      .onConflict((oc) => oc.doNothing())
      .execute()
  }
  for (const name of links.features ?? []) {
    const featureId = await ensureFeature(db, scope.repoId, name)
    await db
      .insertInto('decision_features')
      .values({ decision_id: decisionId, feature_id: featureId })
      .onConflict((oc) => oc.doNothing())
      .execute()
  }
  if (links.intentId) {
    await db
      .insertInto('intent_decisions')
      .values({ intent_id: links.intentId, decision_id: decisionId })
      .onConflict((oc) => oc.doNothing())
      .execute()
  }
}

/**
 * Records a decision (ADR): numbered atomically per repository, with an `authored` timeline event, linked to the
 * files and features it is about and to the intent it was made under. Nothing is written into the repository.
 *
 * @example
 * const adr = await writeDecision(brain.db, scope, { title: 'Use argon2id for passwords', body: '...', files: ['src/auth/hash.ts'] })
 * adr.number // 7
 */
export async function writeDecision(
  db: Db,
  scope: ResolvedScope,
  input: z.input<typeof writeDecisionSchema>,
): Promise<Decision> {
  const decision = parseWith(writeDecisionSchema, 'decision', input)
  return inTransaction(db, async (trx) => {
    if (decision.id) {
      const replay = await trx
        .selectFrom('decisions')
        .selectAll()
        .where('id', '=', decision.id)
        .executeTakeFirst()
      if (replay) return replay
    }
    const row = await trx
      .insertInto('decisions')
      .values({
        ...(decision.id ? { id: decision.id } : {}),
        repo_id: scope.repoId,
        title: decision.title,
        body: decision.body,
        status: decision.status ?? 'accepted',
        authored_by: scope.agentId,
        source: decision.source ?? 'manual',
      })
      .returningAll()
      .executeTakeFirstOrThrow()
    await trx
      .insertInto('decision_events')
      .values({
        decision_id: row.id,
        agent_id: scope.agentId,
        kind: 'authored',
        summary: `ADR-${row.number} authored: ${decision.title}`.slice(0, 2_000),
        source: scope.sessionId ? `session:${scope.sessionId}` : null,
      })
      .execute()
    const intent = await currentIntent(trx, scope)
    await linkDecision(trx, scope, row.id, {
      files: decision.files,
      features: decision.features,
      intentId: intent?.id ?? null,
    })
    return row
  })
}

async function decisionByNumber(db: Db, scope: ResolvedScope, number: number): Promise<Decision> {
  const row = await db
    .selectFrom('decisions')
    .selectAll()
    .where('repo_id', '=', scope.repoId)
    .where('number', '=', number)
    .executeTakeFirst()
  if (!row) throw new NotFoundError(`no ADR-${number} in ${scope.repo}`)
  return row
}

export const updateDecisionSchema = z
  .strictObject({
    number: z.number().int().positive(),
    title: z.string().trim().min(1).max(300).optional(),
    body: z.string().trim().min(1).max(100_000).optional(),
    status: z.enum(['proposed', 'accepted', 'deprecated']).optional(),
    /** Why it changed: the timeline entry. */
    reason: z.string().trim().min(1).max(2_000),
    files: z.array(repoPath).max(1_000).optional(),
    features: z.array(featureName).max(100).optional(),
  })
  .refine(
    (u) => u.title !== undefined || u.body !== undefined || u.status !== undefined || u.files || u.features,
    'nothing to update: give a title, body, status, files or features',
  )

/**
 * Rewrites a decision's compiled truth when evidence changes: the previous version is snapshotted (by trigger) into
 * decision_versions, `version` goes up, and the reason is appended to the timeline. Links are added, never removed.
 *
 * @example
 * await updateDecision(brain.db, scope, { number: 7, body: 'argon2id, m=64MiB', reason: 'benchmarked on the VPS' })
 */
export async function updateDecision(
  db: Db,
  scope: ResolvedScope,
  input: z.input<typeof updateDecisionSchema>,
): Promise<Decision> {
  const update = parseWith(updateDecisionSchema, 'decision update', input)
  return inTransaction(db, async (trx) => {
    const before = await decisionByNumber(trx, scope, update.number)
    if (before.status === 'superseded' && update.status) {
      throw new StateConflictError(
        `ADR-${update.number} is superseded; write or update its successor instead`,
      )
    }
    const after = await trx
      .updateTable('decisions')
      .set({
        ...(update.title !== undefined ? { title: update.title } : {}),
        ...(update.body !== undefined ? { body: update.body } : {}),
        ...(update.status !== undefined ? { status: update.status } : {}),
        updated_by: scope.agentId,
      })
      .where('id', '=', before.id)
      .returningAll()
      .executeTakeFirstOrThrow()
    const onlyStatus = update.title === undefined && update.body === undefined && update.status !== undefined
    await trx
      .insertInto('decision_events')
      .values({
        decision_id: before.id,
        agent_id: scope.agentId,
        kind: onlyStatus ? 'status_changed' : after.version > before.version ? 'revised' : 'linked',
        summary: update.reason,
        detail: JSON.stringify({
          from_version: before.version,
          to_version: after.version,
          ...(update.status && update.status !== before.status
            ? { status: [before.status, update.status] }
            : {}),
          ...(update.files ? { files: update.files } : {}),
          ...(update.features ? { features: update.features } : {}),
        }),
      })
      .execute()
    await linkDecision(trx, scope, before.id, { files: update.files, features: update.features })
    return after
  })
}

/**
 * Marks decision `number` superseded by decision `by` (both in this repository), with a timeline event on each.
 *
 * @example
 * await supersedeDecision(brain.db, scope, { number: 3, by: 7, reason: 'bcrypt replaced by argon2id' })
 */
export async function supersedeDecision(
  db: Db,
  scope: ResolvedScope,
  input: { number: number; by: number; reason: string },
): Promise<{ superseded: Decision; by: Decision }> {
  const { number, by, reason } = parseWith(
    z
      .strictObject({
        number: z.number().int().positive(),
        by: z.number().int().positive(),
        reason: z.string().trim().min(1).max(2_000),
      })
      .refine((s) => s.number !== s.by, 'a decision cannot supersede itself'),
    'supersede',
    input,
  )
  return inTransaction(db, async (trx) => {
    const successor = await decisionByNumber(trx, scope, by)
    const old = await decisionByNumber(trx, scope, number)
    if (successor.superseded_by === old.id) {
      throw new StateConflictError(`ADR-${by} is itself superseded by ADR-${number}: that would be a cycle`)
    }
    const superseded = await trx
      .updateTable('decisions')
      .set({ status: 'superseded', superseded_by: successor.id, updated_by: scope.agentId })
      .where('id', '=', old.id)
      .returningAll()
      .executeTakeFirstOrThrow()
    await trx
      .insertInto('decision_events')
      .values([
        {
          decision_id: old.id,
          agent_id: scope.agentId,
          kind: 'superseded',
          summary: `Superseded by ADR-${by}: ${reason}`.slice(0, 2_000),
          detail: JSON.stringify({ by: successor.id }),
        },
        {
          decision_id: successor.id,
          agent_id: scope.agentId,
          kind: 'supersedes',
          summary: `Supersedes ADR-${number}: ${reason}`.slice(0, 2_000),
          detail: JSON.stringify({ supersedes: old.id }),
        },
      ])
      .execute()
    return { superseded, by: successor }
  })
}

export interface DecisionDetail {
  decision: Decision
  timeline: DecisionEvent[]
  versions: DecisionVersion[]
  files: string[]
  features: string[]
}

/**
 * A decision with its timeline (oldest first), earlier versions, and the files and features it is linked to.
 *
 * @example
 * const { decision, timeline } = await getDecision(brain.db, scope, 7)
 */
export async function getDecision(db: Db, scope: ResolvedScope, number: number): Promise<DecisionDetail> {
  const decision = await decisionByNumber(db, scope, number)
  const [timeline, versions, files, features] = await Promise.all([
    db
      .selectFrom('decision_events')
      .selectAll()
      .where('decision_id', '=', decision.id)
      .orderBy('occurred_at')
      .orderBy('created_at')
      .execute(),
    db
      .selectFrom('decision_versions')
      .selectAll()
      .where('decision_id', '=', decision.id)
      .orderBy('version')
      .execute(),
    db
      .selectFrom('decision_files as df')
      .innerJoin('files as f', 'f.id', 'df.file_id')
      .select('f.path')
      .where('df.decision_id', '=', decision.id)
      .orderBy('f.path')
      .execute(),
    db
      .selectFrom('decision_features as dfe')
      .innerJoin('features as ft', 'ft.id', 'dfe.feature_id')
      .select('ft.name')
      .where('dfe.decision_id', '=', decision.id)
      .orderBy('ft.name')
      .execute(),
  ])
  return {
    decision,
    timeline,
    versions,
    files: files.map((f) => f.path),
    features: features.map((f) => f.name),
  }
}

export interface DecisionHit {
  number: number
  title: string
  status: string
  rank: number
  /** The matching passage, with matches wrapped in «». */
  snippet: string
  created_at: Date
}

/**
 * Full-text search over decisions (title weighted above body), ranked by Postgres (cover density plus term
 * frequency). Decisions matching every term come first, then those matching some; the query's words as a phrase
 * lift a decision; superseded and deprecated ones rank below live ones. The query is a web-search string
 * (`"exact phrase"`, `-excluded`, `or`) and is always passed as a parameter, never spliced.
 *
 * @example
 * const hits = await searchDecisions(brain.db, scope, { query: 'password hashing' })
 */
export async function searchDecisions(
  db: Db,
  scope: ResolvedScope,
  input: { query: string; limit?: number; allRepos?: boolean },
): Promise<DecisionHit[]> {
  const { query, limit, allRepos } = parseWith(
    z.strictObject({
      query: z.string().trim().min(1).max(1_000),
      limit: z.number().int().min(1).max(200).optional(),
      allRepos: z.boolean().optional(),
    }),
    'search',
    input,
  )
  const vector = sql.ref('d.search')
  const result = await sql<DecisionHit>`
    with ${searchTerms(query)}
    select d.number, d.title, d.status,
           (case when d.status in ('superseded', 'deprecated') then 0.5 else 1.0 end) * ${searchRank(vector)} as rank,
           ts_headline('english', d.title || ' — ' || d.body, m.matches,
             'StartSel=«, StopSel=», MaxWords=30, MinWords=10, MaxFragments=1') as snippet,
           d.created_at
    from dstack.decisions d, m
    where ${searchMatch(vector)}
      and (${allRepos ?? false} or d.repo_id = ${scope.repoId})
    order by rank desc, d.updated_at desc
    limit ${limit ?? 10}`.execute(db)
  return result.rows.map((row) => ({ ...row, rank: Number(row.rank) }))
}

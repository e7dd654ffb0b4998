import { createHash } from 'node:crypto'
import { sql } from 'kysely'
import { z } from 'zod'
import type { Row } from '../database.generated.ts'
import { NotFoundError, StateConflictError } from '../errors.ts'
import { agentHandle, repoPath } from '../inputs.ts'
import { MAX_HANDOFF_FILES } from '../outbox/append.ts'
import { currentIntent, type Intent } from './intents.ts'
import { type Db, inTransaction, parseWith, type ResolvedScope } from './scope.ts'

export type Handoff = Row<'handoffs'>

/**
 * A UUID (version 8, RFC 9562) derived from names: the same names always give the same id, so a write keyed by it
 * is an idempotent upsert.
 *
 * @example
 * stableUuid('auto-handoff', 'alice', 'session-1') // always the same uuid
 */
export function stableUuid(...parts: string[]): string {
  const hex = createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32).split('')
  hex[12] = '8'
  hex[16] = ((Number.parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16)
  const h = hex.join('')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

export const writeHandoffSchema = z.strictObject({
  id: z.uuid().optional(),
  note: z.string().trim().min(1).max(20_000),
  blocker: z.string().max(5_000).nullish(),
  nextStep: z.string().max(5_000).nullish(),
  toAgent: agentHandle.nullish(),
  uncommittedFiles: z.array(repoPath).max(MAX_HANDOFF_FILES).optional(),
})

/**
 * Leaves a note for whoever continues this work (an agent, or anyone when `toAgent` is omitted), attached to the
 * current intent and branch. Idempotent by `id`.
 *
 * @example
 * await writeHandoff(brain.db, scope, { note: 'Login rate limit half done', nextStep: 'wire the 429 page', toAgent: 'bob' })
 */
export async function writeHandoff(
  db: Db,
  scope: ResolvedScope,
  input: z.input<typeof writeHandoffSchema>,
): Promise<Handoff> {
  const handoff = parseWith(writeHandoffSchema, 'handoff', input)
  return inTransaction(db, async (trx) => {
    if (handoff.toAgent) {
      await sql`insert into dstack.agents (id, display_name) values (${handoff.toAgent}, ${handoff.toAgent})
        on conflict (id) do nothing`.execute(trx)
    }
    const intent = await currentIntent(trx, scope)
    const row = await trx
      .insertInto('handoffs')
      .values({
        ...(handoff.id ? { id: handoff.id } : {}),
        repo_id: scope.repoId,
        intent_id: intent?.id ?? null,
        from_agent: scope.agentId,
        to_agent: handoff.toAgent ?? null,
        session_id: scope.sessionId,
        branch_name: scope.branch,
        note: handoff.note,
        blocker: handoff.blocker ?? null,
        next_step: handoff.nextStep ?? null,
        uncommitted_files: handoff.uncommittedFiles ?? [],
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .returningAll()
      .executeTakeFirst()
    return (
      row ??
      (await trx.selectFrom('handoffs').selectAll().where('id', '=', handoff.id!).executeTakeFirstOrThrow())
    )
  })
}

export const autoHandoffSchema = z.strictObject({
  uncommittedFiles: z.array(repoPath).max(MAX_HANDOFF_FILES),
  /** The end of the agent's last message, as a hint of where it stopped. */
  lastMessage: z.string().max(1_000_000).nullish(),
})

/**
 * The handoff a session leaves behind automatically (the Stop hook): one row per session and repo, rewritten each
 * time the agent stops, so the latest state wins and replays change nothing. Skipped when there is neither an
 * active intent nor an uncommitted file.
 *
 * @example
 * await autoHandoff(brain.db, scope, { uncommittedFiles: ['src/auth/login.ts'] })
 */
export async function autoHandoff(
  db: Db,
  scope: ResolvedScope,
  input: z.input<typeof autoHandoffSchema>,
): Promise<Handoff | null> {
  const { uncommittedFiles, lastMessage } = parseWith(autoHandoffSchema, 'auto handoff', input)
  return inTransaction(db, async (trx) => {
    const intent = await currentIntent(trx, scope)
    if (!intent && uncommittedFiles.length === 0) return null
    const files = uncommittedFiles.length
    const note = intent
      ? `(auto) Stopped on "${intent.title}" with ${files} uncommitted file${files === 1 ? '' : 's'}`
      : `(auto) Stopped with ${files} uncommitted file${files === 1 ? '' : 's'}`
    const last = lastMessage?.trim()
    const nextStep = last ? `Last message: ${last.length > 500 ? `…${last.slice(-500)}` : last}` : null
    const upsert = (id: string) =>
      trx
        .insertInto('handoffs')
        .values({
          id,
          repo_id: scope.repoId,
          intent_id: intent?.id ?? null,
          from_agent: scope.agentId,
          session_id: scope.sessionId,
          branch_name: scope.branch,
          note,
          next_step: nextStep,
          uncommitted_files: uncommittedFiles,
          auto_generated: true,
        })
        .onConflict((oc) =>
          oc
            .column('id')
            .doUpdateSet({
              intent_id: intent?.id ?? null,
              branch_name: scope.branch,
              note,
              next_step: nextStep,
              uncommitted_files: uncommittedFiles,
            })
            .where('handoffs.status', '=', 'open'),
        )
        .returningAll()
        .executeTakeFirst()
    // Once a teammate picks the session's handoff up, it stays as they took it and the session starts the next
    // one, whose id derives from the pickup: replays still land on the same row.
    let id = stableUuid('auto-handoff', scope.agentId, scope.sessionId ?? scope.machine ?? '', scope.repoId)
    for (let generation = 0; generation < 100; generation++) {
      const row = await upsert(id)
      if (row) return row
      const taken = await trx
        .selectFrom('handoffs')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirstOrThrow()
      id = stableUuid(
        id,
        String(taken.picked_up_at?.toISOString() ?? taken.resolved_at?.toISOString() ?? taken.status),
      )
    }
    throw new StateConflictError(`too many picked-up automatic handoffs for session ${scope.sessionId}`)
  })
}

/**
 * Open handoffs in this repository for this agent: addressed to it, to anyone, or left by its own earlier sessions.
 * Newest first.
 *
 * @example
 * const open = await listHandoffs(brain.db, scope)
 */
export async function listHandoffs(
  db: Db,
  scope: ResolvedScope,
  options: { limit?: number; status?: Handoff['status'] } = {},
): Promise<Handoff[]> {
  return (
    db
      .selectFrom('handoffs')
      .selectAll()
      .where('repo_id', '=', scope.repoId)
      .where('status', '=', options.status ?? 'open')
      .where((eb) =>
        eb.or([
          eb('to_agent', '=', scope.agentId),
          eb('to_agent', 'is', null),
          eb('from_agent', '=', scope.agentId),
        ]),
      )
      .where((eb) =>
        // The handoff this very session keeps rewriting is not news to it.
        scope.sessionId
          ? eb.or([eb('session_id', 'is', null), eb('session_id', '<>', scope.sessionId)])
          : eb.lit(true),
      )
      // Automatic handoffs nobody took in two weeks are history.
      .where((eb) =>
        eb.or([
          eb('auto_generated', '=', false),
          eb('created_at', '>', sql<Date>`now() - interval '14 days'`),
        ]),
      )
      .orderBy('created_at', 'desc')
      .limit(options.limit ?? 20)
      .execute()
  )
}

export interface PickedUpHandoff {
  handoff: Handoff
  intent: Intent | null
  /** The last edits of the handoff's files (and its intent's), newest first. */
  recentEdits: Array<{
    path: string
    agent_id: string
    op: string
    created_at: Date
    intent_title: string | null
  }>
  /** Decisions linked to those files. */
  decisions: Array<{ number: number; title: string; status: string }>
  /** Set when the handoff was left on another branch than the one checked out here. */
  switchBranch: string | null
}

/**
 * Claims a handoff (the newest open one addressed to this agent or to anyone, or the one given): exactly one agent
 * wins a race, the other gets StateConflictError. Returns what is needed to continue: the intent, recent edits of
 * its files, linked decisions, and whether to switch branch.
 *
 * @example
 * const { handoff, recentEdits } = await pickupHandoff(brain.db, scope)
 */
export async function pickupHandoff(
  db: Db,
  scope: ResolvedScope,
  input: { id?: string } = {},
): Promise<PickedUpHandoff> {
  const { id } = parseWith(z.strictObject({ id: z.uuid().optional() }), 'pickup', input)
  return inTransaction(db, async (trx) => {
    const target =
      id ??
      (
        await trx
          .selectFrom('handoffs')
          .select('id')
          .where('repo_id', '=', scope.repoId)
          .where('status', '=', 'open')
          .where((eb) => eb.or([eb('to_agent', '=', scope.agentId), eb('to_agent', 'is', null)]))
          // Not the handoff this very session keeps rewriting.
          .where((eb) =>
            scope.sessionId
              ? eb.or([eb('session_id', 'is', null), eb('session_id', '<>', scope.sessionId)])
              : eb.lit(true),
          )
          .orderBy('created_at', 'desc')
          .limit(1)
          .executeTakeFirst()
      )?.id
    if (!target) throw new NotFoundError('no open handoff for you in this repository')
    const handoff = await trx
      .updateTable('handoffs')
      .set({ status: 'picked_up', picked_up_by: scope.agentId })
      .where('id', '=', target)
      .where('status', '=', 'open')
      .where((eb) => eb.or([eb('to_agent', '=', scope.agentId), eb('to_agent', 'is', null)]))
      .returningAll()
      .executeTakeFirst()
    if (!handoff) {
      const existing = await trx
        .selectFrom('handoffs')
        .selectAll()
        .where('id', '=', target)
        .executeTakeFirst()
      if (!existing) throw new NotFoundError(`no handoff ${target}`)
      if (existing.status !== 'open') {
        throw new StateConflictError(
          `handoff ${target} is already ${existing.status.replace('_', ' ')}${existing.picked_up_by ? ` by ${existing.picked_up_by}` : ''}`,
        )
      }
      throw new StateConflictError(
        `handoff ${target} is addressed to ${existing.to_agent}, not ${scope.agentId}`,
      )
    }
    const intent = handoff.intent_id
      ? ((await trx
          .selectFrom('intents')
          .selectAll()
          .where('id', '=', handoff.intent_id)
          .executeTakeFirst()) ?? null)
      : null
    const paths = handoff.uncommitted_files
    const recentEdits = await trx
      .selectFrom('edits as e')
      .innerJoin('files as f', 'f.id', 'e.file_id')
      .leftJoin('intents as i', 'i.id', 'e.intent_id')
      .select(['f.path', 'e.agent_id', 'e.op', 'e.created_at', 'i.title as intent_title'])
      .where('e.repo_id', '=', scope.repoId)
      .where((eb) => {
        const anyOf = [eb('f.path', 'in', paths.length > 0 ? paths : [''])]
        if (handoff.intent_id) anyOf.push(eb('e.intent_id', '=', handoff.intent_id))
        return eb.or(anyOf)
      })
      .orderBy('e.created_at', 'desc')
      .limit(20)
      .execute()
    const decisions = await trx
      .selectFrom('decisions as d')
      .innerJoin('decision_files as df', 'df.decision_id', 'd.id')
      .innerJoin('files as f', 'f.id', 'df.file_id')
      .select(['d.number', 'd.title', 'd.status'])
      .distinct()
      .where('d.repo_id', '=', scope.repoId)
      .where('f.path', 'in', paths.length > 0 ? paths : [''])
      .orderBy('d.number', 'desc')
      .execute()
    const switchBranch =
      handoff.branch_name && handoff.branch_name !== scope.branch ? handoff.branch_name : null
    return { handoff, intent, recentEdits, decisions, switchBranch }
  })
}

import { sql } from 'kysely'
import { z } from 'zod'
import type { Row } from '../database.generated.ts'
import { NotFoundError } from '../errors.ts'
import { repoPath } from '../inputs.ts'
import { type Db, inTransaction, parseWith, type ResolvedScope } from './scope.ts'

export type Intent = Row<'intents'>

/**
 * The intent an agent is working under in a scope: the session's own active intent first, then the agent's most
 * recent active intent on the branch, then in the repo. Null when there is none.
 *
 * @example
 * const intent = await currentIntent(brain.db, scope)
 */
export async function currentIntent(db: Db, scope: ResolvedScope): Promise<Intent | null> {
  const row = await db
    .selectFrom('intents')
    .selectAll()
    .where('agent_id', '=', scope.agentId)
    .where('repo_id', '=', scope.repoId)
    .where('status', '=', 'active')
    .orderBy(sql`session_id is not distinct from ${scope.sessionId}`, 'desc')
    .orderBy(sql`branch_id is not distinct from ${scope.branchId}`, 'desc')
    .orderBy('updated_at', 'desc')
    .limit(1)
    .executeTakeFirst()
  return row ?? null
}

export const writeIntentSchema = z.strictObject({
  id: z.uuid().optional(),
  title: z.string().trim().min(1).max(300),
  body: z.string().max(20_000).nullish(),
  promises: z.string().max(5_000).nullish(),
  notTouching: z.array(repoPath).max(500).optional(),
  inferred: z.boolean().optional(),
})

/**
 * Declares what the agent is doing now. The agent's previous active intent in this session (or, without a session,
 * on this branch) is paused, so each agent session has one active intent. Idempotent by `id`.
 *
 * @example
 * const intent = await writeIntent(brain.db, scope, { title: 'Add rate limiting to /login', notTouching: ['src/billing/'] })
 */
export async function writeIntent(
  db: Db,
  scope: ResolvedScope,
  input: z.input<typeof writeIntentSchema>,
): Promise<Intent> {
  const intent = parseWith(writeIntentSchema, 'intent', input)
  return inTransaction(db, async (trx) => {
    if (intent.id) {
      const existing = await trx
        .selectFrom('intents')
        .selectAll()
        .where('id', '=', intent.id)
        .executeTakeFirst()
      if (existing) return existing
    }
    await trx
      .updateTable('intents')
      .set({ status: 'paused' })
      .where('agent_id', '=', scope.agentId)
      .where('repo_id', '=', scope.repoId)
      .where('status', '=', 'active')
      .where((eb) =>
        scope.sessionId
          ? eb('session_id', '=', scope.sessionId)
          : eb.and([eb('session_id', 'is', null), eb('branch_id', 'is not distinct from', scope.branchId)]),
      )
      .execute()
    return trx
      .insertInto('intents')
      .values({
        ...(intent.id ? { id: intent.id } : {}),
        agent_id: scope.agentId,
        repo_id: scope.repoId,
        branch_id: scope.branchId,
        session_id: scope.sessionId,
        title: intent.title,
        body: intent.body ?? null,
        promises: intent.promises ?? null,
        not_touching: intent.notTouching ?? [],
        inferred: intent.inferred ?? false,
      })
      .returningAll()
      .executeTakeFirstOrThrow()
  })
}

/** Prompts that say nothing about the work: slash commands, acknowledgements, one or two words. */
function isSubstantive(prompt: string): boolean {
  if (prompt.startsWith('/')) return false
  return prompt.split(/\s+/).filter((word) => /\w/.test(word)).length >= 3
}

/**
 * A title from a prompt: its first non-empty line, whitespace collapsed, at most 120 characters on a word boundary.
 *
 * @example
 * titleFromPrompt('  fix the login\nredirect loop please') // 'fix the login'
 */
export function titleFromPrompt(prompt: string): string {
  const line = (prompt.split('\n').find((l) => l.trim()) ?? '').replace(/\s+/g, ' ').trim()
  if (line.length <= 120) return line
  const cut = line.slice(0, 120)
  const space = cut.lastIndexOf(' ')
  return `${(space > 60 ? cut.slice(0, space) : cut).trimEnd()}…`
}

export type InferResult =
  | { action: 'created'; intent: Intent }
  | { action: 'updated'; intent: Intent }
  | { action: 'kept'; intent: Intent }
  | { action: 'skipped'; reason: string }

export const inferIntentSchema = z.strictObject({
  id: z.uuid().optional(),
  prompt: z.string().max(1_000_000),
})

/**
 * Infers the intent from a prompt, without any LLM: with no active intent, a substantive prompt becomes one
 * (title = its first line, `inferred`); an inferred intent gets the latest prompt as its body; an intent the agent
 * wrote itself is never overwritten. `id` makes a replay (an outbox retry) a no-op.
 *
 * @example
 * await inferIntent(brain.db, scope, { prompt: 'Add rate limiting to the login endpoint' }) // { action: 'created', ... }
 */
export async function inferIntent(
  db: Db,
  scope: ResolvedScope,
  input: z.input<typeof inferIntentSchema>,
): Promise<InferResult> {
  const { id, prompt: raw } = parseWith(inferIntentSchema, 'prompt', input)
  const prompt = raw.trim()
  return inTransaction(db, async (trx) => {
    if (id) {
      const replay = await trx.selectFrom('intents').selectAll().where('id', '=', id).executeTakeFirst()
      if (replay) return { action: 'kept', intent: replay }
    }
    const current = await currentIntent(trx, scope)
    if (!isSubstantive(prompt)) {
      return current ? { action: 'kept', intent: current } : { action: 'skipped', reason: 'prompt too short' }
    }
    const body = `Latest prompt: ${prompt.slice(0, 1_500)}`
    if (current && current.session_id === scope.sessionId) {
      if (!current.inferred || current.body === body) return { action: 'kept', intent: current }
      const intent = await trx
        .updateTable('intents')
        .set({ body })
        .where('id', '=', current.id)
        .returningAll()
        .executeTakeFirstOrThrow()
      return { action: 'updated', intent }
    }
    const intent = await writeIntent(trx, scope, { id, title: titleFromPrompt(prompt), body, inferred: true })
    return { action: 'created', intent }
  })
}

/**
 * Marks the current intent (or the one given) shipped, with the PR's URL if there is one.
 *
 * @example
 * await shipIntent(brain.db, scope, { prUrl: 'https://github.com/acme/api/pull/42' })
 */
export async function shipIntent(
  db: Db,
  scope: ResolvedScope,
  input: { intentId?: string; prUrl?: string | null; status?: 'shipped' | 'abandoned' | 'paused' } = {},
): Promise<Intent> {
  const { intentId, prUrl, status } = parseWith(
    z.strictObject({
      intentId: z.uuid().optional(),
      prUrl: z.url().nullish(),
      status: z.enum(['shipped', 'abandoned', 'paused']).optional(),
    }),
    'ship',
    input,
  )
  const target = intentId ?? (await currentIntent(db, scope))?.id
  if (!target) throw new NotFoundError('no active intent to ship here: write one with `dstack intent write`')
  const intent = await db
    .updateTable('intents')
    .set({ status: status ?? 'shipped', ...(prUrl ? { pr_url: prUrl } : {}) })
    .where('id', '=', target)
    .where('agent_id', '=', scope.agentId)
    .returningAll()
    .executeTakeFirst()
  if (!intent) throw new NotFoundError(`intent ${target} is not one of ${scope.agentId}'s`)
  return intent
}

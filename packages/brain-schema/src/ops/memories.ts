import { sql } from 'kysely'
import type { Row } from '../database.generated.ts'
import { KnowledgeConflictError, translateError } from '../errors.ts'
import { type Input, parseInput } from '../inputs.ts'
import { searchMatch, searchRank, searchTerms } from './fulltext.ts'
import { type Db, inTransaction } from './scope.ts'

// The brain's side of @dstack/memory's BrainProvider: rows of dstack.memories. The knowledge-state rule is enforced
// by the table's trigger (DS409), so it holds for every writer, in every process, on every machine.

export type MemoryRow = Row<'memories'>

/** Escapes LIKE metacharacters so a key prefix matches literally. */
function likePrefix(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}/%`
}

/**
 * One memory row (expired ones included), or null.
 *
 * @example
 * const row = await getMemoryRow(brain.db, 'acme-api', 'auth/token-ttl')
 */
export async function getMemoryRow(db: Db, workspace: string, key: string): Promise<MemoryRow | null> {
  const row = await db
    .selectFrom('memories')
    .selectAll()
    .where('workspace', '=', workspace)
    .where('key', '=', key)
    .executeTakeFirst()
  return row ?? null
}

/**
 * Memory rows at or under `prefix` on a segment boundary ('' = the whole workspace), expired ones only when asked.
 *
 * @example
 * const rows = await loadMemoryRows(brain.db, 'acme-api', 'auth')
 */
export async function loadMemoryRows(
  db: Db,
  workspace: string,
  prefix: string,
  options: { includeExpired?: boolean } = {},
): Promise<MemoryRow[]> {
  let query = db.selectFrom('memories').selectAll().where('workspace', '=', workspace)
  if (prefix !== '') {
    query = query.where((eb) =>
      eb.or([eb('key', '=', prefix), eb('key', 'like', sql<string>`${likePrefix(prefix)} escape '\\'`)]),
    )
  }
  if (!options.includeExpired) {
    query = query.where((eb) =>
      eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', sql<Date>`now()`)]),
    )
  }
  return query.execute()
}

export type MemoryRowInput = Input<'memories'> & {
  created_at?: Date
  updated_at?: Date
}

/**
 * Creates or replaces a memory. A stored memory in a higher knowledge state refuses the write
 * (KnowledgeConflictError, stored row kept) unless it has expired, in which case it is replaced. Writing with
 * `supersedes` expires that other memory in the same transaction. The agent, if given, is registered.
 *
 * @example
 * await upsertMemory(brain.db, { workspace: 'acme-api', key: 'auth/ttl', value: 3600, state: 'CONFIRMED' })
 */
export async function upsertMemory(db: Db, input: MemoryRowInput): Promise<MemoryRow> {
  const { created_at, updated_at, ...fields } = input
  const memory = parseInput('memories', fields)
  try {
    return await inTransaction(db, async (trx) => {
      if (memory.agent_id) {
        await sql`insert into dstack.agents (id, display_name) values (${memory.agent_id}, ${memory.agent_id})
          on conflict (id) do nothing`.execute(trx)
      }
      // An expired memory no longer holds its state against newcomers.
      await trx
        .deleteFrom('memories')
        .where('workspace', '=', memory.workspace)
        .where('key', '=', memory.key)
        .where('expires_at', '<=', sql<Date>`now()`)
        .execute()
      const values = {
        ...memory,
        value: JSON.stringify(memory.value),
        ...(created_at ? { created_at } : {}),
        ...(updated_at ? { updated_at } : {}),
      }
      const row = await trx
        .insertInto('memories')
        .values(values)
        .onConflict((oc) =>
          oc.columns(['workspace', 'key']).doUpdateSet((eb) => ({
            value: eb.ref('excluded.value'),
            state: eb.ref('excluded.state'),
            confidence: eb.ref('excluded.confidence'),
            agent_id: eb.ref('excluded.agent_id'),
            session_id: eb.ref('excluded.session_id'),
            repo: eb.ref('excluded.repo'),
            branch: eb.ref('excluded.branch'),
            commit_sha: eb.ref('excluded.commit_sha'),
            source: eb.ref('excluded.source'),
            supersedes: eb.ref('excluded.supersedes'),
            expires_at: eb.ref('excluded.expires_at'),
          })),
        )
        .returningAll()
        .executeTakeFirstOrThrow()
      if (memory.supersedes && memory.supersedes !== memory.key) {
        // Superseding expires another memory: only a write that could overwrite it may (the state rule).
        const superseded = await trx
          .selectFrom('memories')
          .select([
            'state',
            sql<boolean>`dstack.knowledge_rank(state) > dstack.knowledge_rank(${memory.state})`.as(
              'outranks',
            ),
          ])
          .where('workspace', '=', memory.workspace)
          .where('key', '=', memory.supersedes)
          .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', sql<Date>`now()`)]))
          .executeTakeFirst()
        if (superseded?.outranks) {
          throw new KnowledgeConflictError(
            `memory ${memory.workspace}/${memory.supersedes} is ${superseded.state}: an ${memory.state} write may not supersede it`,
            superseded.state,
            memory.state,
          )
        }
        await trx
          .updateTable('memories')
          .set({ expires_at: sql<Date>`now()` })
          .where('workspace', '=', memory.workspace)
          .where('key', '=', memory.supersedes)
          .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', sql<Date>`now()`)]))
          .execute()
      }
      return row
    })
  } catch (error) {
    const translated = translateError(error)
    throw translated instanceof KnowledgeConflictError ? translated : error
  }
}

/**
 * Deletes a memory; false when there was none.
 *
 * @example
 * await deleteMemory(brain.db, 'acme-api', 'auth/ttl')
 */
export async function deleteMemory(db: Db, workspace: string, key: string): Promise<boolean> {
  const result = await db
    .deleteFrom('memories')
    .where('workspace', '=', workspace)
    .where('key', '=', key)
    .executeTakeFirst()
  return result.numDeletedRows > 0n
}

export interface MemorySearchOptions {
  limit?: number
  prefix?: string
  states?: string[]
  minConfidence?: number
}

/**
 * Ranked full-text search over a workspace's live memories (key words weighted above value text), with the same
 * query language and ranking as decision search.
 *
 * @example
 * const hits = await searchMemoryRows(brain.db, 'acme-api', 'password hashing', { limit: 5 })
 */
export async function searchMemoryRows(
  db: Db,
  workspace: string,
  query: string,
  options: MemorySearchOptions = {},
): Promise<Array<{ row: MemoryRow; rank: number }>> {
  if (query.trim() === '') return []
  const vector = sql.ref('mem.search')
  const prefix = options.prefix ?? ''
  const result = await sql<MemoryRow & { rank: number }>`
    with ${searchTerms(query, { unstemmed: true })}
    select mem.*, ${searchRank(vector)} as rank
    from dstack.memories mem, m
    where mem.workspace = ${workspace}
      and ${searchMatch(vector)}
      and (mem.expires_at is null or mem.expires_at > now())
      and (${prefix} = '' or mem.key = ${prefix} or mem.key like ${likePrefix(prefix)} escape '\\')
      and (${options.states ?? null}::text[] is null or mem.state = any(${options.states ?? null}::text[]))
      and mem.confidence >= ${options.minConfidence ?? 0}
    order by rank desc, mem.updated_at desc
    limit ${options.limit ?? 10}`.execute(db)
  return result.rows.map(({ rank, ...row }) => ({ row: row as MemoryRow, rank: Number(rank) }))
}

import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rowSchemas } from '../src/database.generated.ts'
import { AppendOnlyError, KnowledgeConflictError, translateError } from '../src/errors.ts'
import { InvalidInputError } from '../src/inputs.ts'
import {
  ensureBranch,
  ensureFeature,
  ensureFile,
  ensureRepo,
  expireStalePresence,
  nextDecisionNumber,
  registerAgent,
} from '../src/ops/registry.ts'
import { recordSampleActivity } from '../src/ops/sample.ts'
import { DRIVERS, freshBrain, type TestBrain } from '../src/testing.ts'

/** Runs one query as `agent` would under row-level security (role authenticated, its JWT claim), then rolls back. */
async function asAgent(c: pg.Client, agent: string, text: string, params: unknown[] = []) {
  await c.query('begin')
  try {
    await c.query(`select set_config('request.jwt.claims', $1, true)`, [JSON.stringify({ agent_id: agent })])
    await c.query('set local role authenticated')
    return await c.query(text, params)
  } finally {
    await c.query('rollback')
  }
}

// Every test works in its own repo, so tests share one brain per driver without seeing each other's rows.
const newRepo = (t: TestBrain) => ensureRepo(t.brain.db, `github.com/test/${randomUUID()}`)

async function clients(t: TestBrain, n: number): Promise<pg.Client[]> {
  return Promise.all(Array.from({ length: n }, () => t.client()))
}

describe.each(DRIVERS)('brain schema on %s', (kind) => {
  let t: TestBrain
  beforeAll(async () => {
    t = await freshBrain(kind)
    await registerAgent(t.brain.db, { id: 'alice', display_name: 'Alice' })
    await registerAgent(t.brain.db, { id: 'bob', display_name: 'Bob', email: 'bob@example.com' })
  })
  afterAll(() => t.dispose())

  describe('ADR numbering', () => {
    it('gives 50 concurrent callers on 50 connections 50 distinct numbers, 1..50', async () => {
      const repoId = await newRepo(t)
      const conns = await clients(t, 50)
      try {
        const numbers = await Promise.all(
          conns.map(
            async (c) => (await c.query('select dstack.next_decision_number($1) as n', [repoId])).rows[0].n,
          ),
        )
        expect([...numbers].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1))
      } finally {
        await Promise.all(conns.map((c) => c.end()))
      }
    })

    it('numbers 50 decisions inserted concurrently without a number, with no duplicate', async () => {
      const repoId = await newRepo(t)
      const conns = await clients(t, 50)
      try {
        await Promise.all(
          conns.map((c, i) =>
            c.query(
              `insert into dstack.decisions (repo_id, title, body, authored_by) values ($1, $2, 'b', 'alice')`,
              [repoId, `decision ${i}`],
            ),
          ),
        )
      } finally {
        await Promise.all(conns.map((c) => c.end()))
      }
      const rows = await t.brain.db
        .selectFrom('decisions')
        .select('number')
        .where('repo_id', '=', repoId)
        .execute()
      expect(rows.map((r) => r.number).sort((a, b) => a - b)).toEqual(
        Array.from({ length: 50 }, (_, i) => i + 1),
      )
    })

    it('numbers per repo, and moves past an imported explicit number', async () => {
      const a = await newRepo(t)
      const b = await newRepo(t)
      expect(await nextDecisionNumber(t.brain.db, a)).toBe(1)
      expect(await nextDecisionNumber(t.brain.db, b)).toBe(1)
      await t.brain.db
        .insertInto('decisions')
        .values({
          repo_id: a,
          number: 40,
          title: 'imported',
          body: 'x',
          authored_by: 'alice',
          source: 'import',
        })
        .execute()
      const next = await t.brain.db
        .insertInto('decisions')
        .values({ repo_id: a, title: 'new', body: 'x', authored_by: 'alice' })
        .returning('number')
        .executeTakeFirstOrThrow()
      expect(next.number).toBe(41)
    })
  })

  describe('decisions: compiled truth, timeline, versions', () => {
    it('snapshots the previous version on every rewrite and bumps version; a no-op update snapshots nothing', async () => {
      const repoId = await newRepo(t)
      const d = await t.brain.db
        .insertInto('decisions')
        .values({ repo_id: repoId, title: 'Use Postgres', body: 'v1 body', authored_by: 'alice' })
        .returningAll()
        .executeTakeFirstOrThrow()
      expect(d.version).toBe(1)
      await t.brain.db
        .updateTable('decisions')
        .set({ body: 'v2 body', updated_by: 'bob' })
        .where('id', '=', d.id)
        .execute()
      await t.brain.db.updateTable('decisions').set({ status: 'deprecated' }).where('id', '=', d.id).execute()
      await t.brain.db.updateTable('decisions').set({ updated_by: 'bob' }).where('id', '=', d.id).execute()
      const now = await t.brain.db
        .selectFrom('decisions')
        .selectAll()
        .where('id', '=', d.id)
        .executeTakeFirstOrThrow()
      expect(now).toMatchObject({ version: 3, body: 'v2 body', status: 'deprecated' })
      const versions = await t.brain.db
        .selectFrom('decision_versions')
        .selectAll()
        .where('decision_id', '=', d.id)
        .orderBy('version')
        .execute()
      expect(versions.map((v) => [v.version, v.body, v.status, v.written_by])).toEqual([
        [1, 'v1 body', 'accepted', 'alice'],
        [2, 'v2 body', 'accepted', 'bob'],
      ])
    })

    it('keeps a decision in its repo with its number, and the timeline and versions append-only', async () => {
      const repoId = await newRepo(t)
      const d = await t.brain.db
        .insertInto('decisions')
        .values({ repo_id: repoId, title: 'T', body: 'B', authored_by: 'alice' })
        .returningAll()
        .executeTakeFirstOrThrow()
      await expect(
        t.brain.db.updateTable('decisions').set({ number: 99 }).where('id', '=', d.id).execute(),
      ).rejects.toMatchObject({ code: 'DS002' })
      await t.brain.db
        .insertInto('decision_events')
        .values({ decision_id: d.id, agent_id: 'alice', kind: 'authored', summary: 'wrote it' })
        .execute()
      const error = await t.brain.db
        .updateTable('decision_events')
        .set({ summary: 'rewritten history' })
        .where('decision_id', '=', d.id)
        .execute()
        .catch((e: unknown) => translateError(e))
      expect(error).toBeInstanceOf(AppendOnlyError)
    })

    it('supersedes: superseded_by only with status superseded, never itself', async () => {
      const repoId = await newRepo(t)
      const [a, b] = await t.brain.db
        .insertInto('decisions')
        .values([
          { repo_id: repoId, title: 'old', body: 'x', authored_by: 'alice' },
          { repo_id: repoId, title: 'new', body: 'y', authored_by: 'alice' },
        ])
        .returning('id')
        .execute()
      await expect(
        t.brain.db.updateTable('decisions').set({ superseded_by: b!.id }).where('id', '=', a!.id).execute(),
      ).rejects.toMatchObject({ code: '23514' })
      await t.brain.db
        .updateTable('decisions')
        .set({ superseded_by: b!.id, status: 'superseded' })
        .where('id', '=', a!.id)
        .execute()
      await expect(
        t.brain.db
          .updateTable('decisions')
          .set({ superseded_by: b!.id, status: 'superseded' })
          .where('id', '=', b!.id)
          .execute(),
      ).rejects.toMatchObject({ code: '23514' })
    })
  })

  describe('edits: append-only', () => {
    it('refuses update and delete, but lets an explicit purge delete', async () => {
      const { editId } = await recordSampleActivity(t.brain.db, { agentId: 'alice', displayName: 'Alice' })
      const update = await t.brain.db
        .updateTable('edits')
        .set({ summary: 'x' })
        .where('id', '=', editId)
        .execute()
        .catch((e: unknown) => translateError(e))
      expect(update).toBeInstanceOf(AppendOnlyError)
      expect((update as Error).message).toMatch(/dstack\.edits is append-only: update refused/)
      const del = await t.brain.db
        .deleteFrom('edits')
        .where('id', '=', editId)
        .execute()
        .catch((e: unknown) => translateError(e))
      expect(del).toBeInstanceOf(AppendOnlyError)
      await t.brain.db.transaction().execute(async (trx) => {
        await sql`set local dstack.allow_purge = on`.execute(trx)
        await trx.deleteFrom('edits').where('id', '=', editId).execute()
      })
      expect(await t.brain.db.selectFrom('edits').select('id').where('id', '=', editId).execute()).toEqual([])
    })

    it('refuses hunks that are not a JSON array and paths that leave the repo', async () => {
      const repoId = await newRepo(t)
      const fileId = await ensureFile(t.brain.db, repoId, 'a.ts')
      await expect(
        t.brain.db
          .insertInto('edits')
          .values({ agent_id: 'alice', repo_id: repoId, file_id: fileId, op: 'edit', hunks: '{"a":1}' })
          .execute(),
      ).rejects.toMatchObject({ code: '23514' })
      await expect(ensureFile(t.brain.db, repoId, '/etc/passwd')).rejects.toBeInstanceOf(InvalidInputError)
      await expect(ensureFile(t.brain.db, repoId, 'src/../../x')).rejects.toThrow(/inside the repository/)
      await expect(
        t.brain.db.insertInto('files').values({ repo_id: repoId, path: '/abs' }).execute(),
      ).rejects.toMatchObject({ code: '23514' })
    })
  })

  describe('get-or-create helpers', () => {
    it('return one id to 20 concurrent callers for the same file, branch and feature', async () => {
      const repoId = await newRepo(t)
      const conns = await clients(t, 20)
      try {
        for (const [fn, arg] of [
          ['upsert_file', 'src/x.ts'],
          ['upsert_branch', 'feat/x'],
          ['upsert_feature', 'auth'],
        ] as const) {
          const ids = await Promise.all(
            conns.map(
              async (c) => (await c.query(`select dstack.${fn}($1, $2) as id`, [repoId, arg])).rows[0].id,
            ),
          )
          expect(new Set(ids).size).toBe(1)
        }
      } finally {
        await Promise.all(conns.map((c) => c.end()))
      }
      expect(
        await ensureRepo(
          t.brain.db,
          (
            await t.brain.db
              .selectFrom('repos')
              .select('canonical')
              .where('id', '=', repoId)
              .executeTakeFirstOrThrow()
          ).canonical,
        ),
      ).toBe(repoId)
    })

    it('keep what was stored when called without the optional fields', async () => {
      const repoId = await ensureRepo(t.brain.db, `github.com/test/${randomUUID()}`, 'trunk')
      await ensureRepo(
        t.brain.db,
        (
          await t.brain.db
            .selectFrom('repos')
            .select('canonical')
            .where('id', '=', repoId)
            .executeTakeFirstOrThrow()
        ).canonical,
      )
      const repo = await t.brain.db
        .selectFrom('repos')
        .selectAll()
        .where('id', '=', repoId)
        .executeTakeFirstOrThrow()
      expect(repo.default_branch).toBe('trunk')
      const featureId = await ensureFeature(t.brain.db, repoId, 'billing', 'invoices')
      expect(await ensureFeature(t.brain.db, repoId, 'billing')).toBe(featureId)
      const feature = await t.brain.db
        .selectFrom('features')
        .selectAll()
        .where('id', '=', featureId)
        .executeTakeFirstOrThrow()
      expect(feature.description).toBe('invoices')
    })
  })

  describe('presence', () => {
    it('keeps one row per (agent, session, repo), shows only live rows, and is filtered by repo', async () => {
      const repoA = await newRepo(t)
      const repoB = await newRepo(t)
      await t.brain.db
        .insertInto('presence')
        .values([
          { agent_id: 'alice', session_id: 's1', repo_id: repoA, status: 'coding' },
          { agent_id: 'alice', session_id: 's2', repo_id: repoA, status: 'reviewing' },
          { agent_id: 'bob', session_id: 's3', repo_id: repoB, status: 'coding' },
          {
            agent_id: 'bob',
            session_id: 's4',
            repo_id: repoA,
            status: 'idle',
            last_heartbeat: new Date(Date.now() - 10 * 60_000),
          },
        ])
        .execute()
      const liveA = await t.brain.db
        .selectFrom('live_presence')
        .select(['agent_id', 'session_id', 'status', 'heartbeat_age_seconds'])
        .where('repo_id', '=', repoA)
        .orderBy('session_id')
        .execute()
      expect(liveA.map((p) => [p.agent_id, p.session_id, p.status])).toEqual([
        ['alice', 's1', 'coding'],
        ['alice', 's2', 'reviewing'],
      ])
      expect(liveA[0]!.heartbeat_age_seconds).toBeLessThan(60)
      await expect(
        t.brain.db
          .insertInto('presence')
          .values({ agent_id: 'alice', session_id: 's1', repo_id: repoA })
          .execute(),
      ).rejects.toMatchObject({ code: '23505' })
    })

    it('expire_stale_presence removes only heartbeats older than the threshold and rejects a bad threshold', async () => {
      const repoId = await newRepo(t)
      await t.brain.db
        .insertInto('presence')
        .values([
          { agent_id: 'alice', session_id: 'fresh', repo_id: repoId },
          {
            agent_id: 'bob',
            session_id: 'stale',
            repo_id: repoId,
            last_heartbeat: new Date(Date.now() - 6 * 60_000),
          },
        ])
        .execute()
      expect(await expireStalePresence(t.brain.db, 300)).toBeGreaterThanOrEqual(1)
      const left = await t.brain.db
        .selectFrom('presence')
        .select('session_id')
        .where('repo_id', '=', repoId)
        .execute()
      expect(left.map((p) => p.session_id)).toEqual(['fresh'])
      await expect(expireStalePresence(t.brain.db, 0)).rejects.toMatchObject({ code: 'DS422' })
      await expect(expireStalePresence(t.brain.db, -5)).rejects.toThrow(/threshold must be positive/)
    })
  })

  describe('views', () => {
    it('active_intents lists active and paused intents only, with agent, repo and branch', async () => {
      const repoId = await newRepo(t)
      const branchId = await ensureBranch(t.brain.db, repoId, 'feat/a')
      for (const status of ['active', 'paused', 'shipped', 'abandoned'] as const) {
        await t.brain.db
          .insertInto('intents')
          .values({ agent_id: 'alice', repo_id: repoId, branch_id: branchId, title: status, status })
          .execute()
      }
      const rows = await t.brain.db
        .selectFrom('active_intents')
        .select(['title', 'display_name', 'branch_name', 'repo'])
        .where('repo_id', '=', repoId)
        .orderBy('title')
        .execute()
      expect(rows.map((r) => r.title)).toEqual(['active', 'paused'])
      expect(rows[0]).toMatchObject({ display_name: 'Alice', branch_name: 'feat/a' })
    })

    it('file_intents counts edits per active intent and file; decisions_by_feature groups decisions', async () => {
      const repoId = await newRepo(t)
      const fileId = await ensureFile(t.brain.db, repoId, 'src/auth.ts')
      const [active, shipped] = await t.brain.db
        .insertInto('intents')
        .values([
          { agent_id: 'alice', repo_id: repoId, title: 'login' },
          { agent_id: 'bob', repo_id: repoId, title: 'old', status: 'shipped' },
        ])
        .returning('id')
        .execute()
      await t.brain.db
        .insertInto('edits')
        .values([
          { agent_id: 'alice', repo_id: repoId, file_id: fileId, intent_id: active!.id, op: 'edit' },
          { agent_id: 'alice', repo_id: repoId, file_id: fileId, intent_id: active!.id, op: 'write' },
          { agent_id: 'bob', repo_id: repoId, file_id: fileId, intent_id: shipped!.id, op: 'edit' },
        ])
        .execute()
      const fileIntents = await t.brain.db
        .selectFrom('file_intents')
        .selectAll()
        .where('file_id', '=', fileId)
        .execute()
      expect(fileIntents).toHaveLength(1)
      expect(fileIntents[0]).toMatchObject({
        path: 'src/auth.ts',
        intent_title: 'login',
        agent_id: 'alice',
        edit_count: 2,
      })

      const auth = await ensureFeature(t.brain.db, repoId, 'auth')
      const decisions = await t.brain.db
        .insertInto('decisions')
        .values([
          {
            repo_id: repoId,
            title: 'first',
            body: 'x',
            authored_by: 'alice',
            created_at: new Date(Date.now() - 60_000),
          },
          { repo_id: repoId, title: 'second', body: 'y', authored_by: 'bob' },
        ])
        .returning('id')
        .execute()
      await t.brain.db
        .insertInto('decision_features')
        .values(decisions.map((d) => ({ decision_id: d.id, feature_id: auth })))
        .execute()
      const byFeature = await t.brain.db
        .selectFrom('decisions_by_feature')
        .select(['feature_name', 'title', 'number'])
        .where('repo_id', '=', repoId)
        .execute()
      expect(byFeature.map((r) => [r.feature_name, r.title])).toEqual([
        ['auth', 'second'],
        ['auth', 'first'],
      ])
    })
  })

  describe('full-text search', () => {
    it('ranks by Postgres full text with stemming (title above body), over decisions, intents and handoffs', async () => {
      const repoId = await newRepo(t)
      await t.brain.db
        .insertInto('decisions')
        .values([
          {
            repo_id: repoId,
            title: 'Caching strategy for sessions',
            body: 'Redis with a short TTL',
            authored_by: 'alice',
          },
          {
            repo_id: repoId,
            title: 'Logging',
            body: 'We considered caching log lines but rejected it',
            authored_by: 'bob',
          },
          { repo_id: repoId, title: 'Unrelated', body: 'Nothing to see', authored_by: 'bob' },
        ])
        .execute()
      const hits = await t.brain.db
        .selectFrom('decisions')
        .select([
          'title',
          sql<number>`ts_rank(search, websearch_to_tsquery('english', ${'cached'}))`.as('rank'),
        ])
        .where('repo_id', '=', repoId)
        .where(sql<boolean>`search @@ websearch_to_tsquery('english', ${'cached'})`)
        .orderBy('rank', 'desc')
        .execute()
      expect(hits.map((h) => h.title)).toEqual(['Caching strategy for sessions', 'Logging'])

      // Text that would break a spliced filter is just text here.
      const weird = await t.brain.db
        .selectFrom('decisions')
        .select('title')
        .where('repo_id', '=', repoId)
        .where(sql<boolean>`search @@ websearch_to_tsquery('english', ${"a,b) or (1=1 --'"})`)
        .execute()
      expect(weird).toEqual([])

      await t.brain.db
        .insertInto('intents')
        .values({
          agent_id: 'alice',
          repo_id: repoId,
          title: 'Migrate payments',
          body: 'running the invoice export',
        })
        .execute()
      await t.brain.db
        .insertInto('handoffs')
        .values({
          repo_id: repoId,
          from_agent: 'alice',
          note: 'Invoices exported halfway',
          next_step: 'rerun exporter',
        })
        .execute()
      const intent = await t.brain.db
        .selectFrom('intents')
        .select('title')
        .where('repo_id', '=', repoId)
        .where(sql<boolean>`search @@ websearch_to_tsquery('english', 'run invoices')`)
        .execute()
      expect(intent.map((i) => i.title)).toEqual(['Migrate payments'])
      const handoff = await t.brain.db
        .selectFrom('handoffs')
        .select('note')
        .where('repo_id', '=', repoId)
        .where(sql<boolean>`search @@ websearch_to_tsquery('english', 'export')`)
        .execute()
      expect(handoff).toHaveLength(1)
    })

    it('uses GIN indexes on the search columns', async () => {
      const indexes = await sql<{ indexname: string }>`
        select indexname from pg_indexes where schemaname = 'dstack' and indexdef like '%USING gin (search)%'
        order by indexname`.execute(t.brain.db)
      expect(indexes.rows.map((r) => r.indexname)).toEqual([
        'decisions_search_idx',
        'handoffs_search_idx',
        'intents_search_idx',
        'memories_search_idx',
      ])
    })
  })

  describe('realtime', () => {
    it('pg_notify sends a small JSON payload per change on presence, intents, handoffs and decisions', async () => {
      const repoId = await newRepo(t)
      const listener = await t.client()
      const bystander = await t.client()
      const received: Array<Record<string, string>> = []
      const bystanderGot: string[] = []
      listener.on('notification', (n) => {
        if (n.channel === 'dstack_brain') received.push(JSON.parse(n.payload!))
      })
      bystander.on('notification', (n) => bystanderGot.push(n.channel))
      try {
        await listener.query('listen dstack_brain')
        await bystander.query('listen some_other_channel')
        const intent = await t.brain.db
          .insertInto('intents')
          .values({ agent_id: 'alice', repo_id: repoId, title: 'realtime' })
          .returning('id')
          .executeTakeFirstOrThrow()
        await t.brain.db
          .insertInto('presence')
          .values({ agent_id: 'bob', session_id: 'rt', repo_id: repoId })
          .execute()
        await t.brain.db
          .insertInto('handoffs')
          .values({ repo_id: repoId, from_agent: 'bob', note: 'n' })
          .execute()
        await t.brain.db
          .insertInto('decisions')
          .values({ repo_id: repoId, title: 'd', body: 'b', authored_by: 'alice' })
          .execute()
        await t.brain.db
          .updateTable('intents')
          .set({ status: 'shipped' })
          .where('id', '=', intent.id)
          .execute()
        await t.brain.db.deleteFrom('presence').where('session_id', '=', 'rt').execute()
        const deadline = Date.now() + 5_000
        while (received.filter((r) => r.repo_id === repoId).length < 6 && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 20))
        }
        const mine = received
          .filter((r) => r.repo_id === repoId)
          .map((r) => `${r.table}:${r.op}:${r.agent_id}`)
        expect(mine).toEqual([
          'intents:insert:alice',
          'presence:insert:bob',
          'handoffs:insert:bob',
          'decisions:insert:alice',
          'intents:update:alice',
          'presence:delete:bob',
        ])
        expect(received.find((r) => r.table === 'intents')?.id).toBe(intent.id)
        expect(bystanderGot).toEqual([])
      } finally {
        await listener.end()
        await bystander.end()
      }
    })

    it('publishes the live tables for logical replication (Supabase Realtime)', async () => {
      const rows = await sql<{ tablename: string }>`
        select tablename from pg_publication_tables where pubname = 'dstack_realtime' order by tablename`.execute(
        t.brain.db,
      )
      expect(rows.rows.map((r) => r.tablename)).toEqual(['decisions', 'handoffs', 'intents', 'presence'])
    })
  })

  describe('row-level security (hosted Supabase)', () => {
    it('is enabled on every table, with policies for authenticated', async () => {
      const tables = await sql<{ relname: string; relrowsecurity: boolean }>`
        select relname, relrowsecurity from pg_class
        where relnamespace = 'dstack'::regnamespace and relkind = 'r'`.execute(t.brain.db)
      expect(tables.rows.length).toBeGreaterThanOrEqual(21)
      for (const row of tables.rows) expect(row, row.relname).toMatchObject({ relrowsecurity: true })
      const policies = await sql<{ n: number }>`
        select count(*)::int as n from pg_policies where schemaname = 'dstack' and 'authenticated' = any(roles)`.execute(
        t.brain.db,
      )
      expect(policies.rows[0]!.n).toBeGreaterThan(30)
    })

    it('lets a teammate read the team but write only as themself; anon gets nothing; owners bypass', async () => {
      const repoId = await newRepo(t)
      const fileId = await ensureFile(t.brain.db, repoId, 'rls.ts')
      await t.brain.db
        .insertInto('intents')
        .values({ agent_id: 'bob', repo_id: repoId, title: 'bobs work' })
        .execute()
      const c = await t.client()
      const asAlice = (text: string, params: unknown[] = []) => asAgent(c, 'alice', text, params)
      try {
        const read = await asAlice('select title from dstack.intents where repo_id = $1', [repoId])
        expect(read.rows.map((r) => r.title)).toEqual(['bobs work'])
        await asAlice(`insert into dstack.intents (agent_id, repo_id, title) values ('alice', $1, 'mine')`, [
          repoId,
        ])
        await expect(
          asAlice(`insert into dstack.intents (agent_id, repo_id, title) values ('bob', $1, 'forged')`, [
            repoId,
          ]),
        ).rejects.toThrow(/row-level security/)
        const updated = await asAlice(`update dstack.intents set title = 'hijacked' where repo_id = $1`, [
          repoId,
        ])
        expect(updated.rowCount).toBe(0)
        await expect(
          asAlice(
            `insert into dstack.edits (agent_id, repo_id, file_id, op) values ('bob', $1, $2, 'edit')`,
            [repoId, fileId],
          ),
        ).rejects.toThrow(/row-level security/)
        await expect(asAlice('select * from dstack.decision_counters')).rejects.toThrow(/permission denied/)
        // The security-definer numbering still works for a teammate.
        const n = await asAlice('select dstack.next_decision_number($1) as n', [repoId])
        expect(n.rows[0].n).toBe(1)

        await c.query('begin')
        await c.query('set local role anon')
        await expect(c.query('select * from dstack.intents')).rejects.toThrow(/permission denied/)
        await c.query('rollback')
      } finally {
        await c.end()
      }
      // The owner (embedded, local Postgres) is not subject to the policies.
      const all = await t.brain.db
        .selectFrom('intents')
        .select('title')
        .where('repo_id', '=', repoId)
        .execute()
      expect(all.map((r) => r.title)).toEqual(['bobs work'])
    })

    it('deploys: a teammate reads the whole log and appends only as themself', async () => {
      const repoId = await newRepo(t)
      const service = `api-${randomUUID()}`
      await t.brain.db
        .insertInto('deploys')
        .values({
          agent_id: 'bob',
          repo_id: repoId,
          service,
          target: 'local',
          release: 'r1',
          outcome: 'deployed',
          duration_ms: 10,
          started_at: new Date(),
        })
        .execute()
      const c = await t.client()
      const asAlice = (text: string, params: unknown[] = []) => asAgent(c, 'alice', text, params)
      const insertAs = (agent: string) =>
        asAlice(
          `insert into dstack.deploys (agent_id, repo_id, service, target, release, outcome, duration_ms, started_at)
           values ($1, $2, $3, 'local', 'r2', 'failed', 5, now())`,
          [agent, repoId, service],
        )
      try {
        const read = await asAlice('select agent_id from dstack.deploys where service = $1', [service])
        expect(read.rows).toEqual([{ agent_id: 'bob' }])
        await insertAs('alice')
        await expect(insertAs('bob')).rejects.toThrow(/row-level security/)
        await expect(
          asAlice(`update dstack.deploys set outcome = 'failed' where service = $1`, [service]),
        ).rejects.toThrow(/permission denied/)
        await expect(asAlice('delete from dstack.deploys where service = $1', [service])).rejects.toThrow(
          /permission denied/,
        )
      } finally {
        await c.end()
      }
    })
  })

  describe('memories', () => {
    it('never lets a lower knowledge state overwrite a higher one, and keeps the stored value', async () => {
      const key = `repo.${randomUUID()}.build.command`
      await t.brain.db
        .insertInto('memories')
        .values({
          workspace: 'w',
          key,
          value: JSON.stringify('cargo build'),
          state: 'CONFIRMED',
          agent_id: 'alice',
        })
        .execute()
      const downgrade = await t.brain.db
        .updateTable('memories')
        .set({ value: JSON.stringify('make'), state: 'INFERRED' })
        .where('workspace', '=', 'w')
        .where('key', '=', key)
        .execute()
        .catch((e: unknown) => translateError(e))
      expect(downgrade).toBeInstanceOf(KnowledgeConflictError)
      expect(downgrade).toMatchObject({ stored: 'CONFIRMED', incoming: 'INFERRED' })
      const kept = await t.brain.db
        .selectFrom('memories')
        .select(['value', 'state'])
        .where('key', '=', key)
        .executeTakeFirstOrThrow()
      expect(kept).toEqual({ value: 'cargo build', state: 'CONFIRMED' })

      await t.brain.db
        .updateTable('memories')
        .set({ value: JSON.stringify('cargo build --release'), state: 'CONFIRMED' })
        .where('key', '=', key)
        .execute()
      const hit = await t.brain.db
        .selectFrom('memories')
        .select('key')
        .where(sql<boolean>`search @@ websearch_to_tsquery('english', 'release')`)
        .where('key', '=', key)
        .execute()
      expect(hit).toHaveLength(1)
    })
  })

  describe('intents and handoffs lifecycle', () => {
    it('sets shipped_at when shipped and clears it when reopened; stamps handoff pickup and resolution', async () => {
      const repoId = await newRepo(t)
      const intent = await t.brain.db
        .insertInto('intents')
        .values({ agent_id: 'alice', repo_id: repoId, title: 'ship me' })
        .returning('id')
        .executeTakeFirstOrThrow()
      await t.brain.db.updateTable('intents').set({ status: 'shipped' }).where('id', '=', intent.id).execute()
      let row = await t.brain.db
        .selectFrom('intents')
        .selectAll()
        .where('id', '=', intent.id)
        .executeTakeFirstOrThrow()
      expect(row.shipped_at).toBeInstanceOf(Date)
      await t.brain.db.updateTable('intents').set({ status: 'active' }).where('id', '=', intent.id).execute()
      row = await t.brain.db
        .selectFrom('intents')
        .selectAll()
        .where('id', '=', intent.id)
        .executeTakeFirstOrThrow()
      expect(row.shipped_at).toBeNull()

      const handoff = await t.brain.db
        .insertInto('handoffs')
        .values({ repo_id: repoId, from_agent: 'alice', to_agent: 'bob', note: 'over to you' })
        .returning('id')
        .executeTakeFirstOrThrow()
      await t.brain.db
        .updateTable('handoffs')
        .set({ status: 'picked_up', picked_up_by: 'bob' })
        .where('id', '=', handoff.id)
        .execute()
      await t.brain.db
        .updateTable('handoffs')
        .set({ status: 'resolved' })
        .where('id', '=', handoff.id)
        .execute()
      const h = await t.brain.db
        .selectFrom('handoffs')
        .selectAll()
        .where('id', '=', handoff.id)
        .executeTakeFirstOrThrow()
      expect(h.picked_up_at).toBeInstanceOf(Date)
      expect(h.resolved_at).toBeInstanceOf(Date)
    })
  })

  describe('inputs and rows', () => {
    it('refuses bad input with every problem named, writing nothing', async () => {
      const before = await t.brain.db.selectFrom('agents').select('id').execute()
      const error = await registerAgent(t.brain.db, {
        id: 'Not Valid!',
        display_name: '',
        email: 'nope',
      }).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(InvalidInputError)
      expect((error as Error).message).toMatch(/id: an agent handle is .*display_name: .*email: /)
      expect(await t.brain.db.selectFrom('agents').select('id').execute()).toEqual(before)
    })

    it('every table and view returns rows that its zod row schema accepts', async () => {
      await recordSampleActivity(t.brain.db, { agentId: 'carol', displayName: 'Carol' })
      for (const [relation, schema] of Object.entries(rowSchemas)) {
        const rows = await sql<
          Record<string, unknown>
        >`select * from ${sql.table(`dstack.${relation}`)} limit 50`.execute(t.brain.db)
        for (const row of rows.rows) {
          const parsed = schema.safeParse(row)
          expect(parsed.success, `${relation}: ${JSON.stringify(parsed.error?.issues)}`).toBe(true)
        }
      }
    })
  })
})

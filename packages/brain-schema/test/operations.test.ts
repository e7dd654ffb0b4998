import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AppendOnlyError, NotFoundError, StateConflictError, translateError } from '../src/errors.ts'
import { InvalidInputError } from '../src/inputs.ts'
import {
  getDecision,
  searchDecisions,
  supersedeDecision,
  updateDecision,
  writeDecision,
} from '../src/ops/decisions.ts'
import { listDeploys, logDeploy } from '../src/ops/deploys.ts'
import { renderDigest, teamDigest } from '../src/ops/digest.ts'
import { featureForPath, logEdit, recordPush } from '../src/ops/edits.ts'
import { autoHandoff, listHandoffs, pickupHandoff, stableUuid, writeHandoff } from '../src/ops/handoffs.ts'
import { auditTrail, standup, why } from '../src/ops/history.ts'
import { currentIntent, inferIntent, shipIntent, titleFromPrompt, writeIntent } from '../src/ops/intents.ts'
import { conflictPrecheck } from '../src/ops/precheck.ts'
import { heartbeat, leave, livePresence } from '../src/ops/presence.ts'
import { type ResolvedScope, resolveScope } from '../src/ops/scope.ts'
import { DRIVERS, freshBrain, type TestBrain } from '../src/testing.ts'

describe('pure helpers', () => {
  it('infers a feature from the first meaningful folder', () => {
    expect(featureForPath('src/auth/login.ts')).toBe('auth')
    expect(featureForPath('packages/billing/src/invoice.ts')).toBe('billing')
    expect(featureForPath('apps/Web App/src/x.tsx')).toBe('web-app')
    expect(featureForPath('README.md')).toBeNull()
    expect(featureForPath('src/lib/index.ts')).toBeNull()
    expect(featureForPath('.github/workflows/ci.yml')).toBe('workflows')
  })

  it('titles a prompt by its first line, cut on a word boundary', () => {
    expect(titleFromPrompt('\n  fix the   login\nredirect')).toBe('fix the login')
    const long = titleFromPrompt(`${'word '.repeat(40)}end`)
    expect(long.length).toBeLessThanOrEqual(121)
    expect(long.endsWith('…')).toBe(true)
  })

  it('derives stable version-8 uuids', () => {
    const a = stableUuid('x', 'y')
    expect(a).toBe(stableUuid('x', 'y'))
    expect(a).not.toBe(stableUuid('x', 'z'))
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  })
})

describe.each(DRIVERS)('brain operations on %s', (kind) => {
  let t: TestBrain
  beforeAll(async () => {
    t = await freshBrain(kind)
  })
  afterAll(() => t.dispose())

  // Two simulated agents on one fresh repository per test.
  async function team() {
    const repo = `github.com/acme/${randomUUID()}`
    const alice = await resolveScope(t.brain.db, {
      agentId: 'alice',
      sessionId: `a-${randomUUID()}`,
      repo,
      branch: 'feat/login',
      machine: 'alice-mbp',
    })
    const bob = await resolveScope(t.brain.db, {
      agentId: 'bob',
      sessionId: `b-${randomUUID()}`,
      repo,
      branch: 'feat/billing',
      machine: 'bob-box',
    })
    return { repo, alice, bob }
  }

  describe('scope', () => {
    it('registers an unknown agent and refuses a bad handle or repo', async () => {
      const s = await resolveScope(t.brain.db, { agentId: 'newcomer', repo: 'local:/tmp/x', branch: null })
      expect(s.branchId).toBeNull()
      const agent = await t.brain.db
        .selectFrom('agents')
        .selectAll()
        .where('id', '=', 'newcomer')
        .executeTakeFirst()
      expect(agent?.display_name).toBe('newcomer')
      await expect(resolveScope(t.brain.db, { agentId: 'Bad Handle', repo: 'x' })).rejects.toThrow(
        InvalidInputError,
      )
      await expect(resolveScope(t.brain.db, { agentId: 'ok', repo: '  ' })).rejects.toThrow(/repo/)
    })
  })

  describe('intents', () => {
    it('writes one active intent per session, pausing the previous one', async () => {
      const { alice } = await team()
      const first = await writeIntent(t.brain.db, alice, { title: 'Add rate limiting' })
      const second = await writeIntent(t.brain.db, alice, {
        title: 'Fix the 429 page',
        notTouching: ['src/billing/'],
      })
      const rows = await t.brain.db
        .selectFrom('intents')
        .select(['id', 'status'])
        .where('repo_id', '=', alice.repoId)
        .execute()
      expect(rows.find((r) => r.id === first.id)?.status).toBe('paused')
      expect(rows.find((r) => r.id === second.id)?.status).toBe('active')
      expect((await currentIntent(t.brain.db, alice))?.id).toBe(second.id)
      expect(second.not_touching).toEqual(['src/billing/'])
    })

    it('infers from substantive prompts, updates inferred intents, never overwrites a written one', async () => {
      const { alice, bob } = await team()
      expect(await inferIntent(t.brain.db, alice, { prompt: 'ok' })).toEqual({
        action: 'skipped',
        reason: 'prompt too short',
      })
      expect((await inferIntent(t.brain.db, alice, { prompt: '/clear' })).action).toBe('skipped')
      const created = await inferIntent(t.brain.db, alice, {
        prompt: 'Add rate limiting to the login endpoint\nplease',
      })
      expect(created.action).toBe('created')
      if (created.action !== 'created') throw new Error('unreachable')
      expect(created.intent.title).toBe('Add rate limiting to the login endpoint')
      expect(created.intent.inferred).toBe(true)
      const updated = await inferIntent(t.brain.db, alice, { prompt: 'also cover the password reset form' })
      expect(updated.action).toBe('updated')
      if (updated.action !== 'updated') throw new Error('unreachable')
      expect(updated.intent.id).toBe(created.intent.id)
      expect(updated.intent.body).toContain('password reset form')

      const written = await writeIntent(t.brain.db, bob, { title: 'Stripe invoices' })
      const kept = await inferIntent(t.brain.db, bob, {
        prompt: 'now do something completely different please',
      })
      expect(kept).toMatchObject({ action: 'kept', intent: { id: written.id, title: 'Stripe invoices' } })
    })

    it('treats a replayed inference (same id) as a no-op', async () => {
      const { alice } = await team()
      const id = randomUUID()
      await inferIntent(t.brain.db, alice, { id, prompt: 'Refactor the session store to redis' })
      const again = await inferIntent(t.brain.db, alice, {
        id,
        prompt: 'Refactor the session store to redis',
      })
      expect(again.action).toBe('kept')
      const count = await t.brain.db
        .selectFrom('intents')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('repo_id', '=', alice.repoId)
        .executeTakeFirstOrThrow()
      expect(Number(count.n)).toBe(1)
    })

    it('ships the current intent, and says so when there is none', async () => {
      const { alice, bob } = await team()
      await writeIntent(t.brain.db, alice, { title: 'Add rate limiting' })
      const shipped = await shipIntent(t.brain.db, alice, { prUrl: 'https://github.com/acme/api/pull/42' })
      expect(shipped.status).toBe('shipped')
      expect(shipped.shipped_at).toBeInstanceOf(Date)
      expect(shipped.pr_url).toBe('https://github.com/acme/api/pull/42')
      expect(await currentIntent(t.brain.db, alice)).toBeNull()
      await expect(shipIntent(t.brain.db, bob)).rejects.toThrow(NotFoundError)
      await expect(
        shipIntent(t.brain.db, alice, { intentId: shipped.id, prUrl: 'not a url' }),
      ).rejects.toThrow(InvalidInputError)
    })
  })

  describe('edits', () => {
    it('logs an edit under the current intent and writes the file, feature and intent links', async () => {
      const { alice } = await team()
      const intent = await writeIntent(t.brain.db, alice, { title: 'Add rate limiting' })
      const logged = await logEdit(t.brain.db, alice, {
        path: 'src/auth/login.ts',
        op: 'edit',
        tool: 'Edit',
        hunks: [[10, 14]],
      })
      expect(logged).toMatchObject({ intentId: intent.id, features: ['auth'], inserted: true })
      const links = await sql<{ ff: number; inf: number }>`
        select (select count(*) from dstack.file_features where file_id = ${logged.fileId})::int as ff,
               (select count(*) from dstack.intent_features where intent_id = ${intent.id})::int as inf`.execute(
        t.brain.db,
      )
      expect(links.rows[0]).toEqual({ ff: 1, inf: 1 })
      const edit = await t.brain.db
        .selectFrom('edits')
        .selectAll()
        .where('id', '=', logged.editId)
        .executeTakeFirstOrThrow()
      expect(edit).toMatchObject({
        agent_id: 'alice',
        session_id: alice.sessionId,
        hunks: [[10, 14]],
        tool: 'Edit',
      })
    })

    it('is idempotent by id and keeps the time the edit happened', async () => {
      const { alice } = await team()
      const id = randomUUID()
      const at = new Date(Date.now() - 3_600_000)
      const first = await logEdit(t.brain.db, alice, { id, path: 'a.ts', op: 'write', at })
      const replay = await logEdit(t.brain.db, alice, { id, path: 'a.ts', op: 'write', at })
      expect(first.inserted).toBe(true)
      expect(replay).toMatchObject({ inserted: false, editId: id })
      const rows = await t.brain.db
        .selectFrom('edits')
        .select('created_at')
        .where('repo_id', '=', alice.repoId)
        .execute()
      expect(rows).toHaveLength(1)
      expect(rows[0]!.created_at.getTime()).toBe(at.getTime())
    })

    it('refuses paths outside the repository and inverted hunks, writing nothing', async () => {
      const { alice } = await team()
      await expect(logEdit(t.brain.db, alice, { path: '/etc/passwd', op: 'edit' })).rejects.toThrow(
        InvalidInputError,
      )
      await expect(logEdit(t.brain.db, alice, { path: '../x.ts', op: 'edit' })).rejects.toThrow(
        /inside the repository/,
      )
      await expect(logEdit(t.brain.db, alice, { path: 'x.ts', op: 'edit', hunks: [[5, 2]] })).rejects.toThrow(
        /first <= last/,
      )
      const n = await t.brain.db
        .selectFrom('files')
        .select('id')
        .where('repo_id', '=', alice.repoId)
        .execute()
      expect(n).toHaveLength(0)
    })
  })

  describe('presence', () => {
    it('keys presence per session, filters by repo, merges files and never moves back in time', async () => {
      const { alice, bob } = await team()
      const alice2 = { ...alice, sessionId: `a2-${randomUUID()}` }
      await heartbeat(t.brain.db, alice, { status: 'coding', activeFiles: ['a.ts'] })
      await heartbeat(t.brain.db, alice2, { status: 'reviewing' })
      await heartbeat(t.brain.db, bob, { status: 'coding', activeFiles: ['b.ts'] })
      await heartbeat(t.brain.db, alice, { activeFiles: ['c.ts'] })
      // An old replay does not rewind the heartbeat or the status.
      await heartbeat(t.brain.db, alice, { status: 'idle', at: new Date(Date.now() - 60_000) })
      const elsewhere = await resolveScope(t.brain.db, {
        agentId: 'carol',
        sessionId: 'c1',
        repo: `github.com/acme/${randomUUID()}`,
      })
      await heartbeat(t.brain.db, elsewhere, {})

      const seenByBob = await livePresence(t.brain.db, bob)
      expect(seenByBob.map((p) => [p.agent_id, p.status]).sort()).toEqual([
        ['alice', 'coding'],
        ['alice', 'reviewing'],
      ])
      const aliceRow = seenByBob.find((p) => p.session_id === alice.sessionId)!
      expect(aliceRow.active_files).toEqual(['c.ts', 'a.ts'])
      expect(await livePresence(t.brain.db, alice)).toHaveLength(2)
      const inferred = await inferIntent(t.brain.db, alice2, { prompt: 'review the billing refactor please' })
      expect(inferred.action).toBe('created')
      expect(await leave(t.brain.db, alice2)).toBe(true)
      // Leaving pauses what the session's prompts inferred.
      expect(await currentIntent(t.brain.db, alice2)).toBeNull()
      expect((await livePresence(t.brain.db, bob)).map((p) => p.session_id)).toEqual([alice.sessionId])
    })
  })

  describe('handoffs', () => {
    it('writes, lists for the addressee and lets exactly one of two racing agents pick it up', async () => {
      const { alice, bob, repo } = await team()
      const carol = await resolveScope(t.brain.db, {
        agentId: 'carol',
        sessionId: 'c',
        repo,
        branch: 'feat/login',
      })
      await writeIntent(t.brain.db, alice, { title: 'Add rate limiting' })
      await logEdit(t.brain.db, alice, { path: 'src/auth/login.ts', op: 'edit', hunks: [[1, 2]] })
      const handoff = await writeHandoff(t.brain.db, alice, {
        note: 'Rate limit half done',
        nextStep: 'wire the 429 page',
        uncommittedFiles: ['src/auth/login.ts'],
      })
      expect(handoff.branch_name).toBe('feat/login')
      expect((await listHandoffs(t.brain.db, bob)).map((h) => h.id)).toContain(handoff.id)

      const results = await Promise.allSettled([
        pickupHandoff(t.brain.db, bob, { id: handoff.id }),
        pickupHandoff(t.brain.db, carol, { id: handoff.id }),
      ])
      const won = results.filter((r) => r.status === 'fulfilled')
      const lost = results.filter((r) => r.status === 'rejected')
      expect(won).toHaveLength(1)
      expect(lost).toHaveLength(1)
      expect((lost[0] as PromiseRejectedResult).reason).toBeInstanceOf(StateConflictError)
      const picked = (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof pickupHandoff>>>).value
      expect(picked.intent?.title).toBe('Add rate limiting')
      expect(picked.recentEdits.map((e) => e.path)).toEqual(['src/auth/login.ts'])
      expect(picked.handoff.status).toBe('picked_up')
      expect(picked.handoff.picked_up_at).toBeInstanceOf(Date)
      expect(await listHandoffs(t.brain.db, bob)).toEqual([])
      await expect(pickupHandoff(t.brain.db, bob)).rejects.toThrow(NotFoundError)
    })

    it('starts a new automatic handoff once a teammate picked up the session one', async () => {
      const { alice, bob } = await team()
      await writeIntent(t.brain.db, alice, { title: 'Long task' })
      const first = await autoHandoff(t.brain.db, alice, { uncommittedFiles: ['a.ts'] })
      // Alice's own session never picks up its own handoff by default.
      await expect(pickupHandoff(t.brain.db, alice)).rejects.toThrow(NotFoundError)
      await pickupHandoff(t.brain.db, bob, { id: first!.id })
      const next = await autoHandoff(t.brain.db, alice, { uncommittedFiles: ['a.ts', 'b.ts'] })
      const replay = await autoHandoff(t.brain.db, alice, { uncommittedFiles: ['a.ts', 'b.ts'] })
      expect(next!.id).not.toBe(first!.id)
      expect(replay!.id).toBe(next!.id)
      expect(next!.status).toBe('open')
      const taken = await t.brain.db
        .selectFrom('handoffs')
        .selectAll()
        .where('id', '=', first!.id)
        .executeTakeFirstOrThrow()
      expect(taken).toMatchObject({ status: 'picked_up', uncommitted_files: ['a.ts'] })
    })

    it('does not let an agent pick up a handoff addressed to someone else', async () => {
      const { alice, bob, repo } = await team()
      await resolveScope(t.brain.db, { agentId: 'dave', repo })
      const h = await writeHandoff(t.brain.db, alice, { note: 'for dave only', toAgent: 'dave' })
      await expect(pickupHandoff(t.brain.db, bob, { id: h.id })).rejects.toThrow(/addressed to dave/)
      expect(await listHandoffs(t.brain.db, bob)).toEqual([])
    })

    it('keeps one automatic handoff per session, rewritten on every stop, skipped when idle', async () => {
      const { alice, bob } = await team()
      expect(await autoHandoff(t.brain.db, alice, { uncommittedFiles: [] })).toBeNull()
      await writeIntent(t.brain.db, alice, { title: 'Add rate limiting' })
      const first = await autoHandoff(t.brain.db, alice, {
        uncommittedFiles: ['a.ts'],
        lastMessage: 'step 1 done',
      })
      const second = await autoHandoff(t.brain.db, alice, {
        uncommittedFiles: ['a.ts', 'b.ts'],
        lastMessage: 'step 2 done',
      })
      expect(second?.id).toBe(first?.id)
      expect(second?.note).toBe('(auto) Stopped on "Add rate limiting" with 2 uncommitted files')
      expect(second?.next_step).toBe('Last message: step 2 done')
      const all = await t.brain.db
        .selectFrom('handoffs')
        .select('id')
        .where('repo_id', '=', alice.repoId)
        .execute()
      expect(all).toHaveLength(1)
      // Not news to the session that writes it; visible to others.
      expect(await listHandoffs(t.brain.db, alice)).toEqual([])
      expect((await listHandoffs(t.brain.db, bob)).map((h) => h.id)).toEqual([first!.id])
    })
  })

  /** Writes decisions [title, body] in order. */
  async function decideAll(scope: ResolvedScope, decisions: Array<[string, string]>) {
    for (const [title, body] of decisions) await writeDecision(t.brain.db, scope, { title, body })
  }

  describe('decisions', () => {
    it('numbers, links, rewrites with snapshots and timeline, supersedes', async () => {
      const { alice, bob } = await team()
      const intent = await writeIntent(t.brain.db, alice, { title: 'Harden auth' })
      const adr = await writeDecision(t.brain.db, alice, {
        title: 'Hash passwords with bcrypt',
        body: 'bcrypt with cost 12 for all stored passwords',
        files: ['src/auth/hash.ts'],
        features: ['auth'],
      })
      expect(adr.number).toBe(1)
      const revised = await updateDecision(t.brain.db, bob, {
        number: 1,
        body: 'bcrypt with cost 13 after benchmarking',
        reason: 'benchmarked on the VPS',
      })
      expect(revised.version).toBe(2)
      expect(revised.updated_by).toBe('bob')
      const next = await writeDecision(t.brain.db, alice, {
        title: 'Use argon2id for password hashing',
        body: 'argon2id, m=64MiB, t=3',
      })
      expect(next.number).toBe(2)
      await supersedeDecision(t.brain.db, alice, { number: 1, by: 2, reason: 'memory-hard is better' })
      const detail = await getDecision(t.brain.db, alice, 1)
      expect(detail.decision).toMatchObject({ status: 'superseded', superseded_by: next.id, version: 3 })
      expect(detail.timeline.map((e) => e.kind)).toEqual(['authored', 'revised', 'superseded'])
      expect(detail.timeline[1]!.summary).toBe('benchmarked on the VPS')
      expect(detail.versions.map((v) => [v.version, v.body])).toEqual([
        [1, 'bcrypt with cost 12 for all stored passwords'],
        [2, 'bcrypt with cost 13 after benchmarking'],
      ])
      expect(detail.files).toEqual(['src/auth/hash.ts'])
      expect(detail.features).toEqual(['auth'])
      const linkedIntent = await t.brain.db
        .selectFrom('intent_decisions')
        .select('decision_id')
        .where('intent_id', '=', intent.id)
        .execute()
      expect(linkedIntent.map((r) => r.decision_id).sort()).toEqual([adr.id, next.id].sort())
      expect((await getDecision(t.brain.db, alice, 2)).timeline.map((e) => e.kind)).toEqual([
        'authored',
        'supersedes',
      ])

      await expect(getDecision(t.brain.db, alice, 99)).rejects.toThrow(NotFoundError)
      await expect(supersedeDecision(t.brain.db, alice, { number: 2, by: 2, reason: 'x' })).rejects.toThrow(
        InvalidInputError,
      )
      await expect(
        supersedeDecision(t.brain.db, alice, { number: 2, by: 1, reason: 'cycle' }),
      ).rejects.toThrow(StateConflictError)
      await expect(updateDecision(t.brain.db, alice, { number: 2, reason: 'nothing' })).rejects.toThrow(
        /nothing to update/,
      )
    })

    it('searches with full-text ranking, safe with any punctuation', async () => {
      const { alice } = await team()
      await decideAll(alice, [
        ['Use Postgres for the brain', 'one schema, PGlite embedded'],
        ['Rate limiting', 'Limit login attempts per IP; the brain stores counters in Postgres'],
        ['CSS framework', 'tailwind for the dashboard'],
      ])
      const hits = await searchDecisions(t.brain.db, alice, { query: 'postgres brain' })
      expect(hits.map((h) => h.title)).toEqual(['Use Postgres for the brain', 'Rate limiting'])
      expect(hits[0]!.rank).toBeGreaterThan(hits[1]!.rank)
      expect(hits[0]!.snippet).toContain('«')
      // Terms matching only some words still find something; punctuation that broke fstack's filter is inert.
      expect(
        (await searchDecisions(t.brain.db, alice, { query: 'tailwind, (css) or zzz' })).map((h) => h.title),
      ).toEqual(['CSS framework'])
      expect(
        await searchDecisions(t.brain.db, alice, { query: "'); drop table dstack.decisions; --" }),
      ).toEqual([])
      expect(await searchDecisions(t.brain.db, alice, { query: 'the and of' })).toEqual([])
      await expect(searchDecisions(t.brain.db, alice, { query: '   ' })).rejects.toThrow(InvalidInputError)
    })

    it('excludes -words, lifts phrase matches and breaks single-word ties by frequency', async () => {
      const { alice } = await team()
      await decideAll(alice, [
        ['Cache sessions in redis', 'redis for the session cache'],
        ['Cache rendered pages', 'an in-memory cache of pages'],
        ['Timezone column', 'store UTC everywhere'],
        ['Dates in the UI', 'Render dates in the user timezone, taken from the browser'],
      ])
      expect(
        (await searchDecisions(t.brain.db, alice, { query: 'cache -redis' })).map((h) => h.title),
      ).toEqual(['Cache rendered pages'])
      // An excluded phrase excludes the phrase, not each of its words.
      expect(
        (await searchDecisions(t.brain.db, alice, { query: 'cache -"session cache"' })).map((h) => h.title),
      ).toEqual(['Cache rendered pages'])
      expect(
        (await searchDecisions(t.brain.db, alice, { query: 'cache -"rendered session"' }))
          .map((h) => h.title)
          .sort(),
      ).toEqual(['Cache rendered pages', 'Cache sessions in redis'])
      expect((await searchDecisions(t.brain.db, alice, { query: 'user timezone' }))[0]!.title).toBe(
        'Dates in the UI',
      )
    })
  })

  describe('why, audit trail, standup', () => {
    it('finds decisions through the file, its feature and the intents that edited it', async () => {
      const { alice, bob } = await team()
      await writeIntent(t.brain.db, alice, { title: 'Harden auth' })
      const byIntent = await writeDecision(t.brain.db, alice, {
        title: 'Sessions expire after 1h',
        body: 'security',
      })
      await logEdit(t.brain.db, alice, { path: 'src/auth/session.ts', op: 'edit', hunks: [[3, 9]] })
      const byFeature = await writeDecision(t.brain.db, bob, {
        title: 'Auth tokens are opaque',
        body: 'no JWT',
        features: ['auth'],
      })
      const byFile = await writeDecision(t.brain.db, bob, {
        title: 'Session store in redis',
        body: 'redis',
        files: ['src/auth/session.ts'],
      })
      const result = await why(t.brain.db, bob, 'src/auth/session.ts')
      expect(result.known).toBe(true)
      expect(result.features).toEqual(['auth'])
      const via = Object.fromEntries(result.decisions.map((d) => [d.number, d.via]))
      expect(via).toEqual({
        [byFile.number]: ['file'],
        [byFeature.number]: ['feature'],
        [byIntent.number]: ['intent'],
      })
      expect(result.decisions[0]!.number).toBe(byFile.number)
      expect(result.edits).toMatchObject([
        { agent_id: 'alice', intent_title: 'Harden auth', hunks: [[3, 9]] },
      ])
      expect(result.activeIntents).toMatchObject([{ agent_id: 'alice', title: 'Harden auth' }])
      expect(await why(t.brain.db, bob, 'never/seen.ts')).toMatchObject({ known: false, decisions: [] })
    })

    it('gives a chronological trail, filtered to the edits covering a line', async () => {
      const { alice, bob } = await team()
      const base = Date.now() - 10_000
      await logEdit(t.brain.db, alice, { path: 'x.ts', op: 'edit', hunks: [[1, 5]], at: new Date(base) })
      await logEdit(t.brain.db, bob, {
        path: 'x.ts',
        op: 'edit',
        hunks: [[40, 45]],
        at: new Date(base + 1000),
      })
      await recordPush(t.brain.db, alice, { headSha: 'abcdef1', at: new Date(base + 2000) })
      const trail = await auditTrail(t.brain.db, bob, 'x.ts')
      expect(trail.map((e) => [e.kind, e.agent_id])).toEqual([
        ['edit', 'alice'],
        ['edit', 'bob'],
        ['push', 'alice'],
      ])
      const line42 = await auditTrail(t.brain.db, bob, 'x.ts', { line: 42 })
      expect(line42.filter((e) => e.kind === 'edit').map((e) => e.agent_id)).toEqual(['bob'])
    })

    it('summarises the day', async () => {
      const { alice, bob } = await team()
      await writeIntent(t.brain.db, alice, { title: 'Done thing' })
      await shipIntent(t.brain.db, alice)
      await writeIntent(t.brain.db, bob, { title: 'Ongoing thing' })
      await logEdit(t.brain.db, bob, { path: 'a.ts', op: 'edit' })
      await logEdit(t.brain.db, bob, { path: 'b.ts', op: 'edit' })
      const day = await standup(t.brain.db, alice, { window: 'day' })
      expect(day.shipped.map((s) => s.title)).toEqual(['Done thing'])
      expect(day.active.map((s) => s.title)).toEqual(['Ongoing thing'])
      expect(day.edits).toEqual([{ agent_id: 'bob', repo: alice.repo, edits: 2, files: 2 }])
    })
  })

  describe('deploys', () => {
    const hour = 3_600_000
    const deploy = (service: string, overrides: Partial<Parameters<typeof logDeploy>[2]> = {}) => ({
      service,
      target: 'ssh://deploy@vps1:22',
      release: '20261123T153012Z-3f2a9c1e0b',
      outcome: 'deployed' as const,
      durationMs: 1_500,
      startedAt: new Date(Date.now() - 2 * hour),
      ...overrides,
    })

    it('logs deploys in the scope, lists them newest first and filters by service', async () => {
      const { alice, bob } = await team()
      const api = `api-${randomUUID()}`
      const web = `web-${randomUUID()}`
      const first = await logDeploy(t.brain.db, alice, {
        ...deploy(api, { finishedAt: new Date(Date.now() - hour) }),
        steps: [
          { id: 'upload', status: 'ok', durationMs: 900 },
          { id: 'health', status: 'ok', durationMs: 600 },
        ],
      })
      const second = await logDeploy(
        t.brain.db,
        bob,
        deploy(api, {
          release: '20261123T170000Z-aaaaaaaaaa',
          previousRelease: '20261123T153012Z-3f2a9c1e0b',
          outcome: 'rolled-back',
          reason: 'health check failed: GET /healthz 502',
          startedAt: new Date(Date.now() - 60_000),
        }),
      )
      const third = await logDeploy(t.brain.db, alice, deploy(web, { outcome: 'failed', target: 'local' }))
      expect(first.inserted && second.inserted && third.inserted).toBe(true)

      const all = await listDeploys(t.brain.db, alice)
      expect(all.map((d) => d.id)).toEqual([third.deployId, second.deployId, first.deployId])
      const apiOnly = await listDeploys(t.brain.db, bob, { service: api })
      expect(apiOnly.map((d) => [d.id, d.agent_id, d.outcome])).toEqual([
        [second.deployId, 'bob', 'rolled-back'],
        [first.deployId, 'alice', 'deployed'],
      ])
      expect(apiOnly[0]).toMatchObject({
        repo_id: alice.repoId,
        previous_release: '20261123T153012Z-3f2a9c1e0b',
        reason: 'health check failed: GET /healthz 502',
        steps: [],
      })
      expect(apiOnly[1]).toMatchObject({
        target: 'ssh://deploy@vps1:22',
        previous_release: null,
        duration_ms: 1_500,
        steps: [
          { id: 'upload', status: 'ok', duration_ms: 900 },
          { id: 'health', status: 'ok', duration_ms: 600 },
        ],
      })
      expect(apiOnly[1]!.finished_at.getTime()).toBeLessThan(apiOnly[0]!.finished_at.getTime())
      expect(await listDeploys(t.brain.db, alice, { service: api, limit: 1 })).toHaveLength(1)
      // Another repository's scope does not see them; the team-wide log does.
      const elsewhere = await resolveScope(t.brain.db, {
        agentId: 'alice',
        repo: `github.com/acme/${randomUUID()}`,
      })
      expect(await listDeploys(t.brain.db, elsewhere, { service: api })).toEqual([])
      expect(await listDeploys(t.brain.db, elsewhere, { service: api, allRepos: true })).toHaveLength(2)
    })

    it('logs a deploy made outside any known repository, registering an unknown agent', async () => {
      const service = `cron-${randomUUID()}`
      const agentId = `deployer-${randomUUID().slice(0, 8)}`
      const logged = await logDeploy(t.brain.db, { agentId }, deploy(service, { target: 'local' }))
      const rows = await listDeploys(t.brain.db, { agentId }, { service })
      expect(rows.map((d) => [d.id, d.repo_id, d.agent_id])).toEqual([[logged.deployId, null, agentId]])
      const agent = await t.brain.db.selectFrom('agents').select('id').where('id', '=', agentId).execute()
      expect(agent).toEqual([{ id: agentId }])
    })

    it('is idempotent by id', async () => {
      const { alice } = await team()
      const id = randomUUID()
      const service = `api-${randomUUID()}`
      expect(await logDeploy(t.brain.db, alice, { ...deploy(service), id })).toEqual({
        deployId: id,
        inserted: true,
      })
      expect(await logDeploy(t.brain.db, alice, { ...deploy(service), id })).toEqual({
        deployId: id,
        inserted: false,
      })
      expect(await listDeploys(t.brain.db, alice, { service })).toHaveLength(1)
    })

    it('refuses bad and oversized input with a clear error, storing nothing', async () => {
      const { alice } = await team()
      const service = `api-${randomUUID()}`
      const refused = async (input: unknown) => {
        const error = await logDeploy(t.brain.db, alice, input as never).catch((e: unknown) => e)
        expect(error).toBeInstanceOf(InvalidInputError)
        return (error as Error).message
      }
      expect(await refused(deploy(service, { outcome: 'exploded' as never }))).toMatch(
        /^invalid deploy: outcome: .*"deployed"\|"rolled-back"\|"aborted"\|"failed"\|"refused"/,
      )
      expect(await refused(deploy(service, { durationMs: -1 }))).toMatch(/^invalid deploy: durationMs: .*>=0/)
      expect(await refused(deploy(service, { durationMs: 1.5 }))).toMatch(/durationMs: .*expected int/)
      expect(await refused(deploy('   '))).toMatch(/service: /)
      expect(await refused({ ...deploy(service), startedAt: undefined })).toMatch(/startedAt: /)
      expect(await refused({ ...deploy(service), extra: 1 })).toMatch(/Unrecognized key: "extra"/)
      expect(
        await refused(deploy(service, { steps: [{ id: 'upload', status: 'ok', durationMs: -5 }] })),
      ).toMatch(/steps\.0\.durationMs: /)
      // About 10 MB of steps, and a 10 MB reason: refused at the boundary, the error stays short.
      const steps = Array.from({ length: 200_000 }, (_, i) => ({
        id: `step-${i}`,
        status: 'ok',
        durationMs: i,
      }))
      expect(JSON.stringify(steps).length).toBeGreaterThan(10_000_000)
      const huge = await refused(deploy(service, { steps }))
      expect(huge).toMatch(/^invalid deploy: steps: .*500/)
      expect(huge.length).toBeLessThan(200)
      expect(await refused(deploy(service, { reason: 'x'.repeat(10_000_000) }))).toMatch(/reason: /)
      expect(await refused(deploy('s'.repeat(201)))).toMatch(/service: /)
      await expect(logDeploy(t.brain.db, { agentId: 'Bad Handle' }, deploy(service))).rejects.toThrow(
        /invalid deploy scope: agentId: /,
      )
      await expect(listDeploys(t.brain.db, alice, { limit: 0 })).rejects.toThrow(InvalidInputError)
      const stored = await t.brain.db
        .selectFrom('deploys')
        .select('id')
        .where('service', '=', service)
        .execute()
      expect(stored).toEqual([])
    })

    it('keeps the log append-only: update and delete are refused', async () => {
      const { alice } = await team()
      const service = `api-${randomUUID()}`
      const { deployId } = await logDeploy(t.brain.db, alice, deploy(service))
      const update = await t.brain.db
        .updateTable('deploys')
        .set({ outcome: 'failed' })
        .where('id', '=', deployId)
        .execute()
        .catch((e: unknown) => translateError(e))
      expect(update).toBeInstanceOf(AppendOnlyError)
      expect((update as Error).message).toMatch(/dstack\.deploys is append-only: update refused/)
      const del = await t.brain.db
        .deleteFrom('deploys')
        .where('id', '=', deployId)
        .execute()
        .catch((e: unknown) => translateError(e))
      expect(del).toBeInstanceOf(AppendOnlyError)
      expect((del as Error).message).toMatch(/dstack\.deploys is append-only: delete refused/)
      expect(await listDeploys(t.brain.db, alice, { service })).toMatchObject([
        { id: deployId, outcome: 'deployed' },
      ])
    })

    it('the database refuses what the boundary would, for writers that bypass it', async () => {
      const { alice } = await team()
      const row = {
        agent_id: 'alice',
        repo_id: alice.repoId,
        service: `api-${randomUUID()}`,
        target: 'local',
        release: 'r1',
        outcome: 'deployed' as const,
        duration_ms: 1,
        started_at: new Date(),
      }
      const insert = (values: Record<string, unknown>) =>
        t.brain.db
          .insertInto('deploys')
          .values({ ...row, ...values } as typeof row)
          .execute()
      await expect(insert({ outcome: 'exploded' })).rejects.toMatchObject({ code: '23514' })
      await expect(insert({ duration_ms: -1 })).rejects.toMatchObject({ code: '23514' })
      await expect(insert({ service: '' })).rejects.toMatchObject({ code: '23514' })
      await expect(insert({ steps: '{"id":"x"}' })).rejects.toMatchObject({ code: '23514' })
      await expect(insert({ steps: JSON.stringify(['x'.repeat(1_100_000)]) })).rejects.toMatchObject({
        code: '23514',
      })
    })
  })

  describe('team digest', () => {
    it('shows others in this repo only, within budget, as facts', async () => {
      const { alice, bob } = await team()
      await writeIntent(t.brain.db, bob, { title: 'Stripe invoices' })
      await logEdit(t.brain.db, bob, { path: 'src/billing/invoice.ts', op: 'edit' })
      await heartbeat(t.brain.db, bob, { status: 'coding', activeFiles: ['src/billing/invoice.ts'] })
      await writeHandoff(t.brain.db, bob, { note: 'Invoices need a PDF renderer', toAgent: 'alice' })
      await writeDecision(t.brain.db, bob, { title: 'Invoices are immutable', body: 'credit notes instead' })
      const digest = await teamDigest(t.brain.db, alice)
      expect(digest.presence.map((p) => p.agent_id)).toEqual(['bob'])
      expect(digest.intents).toMatchObject([
        { agent_id: 'bob', title: 'Stripe invoices', files: ['src/billing/invoice.ts'] },
      ])
      expect(digest.handoffs.map((h) => h.note)).toEqual(['Invoices need a PDF renderer'])
      const text = renderDigest(digest)
      expect(text).toContain('bob: "Stripe invoices"')
      expect(text).toContain('ADR-1 [accepted] Invoices are immutable')
      expect(text).toContain('Invoices need a PDF renderer')
      expect(text.length).toBeLessThanOrEqual(6_000)
    })

    it('trims the digest to the budget, saying what was left out', async () => {
      const { alice, repo } = await team()
      for (let i = 0; i < 60; i++) {
        const other = await resolveScope(t.brain.db, { agentId: `agent${i}`, sessionId: `s${i}`, repo })
        await writeIntent(t.brain.db, other, { title: `Intent number ${i} ${'x'.repeat(150)}` })
      }
      const digest = await teamDigest(t.brain.db, alice, { intents: 60 })
      const text = renderDigest(digest, { maxChars: 2_000 })
      expect(text.length).toBeLessThanOrEqual(2_000)
      expect(text).toMatch(/… \d+ more not shown/)
      expect(renderDigest(digest, { maxChars: 50_000 }).length).toBeLessThanOrEqual(10_000)
    })
  })

  describe('conflict pre-check', () => {
    async function setup() {
      const { alice, bob } = await team()
      await writeIntent(t.brain.db, bob, { title: 'Stripe invoices' })
      await logEdit(t.brain.db, bob, { path: 'src/shared/money.ts', op: 'edit', hunks: [[20, 30]] })
      await logEdit(t.brain.db, bob, { path: 'src/billing/invoice.ts', op: 'edit', hunks: [[1, 10]] })
      return { alice, bob, repo: alice.repo }
    }

    it('reports hunk-level and file-level overlaps with who, when and intent', async () => {
      const { alice } = await setup()
      const result = await conflictPrecheck(t.brain.db, alice, [
        { path: 'src/shared/money.ts', added: [[25, 27]], removed: [] },
        { path: 'src/billing/invoice.ts', added: [[200, 210]], removed: [] },
        { path: 'src/auth/login.ts', added: [[1, 1]], removed: [] },
      ])
      expect(result).toMatchObject({ files: 3, hunkOverlaps: 1, fileOverlaps: 1 })
      const money = result.overlaps.find((o) => o.path === 'src/shared/money.ts')!
      expect(money).toMatchObject({
        agent_id: 'bob',
        intent_title: 'Stripe invoices',
        reason: 'active-intent',
        level: 'hunk',
        theirHunks: [[20, 30]],
        ourHunks: [[25, 27]],
        branch_name: 'feat/billing',
      })
      expect(result.overlaps.find((o) => o.path === 'src/billing/invoice.ts')?.level).toBe('file')
    })

    it('ignores my own edits and published work, counts unpushed edits without an intent', async () => {
      const { alice, bob, repo } = await setup()
      await logEdit(t.brain.db, alice, { path: 'src/shared/money.ts', op: 'edit', hunks: [[25, 27]] })
      // Carol edits with no intent at all: unpublished until she pushes.
      const carol = await resolveScope(t.brain.db, {
        agentId: 'carol',
        sessionId: 'c',
        repo,
        branch: 'fix/x',
      })
      await logEdit(t.brain.db, carol, { path: 'src/shared/money.ts', op: 'edit', hunks: [[26, 26]] })
      const change = [{ path: 'src/shared/money.ts', added: [[25, 27]] as Array<[number, number]> }]
      let result = await conflictPrecheck(t.brain.db, alice, change)
      expect(result.overlaps.map((o) => [o.agent_id, o.reason]).sort()).toEqual([
        ['bob', 'active-intent'],
        ['carol', 'unpushed'],
      ])
      // Bob ships (his work is published or merged); Carol pushes her branch.
      await shipIntent(t.brain.db, bob)
      await recordPush(t.brain.db, carol, { headSha: 'abc1234' })
      result = await conflictPrecheck(t.brain.db, alice, change)
      expect(result.overlaps).toEqual([])
      // A later edit of Carol's, after her push, counts again.
      await logEdit(t.brain.db, carol, { path: 'src/shared/money.ts', op: 'edit', hunks: [[27, 27]] })
      result = await conflictPrecheck(t.brain.db, alice, change)
      expect(result.overlaps.map((o) => o.agent_id)).toEqual(['carol'])
    })

    it('clears edits their agent has pushed, even under an intent still active', async () => {
      const { alice, bob } = await setup()
      const change = [{ path: 'src/shared/money.ts', added: [[25, 27]] as Array<[number, number]> }]
      expect((await conflictPrecheck(t.brain.db, alice, change)).overlaps).toMatchObject([
        { agent_id: 'bob', reason: 'active-intent', edit_count: 1 },
      ])
      await recordPush(t.brain.db, bob, { headSha: 'def5678' })
      expect((await conflictPrecheck(t.brain.db, alice, change)).overlaps).toEqual([])
    })

    it('checks renames under their old path and refuses malformed changes', async () => {
      const { alice } = await setup()
      const result = await conflictPrecheck(t.brain.db, alice, [
        { path: 'src/shared/currency.ts', oldPath: 'src/shared/money.ts', added: [], removed: [[22, 22]] },
      ])
      expect(result.overlaps.map((o) => [o.path, o.level])).toEqual([['src/shared/money.ts', 'hunk']])
      await expect(
        conflictPrecheck(t.brain.db, alice, [{ path: '/abs.ts', added: [[1, 2]] }] as never),
      ).rejects.toThrow(InvalidInputError)
      expect(await conflictPrecheck(t.brain.db, alice, [])).toMatchObject({ files: 0, overlaps: [] })
    })
  })
})

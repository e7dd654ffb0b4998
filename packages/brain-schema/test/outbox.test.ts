import { type ChildProcess, fork } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { tryLock } from '@dstack/daemon'
import { Kysely, PostgresDialect, sql } from 'kysely'
import pg from 'pg'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { Database } from '../src/database.generated.ts'
import { appendToOutbox, ENTRY_FILE, pendingCount } from '../src/outbox/append.ts'
import { flushOutbox } from '../src/outbox/flush.ts'
import { freshBrain, type TestBrain } from '../src/testing.ts'

const child = join(import.meta.dirname, 'support/outbox-child.ts')

/** Starts the helper; `exited` is created at once so an exit before anyone awaits it is not missed. */
function run(args: string[]): { proc: ChildProcess; exited: Promise<number | null> } {
  const proc = fork(child, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  return { proc, exited: new Promise((resolve) => proc.once('exit', (code) => resolve(code))) }
}

const entryFiles = (dir: string) => readdirSync(dir).filter((n) => ENTRY_FILE.test(n))

// The outbox is driver-agnostic (it only calls operations); its faults are exercised on the Postgres server, which
// is also the one a test can make unreachable. The operations themselves run on both drivers in operations.test.ts.
describe('outbox', () => {
  let t: TestBrain
  let dir: string
  let repo: string
  beforeAll(async () => {
    t = await freshBrain('postgres')
  })
  afterAll(() => t.dispose())
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dstack-outbox-'))
    repo = `github.com/acme/${randomUUID()}`
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  const where = () => ({ canonical: repo, branch: 'main' })
  const countEdits = async () =>
    Number(
      (
        await sql<{
          n: number
        }>`select count(*)::int as n from dstack.edits e join dstack.repos r on r.id = e.repo_id
          where r.canonical = ${repo}`.execute(t.brain.db)
      ).rows[0]!.n,
    )

  it('appends one 0600 file per entry and flushes every kind into the brain, oldest first', async () => {
    const session = 'sess-1'
    appendToOutbox(dir, {
      kind: 'prompt',
      prompt: 'Add rate limiting to the login endpoint',
      session,
      repo: where(),
    })
    appendToOutbox(dir, {
      kind: 'edit',
      path: 'src/auth/login.ts',
      op: 'edit',
      hunks: [[3, 4]],
      session,
      repo: where(),
    })
    appendToOutbox(dir, { kind: 'push', headSha: 'abcdef1', remote: 'origin', session, repo: where() })
    appendToOutbox(dir, { kind: 'stop', uncommittedFiles: ['src/auth/login.ts'], session, repo: where() })
    expect(pendingCount(dir)).toBe(4)
    const name = entryFiles(dir)[0]!
    expect((await import('node:fs')).statSync(join(dir, name)).mode & 0o777).toBe(0o600)

    const result = await flushOutbox(t.brain.db, { dir, agentId: 'alice', machine: 'm1' })
    expect(result).toEqual({ applied: 4, dead: 0, remaining: 0, busy: false, interrupted: null })
    const edit = await t.brain.db
      .selectFrom('edits as e')
      .innerJoin('intents as i', 'i.id', 'e.intent_id')
      .select(['e.agent_id', 'e.session_id', 'i.title', 'e.hunks'])
      .where('e.session_id', '=', session)
      .executeTakeFirstOrThrow()
    // The prompt's intent existed before the edit was applied: order was kept.
    expect(edit).toEqual({
      agent_id: 'alice',
      session_id: session,
      title: 'Add rate limiting to the login endpoint',
      hunks: [[3, 4]],
    })
    const handoff = await t.brain.db
      .selectFrom('handoffs')
      .select(['note', 'uncommitted_files'])
      .where('session_id', '=', session)
      .executeTakeFirstOrThrow()
    expect(handoff.uncommitted_files).toEqual(['src/auth/login.ts'])
    const presence = await t.brain.db
      .selectFrom('presence')
      .select(['status', 'machine'])
      .where('session_id', '=', session)
      .executeTakeFirstOrThrow()
    expect(presence).toEqual({ status: 'idle', machine: 'm1' })
    expect(entryFiles(dir)).toEqual([])

    appendToOutbox(dir, { kind: 'leave', session, repo: where() })
    await flushOutbox(t.brain.db, { dir, agentId: 'alice' })
    expect(
      await t.brain.db.selectFrom('presence').select('agent_id').where('session_id', '=', session).execute(),
    ).toEqual([])
  })

  it('re-applying a committed batch (crash before its files were deleted) duplicates nothing', async () => {
    for (let i = 0; i < 50; i++) {
      appendToOutbox(dir, { kind: 'edit', path: `f${i}.ts`, op: 'write', session: 's', repo: where() })
    }
    const copy = mkdtempSync(join(tmpdir(), 'dstack-outbox-copy-'))
    cpSync(dir, copy, { recursive: true })
    await flushOutbox(t.brain.db, { dir, agentId: 'alice' })
    cpSync(copy, dir, { recursive: true })
    rmSync(copy, { recursive: true, force: true })
    const again = await flushOutbox(t.brain.db, { dir, agentId: 'alice' })
    expect(again.applied).toBe(50)
    expect(await countEdits()).toBe(50)
  })

  it('a flusher killed mid-flush loses nothing and duplicates nothing; its stale lock does not block the next', async () => {
    const total = 300
    for (let i = 0; i < total; i++) {
      appendToOutbox(dir, { kind: 'edit', path: `k${i}.ts`, op: 'write', session: 's', repo: where() })
    }
    const flusher = run(['flush', dir, JSON.stringify(t.config)])
    await new Promise<void>((resolve) => flusher.proc.once('message', () => resolve()))
    // Let it commit some entries, then kill it without a chance to clean up.
    while (pendingCount(dir) > total - 40) await sleep(5)
    flusher.proc.kill('SIGKILL')
    await flusher.exited
    const partly = await countEdits()
    expect(partly).toBeGreaterThan(0)
    expect(partly).toBeLessThan(total)

    const result = await flushOutbox(t.brain.db, { dir, agentId: 'alice' })
    expect(result.busy).toBe(false)
    expect(result.remaining).toBe(0)
    expect(await countEdits()).toBe(total)
  })

  it('entries appended by other processes during a flush are kept for the next one', async () => {
    for (let i = 0; i < 1000; i++) {
      appendToOutbox(dir, { kind: 'edit', path: `early/${i}.ts`, op: 'write', session: 's', repo: where() })
    }
    const appenders = [run(['append', dir, '250', repo]), run(['append', dir, '250', repo])]
    const first = await flushOutbox(t.brain.db, { dir, agentId: 'alice', batchSize: 50 })
    await Promise.all(appenders.map((a) => a.exited))
    const second = await flushOutbox(t.brain.db, { dir, agentId: 'alice' })
    expect(first.applied + second.applied).toBe(1500)
    expect(await countEdits()).toBe(1500)
    expect(pendingCount(dir)).toBe(0)
  })

  it('keeps everything while the brain is down for an hour, then applies it with the original times', async () => {
    const hourAgo = new Date(Date.now() - 3_600_000)
    for (let i = 0; i < 20; i++) {
      appendToOutbox(dir, {
        kind: 'edit',
        path: `down/${i}.ts`,
        op: 'edit',
        session: 's',
        repo: where(),
        at: new Date(hourAgo.getTime() + i * 1000),
      })
    }
    // Nothing listens on port 1: every query fails with ECONNREFUSED, as when the server is down.
    const down = new Kysely<Database>({
      dialect: new PostgresDialect({
        pool: new pg.Pool({ host: '127.0.0.1', port: 1, user: 'postgres', connectionTimeoutMillis: 500 }),
      }),
    }).withSchema('dstack')
    const failed = await flushOutbox(down, { dir, agentId: 'alice' })
    await down.destroy()
    expect(failed.applied).toBe(0)
    expect(failed.remaining).toBe(20)
    expect(failed.interrupted).toMatch(/ECONNREFUSED|connect/)
    expect(readdirSync(dir).filter((n) => n === '.flush.lock')).toEqual([])

    const result = await flushOutbox(t.brain.db, { dir, agentId: 'alice' })
    expect(result).toMatchObject({ applied: 20, remaining: 0 })
    const oldest = await sql<{ at: Date }>`select min(e.created_at) as at from dstack.edits e
      join dstack.repos r on r.id = e.repo_id where r.canonical = ${repo}`.execute(t.brain.db)
    expect(oldest.rows[0]!.at.getTime()).toBe(hourAgo.getTime())
  })

  it('sets aside broken and refused entries with the reason, and applies the rest', async () => {
    appendToOutbox(dir, { kind: 'edit', path: 'good.ts', op: 'edit', session: 's', repo: where() })
    const badPath = appendToOutbox(dir, {
      kind: 'edit',
      path: '/etc/passwd',
      op: 'edit',
      session: 's',
      repo: where(),
    })
    writeFileSync(join(dir, `${'9'.repeat(15)}-0000001-000001-${randomUUID()}.json`), '{"v":1,"id":')
    // Passes zod, refused by Postgres (text cannot hold NUL: SQLSTATE 22021): set aside alone, not with its batch.
    const nul = appendToOutbox(dir, {
      kind: 'edit',
      path: 'a\u0000b.ts',
      op: 'edit',
      session: 's',
      repo: where(),
    })
    const result = await flushOutbox(t.brain.db, { dir, agentId: 'alice' })
    expect(result).toMatchObject({ applied: 1, dead: 3, remaining: 0 })
    const dead = readdirSync(join(dir, 'dead'))
    expect(dead.filter((n) => n.endsWith('.json'))).toHaveLength(3)
    const reason = (id: string) =>
      readFileSync(
        join(dir, 'dead', `${dead.find((n) => n.includes(id) && n.endsWith('.json'))}.error.txt`),
        'utf8',
      )
    expect(reason(badPath)).toMatch(/invalid entry: path: must be relative/)
    expect(reason(nul)).toMatch(/refused by the brain: .*0x00/)
    expect(await countEdits()).toBe(1)
  })

  it('sets aside an entry any error refuses for good (not only bad data), without blocking the ones after it', async () => {
    // A 4,000-byte incompressible path passes validation but overflows Postgres' btree entry limit (SQLSTATE 54000).
    const huge = appendToOutbox(dir, {
      kind: 'edit',
      path: `${randomBytes(1_995).toString('hex')}/x.ts`,
      op: 'edit',
      session: 's',
      repo: where(),
    })
    for (let i = 0; i < 5; i++)
      appendToOutbox(dir, { kind: 'edit', path: `after/${i}.ts`, op: 'edit', session: 's', repo: where() })
    const result = await flushOutbox(t.brain.db, { dir, agentId: 'alice' })
    expect(result).toMatchObject({ applied: 5, dead: 1, remaining: 0, interrupted: null })
    expect(readdirSync(join(dir, 'dead')).some((n) => n.includes(huge))).toBe(true)
    expect(await countEdits()).toBe(5)
  })

  it('returns at once when another flusher holds the lock', async () => {
    appendToOutbox(dir, { kind: 'edit', path: 'x.ts', op: 'edit', session: 's', repo: where() })
    const held = tryLock(join(dir, '.flush.lock'), 'test')
    if (!held.acquired) throw new Error('could not take the lock')
    try {
      expect(await flushOutbox(t.brain.db, { dir, agentId: 'alice' })).toMatchObject({
        busy: true,
        remaining: 1,
      })
    } finally {
      held.lock.release()
    }
    expect(await flushOutbox(t.brain.db, { dir, agentId: 'alice' })).toMatchObject({
      applied: 1,
      remaining: 0,
    })
  })

  it('treats a missing outbox directory as empty', async () => {
    expect(await flushOutbox(t.brain.db, { dir: join(dir, 'nope'), agentId: 'alice' })).toMatchObject({
      applied: 0,
      remaining: 0,
    })
  })
})

import { randomUUID } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { sql } from 'kysely'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocketServer } from 'ws'
import { writeHandoff } from '../src/ops/handoffs.ts'
import { writeIntent } from '../src/ops/intents.ts'
import { heartbeat } from '../src/ops/presence.ts'
import { resolveScope } from '../src/ops/scope.ts'
import { type BrainChange, listenBrain, subscribeSupabase } from '../src/realtime.ts'
import { DRIVERS, freshBrain, type TestBrain } from '../src/testing.ts'

async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for changes')
    await sleep(20)
  }
}

describe.each(DRIVERS)('dstack watch over LISTEN on %s', (kind) => {
  let t: TestBrain
  beforeAll(async () => {
    t = await freshBrain(kind)
  })
  afterAll(() => t.dispose())

  it('streams changes of this repository only, from other connections, until closed', async () => {
    const here = await resolveScope(t.brain.db, {
      agentId: 'alice',
      sessionId: 's1',
      repo: `github.com/a/${randomUUID()}`,
    })
    const elsewhere = await resolveScope(t.brain.db, {
      agentId: 'bob',
      sessionId: 's2',
      repo: `github.com/a/${randomUUID()}`,
    })
    const seen: BrainChange[] = []
    const sub = await listenBrain(t.brain, { repoId: here.repoId, onChange: (c) => seen.push(c) })
    expect(sub.source).toBe('pg-listen')
    const intent = await writeIntent(t.brain.db, here, { title: 'Rate limiting' })
    await heartbeat(t.brain.db, elsewhere, { status: 'coding' })
    await heartbeat(t.brain.db, here, { status: 'coding' })
    await writeHandoff(t.brain.db, here, { note: 'half done' })
    await until(() => seen.length >= 3)
    await sleep(100)
    expect(seen.map((c) => [c.table, c.op])).toEqual([
      ['intents', 'insert'],
      ['presence', 'insert'],
      ['handoffs', 'insert'],
    ])
    expect(seen[0]).toMatchObject({ id: intent.id, agent_id: 'alice', repo_id: here.repoId })
    expect(seen.every((c) => c.repo_id === here.repoId)).toBe(true)
    await sub.close()
    await heartbeat(t.brain.db, here, { status: 'idle' })
    await sleep(100)
    expect(seen).toHaveLength(3)
  })

  it('sends whole presence rows on delete, so a session that left can be placed by repository', async () => {
    const { rows } = await sql<{ identity: string }>`
      select relreplident as identity from pg_class where oid = 'dstack.presence'::regclass`.execute(
      t.brain.db,
    )
    expect(rows[0]!.identity).toBe('f')
  })

  it('filters by table', async () => {
    const here = await resolveScope(t.brain.db, {
      agentId: 'alice',
      sessionId: 's3',
      repo: `github.com/a/${randomUUID()}`,
    })
    const seen: BrainChange[] = []
    const sub = await listenBrain(t.brain, {
      repoId: here.repoId,
      tables: ['handoffs'],
      onChange: (c) => seen.push(c),
    })
    await writeIntent(t.brain.db, here, { title: 'x y z' })
    await writeHandoff(t.brain.db, here, { note: 'only this' })
    await until(() => seen.length >= 1)
    await sleep(100)
    await sub.close()
    expect(seen.map((c) => c.table)).toEqual(['handoffs'])
  })
})

/**
 * TEST DOUBLE for Supabase Realtime (the hosted service cannot run here): a WebSocket server speaking the Phoenix
 * channel protocol (v2 JSON array frames) that supabase-js uses, which answers a channel join with ids for its
 * postgres_changes bindings and forwards the REAL database's dstack_brain notifications as postgres_changes events.
 */
async function fakeRealtime(pgConfig: pg.ClientConfig) {
  const listener = new pg.Client(pgConfig)
  await listener.connect()
  await listener.query('listen dstack_brain')
  const http: Server = createServer((_, res) => res.writeHead(404).end())
  const wss = new WebSocketServer({ noServer: true })
  const joins: Array<{ url: string }> = []
  http.on('upgrade', (request, socket, head) => {
    if (!request.url?.startsWith('/realtime/v1/websocket')) return socket.destroy()
    joins.push({ url: request.url })
    wss.handleUpgrade(request, socket, head, (ws) => {
      const channels: Array<{
        topic: string
        joinRef: string
        bindings: Array<{ id: number; table: string }>
      }> = []
      ws.on('message', (data) => {
        const [joinRef, ref, topic, event, payload] = JSON.parse(String(data)) as [
          string,
          string,
          string,
          string,
          { config?: { postgres_changes?: Array<{ event: string; schema: string; table: string }> } },
        ]
        const reply = (response: unknown) =>
          ws.send(JSON.stringify([joinRef, ref, topic, 'phx_reply', { status: 'ok', response }]))
        if (event === 'phx_join') {
          const bindings = (payload.config?.postgres_changes ?? []).map((b, i) => ({ ...b, id: 1000 + i }))
          channels.push({ topic, joinRef, bindings })
          reply({ postgres_changes: bindings })
        } else {
          reply({})
        }
      })
      listener.on('notification', (message) => {
        const change = JSON.parse(message.payload!) as Record<string, string>
        const record = {
          id: change.id,
          repo_id: change.repo_id,
          agent_id: change.agent_id,
          session_id: change.session_id,
        }
        const columns = Object.keys(record).map((name) => ({ name, type: 'text' }))
        for (const channel of channels) {
          const ids = channel.bindings.filter((b) => b.table === change.table).map((b) => b.id)
          if (ids.length === 0) continue
          const type = change.op!.toUpperCase()
          ws.send(
            JSON.stringify([
              null,
              null,
              channel.topic,
              'postgres_changes',
              {
                ids,
                data: {
                  schema: 'dstack',
                  table: change.table,
                  commit_timestamp: new Date().toISOString(),
                  type,
                  columns,
                  record: type === 'DELETE' ? {} : record,
                  old_record: type === 'INSERT' ? {} : record,
                  errors: null,
                },
              },
            ]),
          )
        }
      })
    })
  })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    joins,
    async close() {
      for (const client of wss.clients) client.terminate()
      await new Promise((resolve) => http.close(resolve))
      await listener.end()
    },
  }
}

describe('dstack watch over Supabase Realtime (against a test double of the service)', () => {
  let t: TestBrain
  beforeAll(async () => {
    t = await freshBrain('postgres')
  })
  afterAll(() => t.dispose())

  it('subscribes to postgres_changes on the dstack schema and maps them to brain changes', async () => {
    const realtime = await fakeRealtime(t.pgConfig)
    try {
      const here = await resolveScope(t.brain.db, {
        agentId: 'alice',
        sessionId: 's1',
        repo: `github.com/a/${randomUUID()}`,
      })
      const seen: BrainChange[] = []
      const sub = await subscribeSupabase({
        url: realtime.url,
        key: 'test-anon-key-0123456789abcdef',
        repoId: here.repoId,
        tables: ['intents', 'handoffs'],
        onChange: (c) => seen.push(c),
      })
      expect(sub.source).toBe('supabase-realtime')
      expect(realtime.joins[0]!.url).toContain('apikey=test-anon-key-0123456789abcdef')
      const intent = await writeIntent(t.brain.db, here, { title: 'Through realtime' })
      await heartbeat(t.brain.db, here, { status: 'coding' })
      await writeHandoff(t.brain.db, here, { note: 'realtime handoff' })
      await until(() => seen.length >= 2)
      await sleep(100)
      expect(seen.map((c) => [c.table, c.op])).toEqual([
        ['intents', 'insert'],
        ['handoffs', 'insert'],
      ])
      expect(seen[0]).toMatchObject({ id: intent.id, agent_id: 'alice', repo_id: here.repoId })
      await sub.close()
    } finally {
      await realtime.close()
    }
  })

  it('fails clearly when the service refuses the connection', async () => {
    await expect(
      subscribeSupabase({
        url: 'http://127.0.0.1:1',
        key: 'test-anon-key-0123456789abcdef',
        onChange: () => {},
      }),
    ).rejects.toThrow(/Supabase Realtime/)
  }, 60_000)
})

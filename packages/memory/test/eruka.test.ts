// ErukaProvider: the conformance suite against the openeruka test double (with and without /api/v1/search), the
// reference's contract checklist (C.7) as direct client-against-double tests, retries and failures, and the
// conformance suite against a real server when ERUKA_URL is set.
import { randomUUID } from 'node:crypto'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { MemoryConflictError, MemoryUnavailableError } from '../src/errors.ts'
import { ErukaHttpError, ErukaProvider, erukaSource, UNKNOWN_TIME } from '../src/providers/eruka.ts'
import { type ConformanceTarget, runConformance } from './conformance.ts'
import {
  type FakeEruka,
  type FakeErukaOptions,
  type LoggedRequest,
  startFakeEruka,
} from './support/fake-eruka.ts'

/** A conformance target on one lazily started double, closed after the suite. */
function onDouble(options: FakeErukaOptions) {
  let fake: Promise<FakeEruka> | undefined
  return {
    target: (): ConformanceTarget => ({
      removesState: false,
      open: async (workspace) => {
        fake ??= startFakeEruka(options)
        return ErukaProvider.open({ url: (await fake).url, workspace, retryDelayMs: 5 })
      },
    }),
    close: async () => {
      if (fake) await (await fake).close()
    },
  }
}

describe('eruka conformance on the double, /api/v1/search absent (client-side BM25)', () => {
  const double = onDouble({})
  afterAll(double.close)
  runConformance('eruka (test double of openeruka)', double.target)
})

describe('eruka conformance on the double, /api/v1/search served', () => {
  const double = onDouble({ search: true })
  afterAll(double.close)
  runConformance('eruka (test double of openeruka with /api/v1/search)', double.target)
})

describe('ErukaProvider against the openeruka double: contract checklist (reference C.7)', () => {
  let fake: FakeEruka
  const opened: ErukaProvider[] = []
  const open = async (workspace = 't1', extra: Partial<Parameters<typeof ErukaProvider.open>[0]> = {}) => {
    const provider = await ErukaProvider.open({ url: fake.url, workspace, retryDelayMs: 5, ...extra })
    opened.push(provider)
    return provider
  }
  /** What another client (curl, the Rust client) would send. */
  const rawPost = (body: unknown) =>
    fetch(`${fake.url}/api/v1/context`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
  const rawGet = async (workspace: string, path: string) =>
    (await (
      await fetch(`${fake.url}/api/v1/context?${new URLSearchParams({ workspace_id: workspace, path })}`)
    ).json()) as {
      fields: Array<Record<string, unknown>>
    }
  const posts = () => fake.requests.filter((r) => r.method === 'POST' && r.path === '/api/v1/context')
  const gets = (path: string) =>
    fake.requests.filter((r) => r.path === '/api/v1/context' && r.query.path === path)

  beforeAll(async () => {
    fake = await startFakeEruka()
  })
  afterEach(async () => {
    for (const provider of opened.splice(0)) await provider.close()
    fake.reset()
  })
  afterAll(async () => {
    await fake.close()
  })

  it('1/12: checks /health and detects that tier, search and edges are missing (404)', async () => {
    const m = await open()
    expect(m.features).toEqual({
      service: 'openeruka',
      version: '0.2.0',
      tierRoute: false,
      tier: null,
      search: false,
      edges: false,
    })
    const probed = fake.requests.map((r) => `${r.method} ${r.path} ${r.status}`)
    expect(probed).toEqual(
      expect.arrayContaining([
        'GET /health 200',
        'GET /api/v1/tier 404',
        'GET /api/v1/search 404',
        'GET /api/v1/edges 404',
      ]),
    )
    expect(fake.requests).toHaveLength(4)
  })

  it('12: detects tier, search and edges where the server has them', async () => {
    const rich = await startFakeEruka({ search: true, tier: 'local', edges: true })
    try {
      const m = await ErukaProvider.open({ url: rich.url, workspace: 't1' })
      expect(m.features).toMatchObject({ tierRoute: true, tier: 'local', search: true, edges: true })
    } finally {
      await rich.close()
    }
  })

  it('sends the auth header on every request (default X-Service-Key: local, or the one given)', async () => {
    const m = await open()
    await m.write({ key: 'identity/name', value: 'Acme', state: 'CONFIRMED' })
    await m.get('identity/name')
    expect(fake.requests.length).toBeGreaterThan(5)
    for (const r of fake.requests) expect(r.headers['x-service-key']).toBe('local')
    fake.requests.length = 0
    const keyed = await open('t1', { auth: { header: 'Authorization', value: 'ApiKey abc123' } })
    await keyed.get('identity/name')
    for (const r of fake.requests) {
      expect(r.headers.authorization).toBe('ApiKey abc123')
      expect(r.headers['x-service-key']).toBeUndefined()
    }
  })

  it('2/11: writes CONFIRMED with an explicit uppercase state, confidence, source and the envelope', async () => {
    const m = await open()
    const written = await m.write({
      key: 'identity/company_name',
      value: 'Acme',
      state: 'CONFIRMED',
      confidence: 0.8,
      provenance: { agent: 'alice', source: 'Document Extraction' },
    })
    const body = posts()[0]!.body as Record<string, unknown>
    expect(body).toEqual({
      workspace_id: 't1',
      path: 'identity/company_name',
      knowledge_state: 'CONFIRMED',
      confidence: 0.8,
      source: 'document_extraction',
      value: {
        dstack: 1,
        value: 'Acme',
        provenance: { agent: 'alice', source: 'Document Extraction' },
        createdAt: written.createdAt,
        updatedAt: written.updatedAt,
        supersedes: null,
        expiresAt: null,
      },
    })
    expect(posts()[0]!.headers['content-type']).toBe('application/json')
    // What the server holds, as any client sees it.
    const [field] = (await rawGet('t1', 'identity/company_name')).fields
    expect(field).toMatchObject({
      knowledge_state: 'CONFIRMED',
      category: 'identity',
      source_type: 'DocumentExtraction',
    })
    expect((field!.value as { value: unknown }).value).toBe('Acme')
    expect(await m.get('identity/company_name')).toEqual(written)
    // A provenance source Eruka has no name for is sent as agent_inference; every state goes uppercase.
    await m.write({
      key: 'identity/tagline',
      value: 'x',
      state: 'UNCERTAIN',
      provenance: { source: 'slack' },
    })
    expect(posts()[1]!.body).toMatchObject({
      knowledge_state: 'UNCERTAIN',
      source: 'agent_inference',
      confidence: 1,
    })
    expect(erukaSource(undefined)).toBe('agent_inference')
  })

  it('3: reads a 409 into MemoryConflictError (existing/incoming states) and the stored value stays', async () => {
    const m = await open()
    // Another writer lands a CONFIRMED value between our read and our write: only the server can refuse this one.
    fake.intercept(async (r) => {
      if (r.method === 'POST' && (r.body as { path?: string }).path === 'identity/company_name') {
        fake.intercept(null)
        await rawPost({
          workspace_id: 't1',
          path: 'identity/company_name',
          value: 'Acme',
          knowledge_state: 'CONFIRMED',
        })
      }
    })
    const attempt = m.write({ key: 'identity/company_name', value: 'Acme Guess', state: 'INFERRED' })
    await expect(attempt).rejects.toBeInstanceOf(MemoryConflictError)
    await expect(attempt).rejects.toMatchObject({
      key: 'identity/company_name',
      stored: 'CONFIRMED',
      incoming: 'INFERRED',
    })
    const refused = posts().find((r) => (r.body as { value: unknown }).value !== 'Acme')
    expect(refused?.status).toBe(409)
    expect(await m.get('identity/company_name')).toMatchObject({ value: 'Acme', state: 'CONFIRMED' })
  })

  it('refuses a lower state client-side, UNCERTAIN over CONFIRMED included (openeruka itself would allow it)', async () => {
    const m = await open()
    await m.write({ key: 'db/engine', value: 'postgres', state: 'CONFIRMED' })
    const before = posts().length
    for (const state of ['INFERRED', 'UNCERTAIN', 'UNKNOWN'] as const) {
      await expect(m.write({ key: 'db/engine', value: 'mysql', state })).rejects.toMatchObject({
        stored: 'CONFIRMED',
        incoming: state,
      })
    }
    expect(posts()).toHaveLength(before) // nothing was sent
  })

  it('4: CONFIRMED over CONFIRMED and INFERRED over INFERRED update the value', async () => {
    const m = await open()
    await m.write({ key: 'identity/company_name', value: 'Acme', state: 'CONFIRMED' })
    await m.write({ key: 'identity/company_name', value: 'Acme Inc', state: 'CONFIRMED' })
    await m.write({ key: 'market/size', value: 'small', state: 'INFERRED' })
    await m.write({ key: 'market/size', value: 'medium', state: 'INFERRED' })
    expect((await m.get('identity/company_name'))?.value).toBe('Acme Inc')
    expect((await m.get('market/size'))?.value).toBe('medium')
    expect((await rawGet('t1', 'identity/company_name')).fields).toHaveLength(1)
  })

  it('5: a missing exact path is null (the server answers 200 with no fields)', async () => {
    const m = await open()
    expect(await m.get('identity/nothing')).toBeNull()
    expect(gets('identity/nothing').map((r) => r.status)).toEqual([200])
  })

  it('6: prefix loads use path=<prefix>/* and keep only keys on the segment boundary', async () => {
    const m = await open()
    for (const key of [
      'products/b',
      'products/a',
      'identity/name',
      'products_old/x',
      'productsX',
      'products',
    ]) {
      await m.write({ key, value: key, state: 'INFERRED' })
    }
    // The server's LIKE matches more than the prefix...
    expect((await rawGet('t1', 'products/*')).fields.map((f) => f.field_path)).toEqual([
      'products',
      'products/a',
      'products/b',
      'productsX',
      'products_old/x',
    ])
    fake.requests.length = 0
    // ...the client keeps the boundary, and fetches the exact key too.
    expect((await m.load('products')).map((x) => x.key)).toEqual(['products', 'products/a', 'products/b'])
    expect(fake.requests.map((r) => r.query.path)).toEqual(expect.arrayContaining(['products/*', 'products']))
    expect((await m.load('products/*')).map((x) => x.key)).toEqual(['products', 'products/a', 'products/b'])
    // LIKE's `_` is a wildcard on the server, not here.
    await m.write({ key: 'a_b/1', value: 1, state: 'INFERRED' })
    await m.write({ key: 'axb/2', value: 2, state: 'INFERRED' })
    await m.write({ key: 'A_B/3', value: 3, state: 'INFERRED' })
    expect((await m.load('a_b')).map((x) => x.key)).toEqual(['a_b/1'])
  })

  it('7: isolates workspaces, and ignores fields a server returns for another workspace', async () => {
    const one = await open('t1')
    const two = await open('t2')
    await one.write({ key: 'identity/name', value: 'one', state: 'CONFIRMED' })
    expect(await two.get('identity/name')).toBeNull()
    expect(await two.load('')).toEqual([])
    const leaky = await startFakeEruka({ decorateField: (f) => ({ ...f, workspace_id: 'someone-else' }) })
    try {
      const m = await ErukaProvider.open({ url: leaky.url, workspace: 't1' })
      await m.write({ key: 'a', value: 1, state: 'INFERRED' })
      expect(await m.load('')).toEqual([])
    } finally {
      await leaky.close()
    }
  })

  it('8: sends workspace_id on every API request (the server refuses reads without it)', async () => {
    const bare = await fetch(`${fake.url}/api/v1/context?path=*`)
    expect(bare.status).toBe(400)
    expect(await bare.text()).toMatch(/missing field `workspace_id`/)
    fake.requests.length = 0
    const m = await open('t9')
    await m.write({ key: 'a/b', value: 1, state: 'INFERRED', supersedes: 'a/old' })
    await m.get('a/b')
    await m.load('a')
    await m.search('b')
    await m.delete('a/b')
    await m.exportAll()
    const api = fake.requests.filter((r) => r.path.startsWith('/api/'))
    expect(api.length).toBeGreaterThan(8)
    for (const r of api) {
      const workspace =
        r.method === 'GET' ? r.query.workspace_id : (r.body as { workspace_id?: string }).workspace_id
      expect(workspace, `${r.method} ${r.path}`).toBe('t9')
    }
  })

  it('9: object values round-trip', async () => {
    const m = await open()
    const value = { amount: 42, currency: 'EUR', lines: [{ sku: 'a', qty: 2 }], note: null }
    await m.write({ key: 'operations/invoice', value, state: 'CONFIRMED' })
    expect((await m.get('operations/invoice'))?.value).toEqual(value)
    expect((await m.load('operations'))[0]?.value).toEqual(value)
  })

  it('10: reads plain values written by another client (no envelope), with null times', async () => {
    const m = await open()
    expect(
      (
        await rawPost({
          workspace_id: 't1',
          path: 'identity/plain',
          value: { name: 'Acme' },
          knowledge_state: 'confirmed',
          confidence: 0.7,
          source: 'user_input',
        })
      ).status,
    ).toBe(200)
    // Omitting the state means INFERRED on openeruka.
    await rawPost({ workspace_id: 't1', path: 'identity/guess', value: 'maybe' })
    fake.seed({ workspace: 't1', path: 'identity/raw', valueText: 'not json {', state: 'UNCERTAIN' })
    expect(await m.get('identity/plain')).toEqual({
      workspace: 't1',
      key: 'identity/plain',
      value: { name: 'Acme' },
      state: 'CONFIRMED',
      confidence: 0.7,
      provenance: { source: 'user_input' },
      createdAt: UNKNOWN_TIME,
      updatedAt: UNKNOWN_TIME,
      supersedes: null,
      expiresAt: null,
    })
    expect(await m.get('identity/guess')).toMatchObject({
      value: 'maybe',
      state: 'INFERRED',
      provenance: { source: 'agent_inference' },
    })
    expect(await m.get('identity/raw')).toMatchObject({ value: 'not json {', state: 'UNCERTAIN' })
    expect((await m.load('identity')).map((x) => x.key)).toEqual([
      'identity/guess',
      'identity/plain',
      'identity/raw',
    ])
    // The state rule holds against them too; a same-rank rewrite gets real times, not the epoch.
    await expect(m.write({ key: 'identity/plain', value: 'x', state: 'INFERRED' })).rejects.toBeInstanceOf(
      MemoryConflictError,
    )
    const rewritten = await m.write({
      key: 'identity/plain',
      value: { name: 'Acme Inc' },
      state: 'CONFIRMED',
    })
    expect(rewritten.createdAt).not.toBe(UNKNOWN_TIME)
    expect(await m.get('identity/plain')).toEqual(rewritten)
  })

  it('10: tolerates other field shapes: snake_case source_type, timestamps, extra keys, value as a JSON string', async () => {
    const odd = await startFakeEruka({
      decorateField: (f) => ({
        ...f,
        value: JSON.stringify(f.value),
        source_type: 'user_input',
        created_at: '2024-01-02T03:04:05Z',
        updated_at: '2024-02-03T04:05:06Z',
        quality_score: 0.5,
        versions: [{ as_of: 'x' }],
      }),
    })
    try {
      const m = await ErukaProvider.open({ url: odd.url, workspace: 't1' })
      const written = await m.write({
        key: 'a/enveloped',
        value: { n: 1 },
        state: 'CONFIRMED',
        provenance: { agent: 'bob' },
      })
      expect(await m.get('a/enveloped')).toEqual(written) // the envelope inside a JSON string is still found
      await fetch(`${odd.url}/api/v1/context`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          workspace_id: 't1',
          path: 'a/plain',
          value: 'hello',
          knowledge_state: 'CONFIRMED',
          source: 'user_input',
        }),
      })
      expect(await m.get('a/plain')).toMatchObject({
        value: JSON.stringify('hello'), // a plain string that is JSON text stays the text it is
        provenance: { source: 'user_input' },
        createdAt: '2024-01-02T03:04:05.000Z',
        updatedAt: '2024-02-03T04:05:06.000Z',
      })
    } finally {
      await odd.close()
    }
  })

  it('delete writes a tombstone with the stored state (openeruka has no delete route)', async () => {
    const m = await open()
    await m.write({ key: 'x/y', value: 'gone soon', state: 'CONFIRMED' })
    expect(await m.delete('x/y')).toBe(true)
    expect(posts().at(-1)!.body).toMatchObject({
      knowledge_state: 'CONFIRMED',
      value: { dstack: 1, value: null, deleted: true },
    })
    expect((await rawGet('t1', 'x/y')).fields).toHaveLength(1) // still on the server...
    expect(await m.get('x/y')).toBeNull() // ...but absent to readers
    expect(await m.exportAll()).toEqual([])
    expect(await m.delete('x/y')).toBe(false)
    await expect(m.write({ key: 'x/y', value: 'back', state: 'INFERRED' })).rejects.toBeInstanceOf(
      MemoryConflictError,
    )
    const revived = await m.write({ key: 'x/y', value: 'back', state: 'CONFIRMED' })
    expect(await m.get('x/y')).toEqual(revived)
  })

  it('supersede rewrites the old envelope with an expiry, keeping its state', async () => {
    const m = await open()
    await m.write({ key: 'decisions/v1', value: 'bcrypt', state: 'CONFIRMED' })
    await m.write({ key: 'decisions/v2', value: 'argon2id', state: 'CONFIRMED', supersedes: 'decisions/v1' })
    const [old] = (await rawGet('t1', 'decisions/v1')).fields
    expect(old).toMatchObject({ knowledge_state: 'CONFIRMED', value: { value: 'bcrypt' } })
    expect(Date.parse((old!.value as { expiresAt: string }).expiresAt)).toBeLessThanOrEqual(Date.now())
    expect(await m.get('decisions/v1')).toBeNull()
    expect((await m.exportAll()).map((x) => x.key)).toEqual(['decisions/v1', 'decisions/v2'])
  })

  it('searches by loading the workspace when /api/v1/search is missing', async () => {
    const m = await open()
    await m.write({ key: 'auth/hashing', value: 'argon2id for passwords', state: 'CONFIRMED' })
    await m.write({ key: 'billing/invoices', value: 'immutable', state: 'CONFIRMED' })
    fake.requests.length = 0
    expect((await m.search('argon2id')).map((h) => h.memory.key)).toEqual(['auth/hashing'])
    expect(fake.requests.map((r) => `${r.path} ${r.query.path}`)).toEqual(['/api/v1/context *'])
  })

  it('searches through /api/v1/search when served, fetching only the candidates', async () => {
    const rich = await startFakeEruka({ search: true })
    try {
      const m = await ErukaProvider.open({ url: rich.url, workspace: 't1' })
      await m.write({ key: 'auth/hashing', value: 'argon2id for passwords', state: 'CONFIRMED' })
      await m.write({ key: 'billing/invoices', value: 'immutable', state: 'CONFIRMED' })
      await m.write({ key: 'auth/old', value: 'argon2id was considered', state: 'UNCERTAIN' })
      rich.requests.length = 0
      const hits = await m.search('argon2id passwords')
      expect(hits.map((h) => h.memory.key)).toEqual(['auth/hashing', 'auth/old'])
      expect(rich.requests[0]).toMatchObject({
        path: '/api/v1/search',
        query: { workspace_id: 't1', query: 'argon2id passwords' },
      })
      const fetched = rich.requests.filter((r) => r.path === '/api/v1/context').map((r) => r.query.path)
      expect(fetched.sort()).toEqual(['auth/hashing', 'auth/old'])
      // With a state or prefix filter the server's unfiltered top list could miss every match: ranked locally.
      rich.requests.length = 0
      const confirmed = await m.search('argon2id passwords', { states: ['CONFIRMED'] })
      expect(confirmed.map((h) => h.memory.key)).toEqual(['auth/hashing'])
      expect(rich.requests.map((r) => r.path)).not.toContain('/api/v1/search')
    } finally {
      await rich.close()
    }
  })

  it('retries 503 and 429 with backoff, then succeeds', async () => {
    const m = await open()
    await m.write({ key: 'a/b', value: 1, state: 'INFERRED' })
    fake.requests.length = 0
    fake.failNext(2)
    expect((await m.get('a/b'))?.value).toBe(1)
    expect(fake.requests.map((r) => r.status)).toEqual([503, 503, 200])
    fake.requests.length = 0
    fake.failNext(1, 429)
    await m.write({ key: 'a/b', value: 2, state: 'INFERRED' })
    expect((await m.get('a/b'))?.value).toBe(2)
    expect(fake.requests.map((r) => r.status)).toContain(429)
  })

  it('does not retry a 4xx: a 400 becomes ErukaHttpError with status and body', async () => {
    const m = await open()
    fake.requests.length = 0
    fake.failNext(1, 400)
    const attempt = m.get('a/b')
    await expect(attempt).rejects.toBeInstanceOf(ErukaHttpError)
    await expect(attempt).rejects.toMatchObject({ status: 400, body: 'injected fault' })
    expect(fake.requests).toHaveLength(1)
  })

  it('gives up after the retries: a 503 that persists is MemoryUnavailableError', async () => {
    const m = await open('t1', { retries: 2 })
    fake.requests.length = 0
    fake.failNext(10)
    await expect(m.get('a/b')).rejects.toBeInstanceOf(MemoryUnavailableError)
    expect(fake.requests).toHaveLength(3)
  })

  it('a server that is down is MemoryUnavailableError naming the URL, quickly', async () => {
    const gone = await startFakeEruka()
    const url = gone.url
    await gone.close()
    const started = Date.now()
    const attempt = ErukaProvider.open({ url, workspace: 't1', retries: 2 })
    await expect(attempt).rejects.toBeInstanceOf(MemoryUnavailableError)
    await expect(attempt).rejects.toThrow(url)
    expect(Date.now() - started).toBeLessThan(2000)
  })

  it('honours the timeout: a server that does not answer is MemoryUnavailableError after timeoutMs', async () => {
    const m = await open('t1', { timeoutMs: 150, retries: 1 })
    fake.setDelay(3000)
    const started = Date.now()
    await expect(m.get('a/b')).rejects.toThrow(/no answer within 150 ms/)
    const elapsed = Date.now() - started
    expect(elapsed).toBeGreaterThanOrEqual(290)
    expect(elapsed).toBeLessThan(1500)
    fake.setDelay(0)
  })

  it('validates options: a bad URL or workspace is refused before any request', async () => {
    await expect(ErukaProvider.open({ url: 'not a url', workspace: 't1' })).rejects.toThrow(/not a URL/)
    await expect(ErukaProvider.open({ url: fake.url, workspace: '../x' })).rejects.toThrow(/workspace/)
    expect(fake.requests).toEqual([] as LoggedRequest[])
  })
})

describe('eruka against a real server (ERUKA_URL)', () => {
  const url = process.env.ERUKA_URL
  if (url) {
    const run = randomUUID().slice(0, 8)
    const key = process.env.ERUKA_KEY
    runConformance(`eruka (real server at ${url})`, () => ({
      removesState: false,
      open: (workspace) =>
        ErukaProvider.open({
          url,
          workspace: `dstack-test-${run}-${workspace}`,
          ...(key ? { auth: { header: 'X-Service-Key', value: key } } : {}),
        }),
    }))
  } else {
    it('runs on the test double only (set ERUKA_URL to also run the conformance suite on a real server)', async () => {
      console.info(
        'eruka: the real-server conformance run needs ERUKA_URL (e.g. http://127.0.0.1:8080 for openeruka serve)',
      )
      expect(process.env.ERUKA_URL).toBeUndefined()
      const fake = await startFakeEruka()
      try {
        const health = await fetch(`${fake.url}/health`)
        expect(health.headers.get('x-test-double')).toBe('fake-eruka')
      } finally {
        await fake.close()
      }
    })
  }
})

// TEST DOUBLE of the openeruka 0.2.0 HTTP server (shared/reference/eruka-and-pawan.md C.2-C.4), not a server to
// run. It reproduces the documented wire behaviour, quirks included: plain-text errors (400 without workspace_id,
// 415 without a JSON content type, 400 for bad JSON, 422 for a missing or mistyped field), upsert on
// (workspace, path), prefix scans with SQL LIKE semantics (no segment boundary, `_`/`%` live, ASCII
// case-insensitive, ordered by UTF-8 bytes), category = first path segment, source_type in PascalCase,
// created_at/updated_at always null, a missing or unparseable knowledge_state stored as INFERRED, unknown sources as
// AgentInference. One deliberate difference: the overwrite rule is the strict rank (a lower state never overwrites a
// higher one), as the reference recommends for our fake; the 409 body is the documented JSON.
// /api/v1/tier, /search and /edges answer 404 unless enabled, so clients' feature detection is exercised both ways.
// Faults: failNext(n, status) answers the next n requests with an error; setDelay(ms) holds every answer back.
import { randomUUID } from 'node:crypto'
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

const STATES = ['CONFIRMED', 'INFERRED', 'UNCERTAIN', 'UNKNOWN'] as const
type State = (typeof STATES)[number]
const RANK: Record<State, number> = { CONFIRMED: 4, INFERRED: 3, UNCERTAIN: 2, UNKNOWN: 1 }
const SOURCES: Record<string, string> = {
  user_input: 'UserInput',
  document_extraction: 'DocumentExtraction',
  web_search: 'WebSearch',
}

export interface FakeErukaOptions {
  /** Serve GET /api/v1/search (naive per-word substring over path and stored value text). */
  search?: boolean
  /** Serve GET /api/v1/tier with this tier. */
  tier?: string
  /** Serve GET /api/v1/edges (always empty). */
  edges?: boolean
  /** Rewrites each field on its way out (to mimic other servers: extra keys, snake_case source_type, ...). */
  decorateField?: (field: Record<string, unknown>) => Record<string, unknown>
}

export interface LoggedRequest {
  method: string
  path: string
  query: Record<string, string>
  headers: IncomingHttpHeaders
  /** Parsed JSON when it parsed, else the raw text; undefined without a body. */
  body: unknown
  /** Filled in when answered. */
  status?: number
}

export interface FakeEruka {
  url: string
  requests: LoggedRequest[]
  /** The next `n` requests (any route) answer `status` (default 503) with a plain-text body. */
  failNext(n: number, status?: number): void
  /** Every answer waits this long first (0 to stop). */
  setDelay(ms: number): void
  /** Runs before each request is handled (after logging and faults): lets a test play a concurrent writer. */
  intercept(hook: ((request: LoggedRequest) => void | Promise<void>) | null): void
  /** Writes a row as another client would, bypassing HTTP (no state rule). */
  seed(row: {
    workspace: string
    path: string
    valueText: string
    state?: State
    confidence?: number
    source?: string
  }): void
  /** Drops every row and the request log. */
  reset(): void
  close(): Promise<void>
}

interface Row {
  id: string
  workspace_id: string
  field_path: string
  category: string
  valueText: string
  knowledge_state: State
  confidence: number
  source_type: string
}

/**
 * Starts the openeruka test double on a random local port.
 *
 * @example
 * const fake = await startFakeEruka({ search: true })
 * const memory = await ErukaProvider.open({ url: fake.url, workspace: 't1' })
 * await fake.close()
 */
export async function startFakeEruka(options: FakeErukaOptions = {}): Promise<FakeEruka> {
  const rows = new Map<string, Map<string, Row>>()
  const requests: LoggedRequest[] = []
  let failures = 0
  let failStatus = 503
  let delayMs = 0
  let hook: ((request: LoggedRequest) => void | Promise<void>) | null = null

  const table = (workspace: string) => {
    const t = rows.get(workspace) ?? new Map<string, Row>()
    rows.set(workspace, t)
    return t
  }

  const upsert = (
    workspace: string,
    path: string,
    valueText: string,
    state: State,
    confidence: number,
    source: string,
  ) => {
    const t = table(workspace)
    const existing = t.get(path)
    const row: Row = {
      id: existing?.id ?? randomUUID(),
      workspace_id: workspace,
      field_path: path,
      // openeruka keeps id and category on update; category is the first segment, unvalidated.
      category: existing?.category ?? (path.split('/')[0] || 'metadata'),
      valueText,
      knowledge_state: state,
      confidence,
      source_type: source,
    }
    t.set(path, row)
    return row
  }

  const wire = (row: Row): Record<string, unknown> => {
    let value: unknown
    try {
      value = JSON.parse(row.valueText)
    } catch {
      value = row.valueText // stored text that is not JSON comes back as a JSON string
    }
    const field = {
      id: row.id,
      workspace_id: row.workspace_id,
      field_path: row.field_path,
      category: row.category,
      value,
      knowledge_state: row.knowledge_state,
      confidence: row.confidence,
      source_type: SOURCES[row.source_type] ?? 'AgentInference',
      created_at: null,
      updated_at: null,
    }
    return options.decorateField ? options.decorateField(field) : field
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => text(res, 500, `fake eruka: ${String(error)}`))
  })

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://fake')
    const raw = await readBody(req)
    let body: unknown
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw)
      } catch {
        body = raw
      }
    }
    const logged: LoggedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      body,
    }
    requests.push(logged)
    res.on('finish', () => {
      logged.status = res.statusCode
    })
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs))
    if (failures > 0) {
      failures--
      return text(res, failStatus, 'injected fault')
    }
    if (hook) await hook(logged)
    route(req.method ?? 'GET', url, req.headers, raw, res)
  }

  const route = (
    method: string,
    url: URL,
    headers: IncomingHttpHeaders,
    raw: string,
    res: ServerResponse,
  ) => {
    const q = url.searchParams
    const methods = allowed(url.pathname)
    if (!methods) return text(res, 404, '')
    if (!methods.includes(method)) return text(res, 405, '')
    if (url.pathname === '/health')
      return json(res, 200, { status: 'ok', service: 'openeruka', version: '0.2.0' })
    const workspace = q.get('workspace_id')
    const missingWorkspace = () =>
      text(res, 400, 'Failed to deserialize query string: missing field `workspace_id`')

    if (url.pathname === '/api/v1/context' && method === 'GET') {
      if (workspace === null) return missingWorkspace()
      const path = q.get('path') ?? '*'
      const t = rows.get(workspace) ?? new Map<string, Row>()
      let found: Row[]
      if (path.endsWith('*') || path === '/') {
        const clean = path.replace(/\*+$/, '').replace(/\/+$/, '')
        const like = likePattern(`${clean}%`)
        found = [...t.values()].filter((r) => like.test(r.field_path)).sort(byPath)
      } else {
        const row = t.get(path)
        found = row ? [row] : []
      }
      return json(res, 200, { fields: found.map(wire) })
    }

    if (url.pathname === '/api/v1/context' && method === 'POST') {
      if (!isJsonContentType(headers['content-type'])) {
        return text(res, 415, 'Expected request with `Content-Type: application/json`')
      }
      let input: unknown
      try {
        input = JSON.parse(raw)
      } catch (error) {
        return text(res, 400, `Failed to parse the request body as JSON: ${(error as Error).message}`)
      }
      const problem = checkWrite(input)
      if (problem)
        return text(res, 422, `Failed to deserialize the JSON body into the target type: ${problem}`)
      const w = input as {
        workspace_id: string
        path: string
        value: unknown
        knowledge_state?: string | null
        confidence?: number | null
        source?: string | null
      }
      const upper = (w.knowledge_state ?? '').toUpperCase()
      const incoming: State = (STATES as readonly string[]).includes(upper) ? (upper as State) : 'INFERRED'
      const existing = rows.get(w.workspace_id)?.get(w.path)
      if (existing && RANK[incoming] < RANK[existing.knowledge_state]) {
        return json(res, 409, {
          error: 'knowledge_state_conflict',
          message: `field '${w.path}' is ${existing.knowledge_state}, cannot overwrite with ${incoming}`,
          path: w.path,
          existing_state: existing.knowledge_state,
          incoming_state: incoming,
        })
      }
      const source = w.source && w.source in SOURCES ? w.source : 'agent_inference'
      const row = upsert(w.workspace_id, w.path, JSON.stringify(w.value), incoming, w.confidence ?? 1, source)
      return json(res, 200, { field: wire(row), status: 'ok' })
    }

    if (url.pathname === '/api/v1/entities') {
      if (workspace === null) return missingWorkspace()
      return json(res, 200, { entities: [] })
    }
    if (url.pathname === '/api/v1/tier') return json(res, 200, { tier: options.tier })
    if (url.pathname === '/api/v1/edges') {
      if (workspace === null) return missingWorkspace()
      return json(res, 200, { edges: [] })
    }
    if (url.pathname === '/api/v1/search') {
      if (workspace === null) return missingWorkspace()
      const words = (q.get('query') ?? '').toLowerCase().split(/\s+/).filter(Boolean)
      const limit = Number(q.get('limit') ?? 10)
      const scored = [...(rows.get(workspace)?.values() ?? [])]
        .map((r) => {
          const haystack = `${r.field_path}\n${r.valueText}`.toLowerCase()
          return { r, n: words.filter((w) => haystack.includes(w)).length }
        })
        .filter((x) => x.n > 0)
        .sort((a, b) => b.n - a.n || byPath(a.r, b.r))
        .slice(0, Number.isFinite(limit) ? limit : 10)
      return json(res, 200, {
        results: scored.map(({ r }) => ({ path: r.field_path, content: r.valueText })),
      })
    }
    return text(res, 404, '')
  }

  const allowed = (path: string): string[] | null => {
    if (path === '/health') return ['GET']
    if (path === '/api/v1/context') return ['GET', 'POST']
    if (path === '/api/v1/entities') return ['GET']
    if (path === '/api/v1/search' && options.search) return ['GET']
    if (path === '/api/v1/tier' && options.tier) return ['GET']
    if (path === '/api/v1/edges' && options.edges) return ['GET']
    return null
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    failNext(n, status = 503) {
      failures = n
      failStatus = status
    },
    setDelay(ms) {
      delayMs = ms
    },
    intercept(fn) {
      hook = fn
    },
    seed({ workspace, path, valueText, state = 'INFERRED', confidence = 1, source = 'user_input' }) {
      upsert(workspace, path, valueText, state, confidence, source)
    },
    reset() {
      rows.clear()
      requests.length = 0
      failures = 0
      delayMs = 0
      hook = null
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()))
        server.closeAllConnections()
      }),
  }
}

/** axum's Json extractor: `application/json` or `application/*+json`, parameters allowed. */
function isJsonContentType(header: string | undefined): boolean {
  const essence = (header ?? '').split(';')[0]!.trim().toLowerCase()
  return essence === 'application/json' || /^application\/[^/]+\+json$/.test(essence)
}

/** The serde checks of openeruka's write request, in its words. */
function checkWrite(input: unknown): string | null {
  if (input === null || typeof input !== 'object' || Array.isArray(input))
    return 'invalid type: expected a map'
  const w = input as Record<string, unknown>
  for (const name of ['workspace_id', 'path']) {
    if (!(name in w)) return `missing field \`${name}\``
    if (typeof w[name] !== 'string') return `${name}: invalid type: expected a string`
  }
  if (!('value' in w)) return 'missing field `value`'
  for (const name of ['knowledge_state', 'source']) {
    if (w[name] !== undefined && w[name] !== null && typeof w[name] !== 'string') {
      return `${name}: invalid type: expected a string`
    }
  }
  if (w.confidence !== undefined && w.confidence !== null && typeof w.confidence !== 'number') {
    return 'confidence: invalid type: expected f64'
  }
  return null
}

/** SQL LIKE as SQLite runs it: `%` any run, `_` one character, ASCII letters case-insensitive, no escape. */
function likePattern(pattern: string): RegExp {
  let source = ''
  for (const char of pattern) {
    if (char === '%') source += '.*'
    else if (char === '_') source += '.'
    else if (/[A-Za-z]/.test(char)) source += `[${char.toLowerCase()}${char.toUpperCase()}]`
    else source += char.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&')
  }
  return new RegExp(`^${source}$`, 'su')
}

/** SQLite's BINARY collation: UTF-8 byte order. */
function byPath(a: Row, b: Row): number {
  return Buffer.compare(Buffer.from(a.field_path), Buffer.from(b.field_path))
}

function text(res: ServerResponse, status: number, body: string): void {
  if (res.headersSent) return
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'x-test-double': 'fake-eruka' })
  res.end(body)
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'x-test-double': 'fake-eruka' })
  res.end(JSON.stringify(body))
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

// ErukaProvider: memories stored as fields of an Eruka (or OSS openeruka) workspace over its HTTP API.
//
// Encoding. One memory is one Eruka field: field_path = the canonical key, knowledge_state and confidence = the
// memory's own, source = provenance.source mapped onto Eruka's SourceType (default agent_inference). Eruka keeps no
// provenance and never returns timestamps (created_at/updated_at always come back null), so the field's `value` is
// an envelope that carries them:
//
//   { "dstack": 1, "value": <the memory's value>, "provenance": {...}, "createdAt": ISO, "updatedAt": ISO,
//     "supersedes": key | null, "expiresAt": ISO | null, "deleted"?: true }
//
// Fields written by other tools (no envelope) are read as plain values: state and confidence from the field,
// provenance.source from source_type, and times from created_at/updated_at when a server sends them, else the epoch
// (1970-01-01T00:00:00.000Z) meaning "unknown". Fields whose path is not a canonical key are skipped.
//
// Deletion. openeruka has no delete route, so delete writes a tombstone envelope (`deleted: true`, value null) with
// the stored state; readers treat tombstones as absent. Tombstones and expired memories keep their knowledge state,
// so a later write must match or beat it (the conformance target runs with `removesState: false`).
//
// State rule. The client applies the strict rank (CONFIRMED > INFERRED > UNCERTAIN > UNKNOWN) before writing,
// because openeruka only refuses INFERRED over CONFIRMED; a 409 from the server (a race, or a stricter server) is
// read into the same MemoryConflictError.
import { setTimeout as sleep } from 'node:timers/promises'
import { InvalidMemoryError, MemoryConflictError, MemoryError, MemoryUnavailableError } from '../errors.ts'
import { canonicalKey, canonicalPrefix, underPrefix } from '../keys.ts'
import { checkWorkspace, isExpired, prepareWrite } from '../prepare.ts'
import { Bm25Index, textOf } from '../search/bm25.ts'
import { canOverwrite } from '../state.ts'
import {
  type JsonValue,
  KNOWLEDGE_STATES,
  type KnowledgeState,
  type Memory,
  type MemoryProvider,
  type MemoryWrite,
  type Provenance,
  provenanceSchema,
  type SearchHit,
  type SearchOptions,
} from '../types.ts'

/** Stands in for a time Eruka did not give us (fields written without our envelope). */
export const UNKNOWN_TIME = '1970-01-01T00:00:00.000Z'

/** Eruka's SourceType values, as requests spell them. */
export const ERUKA_SOURCES = ['user_input', 'agent_inference', 'document_extraction', 'web_search'] as const
export type ErukaSource = (typeof ERUKA_SOURCES)[number]

export interface ErukaOptions {
  /** Base URL of the server, e.g. `http://127.0.0.1:8080`. */
  url: string
  workspace: string
  /** Sent on every request; default `X-Service-Key: local` (openeruka ignores it, managed Eruka needs it). */
  auth?: { header: string; value: string }
  /** Per attempt (default 5000). */
  timeoutMs?: number
  /** Extra attempts after network errors, 429 and 5xx (default 3); 4xx is never retried. */
  retries?: number
  /** First backoff step in ms (default 100), doubled per attempt, with jitter. */
  retryDelayMs?: number
}

/** What the server turned out to support, detected once by `open`. */
export interface ErukaFeatures {
  /** From GET /health, when it says. */
  service: string | null
  version: string | null
  /** GET /api/v1/tier answered; `tier` is its value. */
  tierRoute: boolean
  tier: string | null
  /** GET /api/v1/search answered: search narrows candidates on the server. */
  search: boolean
  /** GET /api/v1/edges answered. */
  edges: boolean
}

/**
 * A non-2xx answer that is not a knowledge-state conflict and not a 502/503/504 that outlasted the retries (those
 * are MemoryUnavailableError).
 *
 * @example
 * try { await memory.get('a/b') } catch (e) { if (e instanceof ErukaHttpError) console.log(e.status, e.body) }
 */
export class ErukaHttpError extends MemoryError {
  readonly status: number
  readonly body: string

  constructor(request: string, status: number, body: string) {
    super('ERUKA_HTTP', `Eruka ${request} answered HTTP ${status}: ${body.slice(0, 500) || '(empty body)'}`)
    this.status = status
    this.body = body
  }
}

export interface Envelope {
  dstack: 1
  value: JsonValue
  provenance: Provenance
  createdAt: string
  updatedAt: string
  supersedes: string | null
  expiresAt: string | null
  deleted?: true
}

/** A field as read: the memory, whether it is a tombstone, whether it carried our envelope. */
interface Stored {
  memory: Memory
  deleted: boolean
  enveloped: boolean
}

interface Reply {
  status: number
  text: string
  headers: Headers
}

const RETRY_CAP_MS = 5000

/**
 * A MemoryProvider over the Eruka / openeruka HTTP API (see the file comment for the encoding).
 *
 * @example
 * const memory = await ErukaProvider.open({ url: 'http://127.0.0.1:8080', workspace: 'acme-api' })
 * await memory.write({ key: 'db/engine', value: 'postgres', state: 'CONFIRMED' })
 * await memory.get('db/engine') // { value: 'postgres', state: 'CONFIRMED', ... }
 */
export class ErukaProvider implements MemoryProvider {
  readonly kind = 'eruka' as const
  readonly workspace: string
  readonly url: string
  readonly features: ErukaFeatures
  readonly #auth: { header: string; value: string }
  readonly #timeoutMs: number
  readonly #retries: number
  readonly #retryDelayMs: number

  private constructor(options: Required<ErukaOptions>) {
    this.workspace = options.workspace
    this.url = options.url
    this.#auth = options.auth
    this.#timeoutMs = options.timeoutMs
    this.#retries = options.retries
    this.#retryDelayMs = options.retryDelayMs
    this.features = {
      service: null,
      version: null,
      tierRoute: false,
      tier: null,
      search: false,
      edges: false,
    }
  }

  /**
   * Connects and detects features once: GET /health must answer (else MemoryUnavailableError naming the URL), then
   * /api/v1/tier, /api/v1/search and /api/v1/edges are probed (404/405 = unsupported).
   *
   * @example
   * const memory = await ErukaProvider.open({ url: process.env.ERUKA_URL!, workspace: 'acme', auth: { header: 'X-Service-Key', value: key } })
   * memory.features.search // false on openeruka 0.2.0
   */
  static async open(options: ErukaOptions): Promise<ErukaProvider> {
    const workspace = checkWorkspace(options.workspace)
    let base: URL
    try {
      base = new URL(options.url)
    } catch {
      throw new InvalidMemoryError(`Eruka URL ${JSON.stringify(options.url)} is not a URL`)
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new InvalidMemoryError(`Eruka URL ${options.url} is not http(s)`)
    }
    const provider = new ErukaProvider({
      url: base.href.replace(/\/+$/, ''),
      workspace,
      auth: options.auth ?? { header: 'X-Service-Key', value: 'local' },
      timeoutMs: options.timeoutMs ?? 5000,
      retries: Math.max(0, options.retries ?? 3),
      retryDelayMs: options.retryDelayMs ?? 100,
    })
    await provider.#detect()
    return provider
  }

  async #detect(): Promise<void> {
    const health = await this.#request('GET', '/health')
    if (health.status < 200 || health.status >= 300) {
      throw new MemoryUnavailableError(
        `Eruka at ${this.url} is not healthy: GET /health answered HTTP ${health.status} ${health.text.slice(0, 200)}`,
      )
    }
    const body = record(parseJsonOr(health.text))
    if (body && typeof body.status === 'string' && body.status.toLowerCase() !== 'ok') {
      throw new MemoryUnavailableError(`Eruka at ${this.url} is not healthy: status ${body.status}`)
    }
    this.features.service = typeof body?.service === 'string' ? body.service : null
    this.features.version = typeof body?.version === 'string' ? body.version : null

    const ws = { workspace_id: this.workspace }
    const [tier, search, edges] = await Promise.all([
      this.#request('GET', '/api/v1/tier', ws),
      this.#request('GET', '/api/v1/search', { ...ws, query: 'dstack-feature-probe', limit: '1' }),
      this.#request('GET', '/api/v1/edges', ws),
    ])
    this.features.tierRoute = ok(tier)
    const tierBody = ok(tier) ? record(parseJsonOr(tier.text)) : null
    this.features.tier = typeof tierBody?.tier === 'string' ? tierBody.tier : null
    this.features.search = ok(search)
    this.features.edges = ok(edges)
  }

  async get(key: string): Promise<Memory | null> {
    const stored = await this.#getStored(canonicalKey(key))
    return stored && live(stored) ? stored.memory : null
  }

  async load(prefix: string): Promise<Memory[]> {
    return (await this.#loadStored(canonicalPrefix(prefix))).filter((s) => live(s)).map((s) => s.memory)
  }

  async exportAll(): Promise<Memory[]> {
    return (await this.#loadStored('')).filter((s) => !s.deleted).map((s) => s.memory)
  }

  async write(write: MemoryWrite): Promise<Memory> {
    // Validate (key, value, secrets) before touching the network.
    const key = prepareWrite(this.workspace, write, null).key
    const stored = await this.#getStored(key)
    const now = new Date()
    // A tombstone or an expired memory still holds its state (there is no real delete), but a revived key is new.
    const existing = stored
      ? stored.enveloped && live(stored, now.getTime())
        ? stored.memory
        : { ...stored.memory, createdAt: now.toISOString() }
      : null
    const memory = prepareWrite(this.workspace, write, existing, now)
    // Superseding expires another memory: only allowed to a write that could overwrite it (the state rule).
    const superseded =
      memory.supersedes && memory.supersedes !== key ? await this.#getStored(memory.supersedes) : null
    if (
      superseded &&
      live(superseded, now.getTime()) &&
      !canOverwrite(superseded.memory.state, memory.state)
    ) {
      throw new MemoryConflictError(superseded.memory.key, superseded.memory.state, memory.state)
    }
    await this.#post(memory, envelopeOf(memory))
    if (superseded) await this.#expire(superseded.memory.key, now)
    return memory
  }

  async delete(key: string): Promise<boolean> {
    const canonical = canonicalKey(key)
    const stored = await this.#getStored(canonical)
    if (!stored || stored.deleted) return false
    const now = new Date().toISOString()
    await this.#post(stored.memory, {
      dstack: 1,
      value: null,
      provenance: stored.memory.provenance,
      createdAt: stored.memory.createdAt,
      updatedAt: now,
      supersedes: null,
      expiresAt: null,
      deleted: true,
    })
    return true
  }

  async search(query: string, options: SearchOptions = {}): Promise<SearchHit[]> {
    const limit = options.limit ?? 10
    const prefix = canonicalPrefix(options.prefix ?? '')
    if (limit <= 0 || query.trim() === '') return []
    // The server's search knows no prefix or state: with those filters its top candidates could all be filtered
    // out, so rank the filtered set here instead.
    const filtered = prefix !== '' || options.states !== undefined || options.minConfidence !== undefined
    const pool = filtered
      ? await this.#loadStored(prefix)
      : await this.#searchCandidates(query, prefix, limit)
    const candidates = pool.filter(
      (s) =>
        live(s) &&
        underPrefix(s.memory.key, prefix) &&
        (!options.states || options.states.includes(s.memory.state)) &&
        (options.minConfidence === undefined || s.memory.confidence >= options.minConfidence),
    )
    // Ranked locally either way: the server's candidates (if any) must still match the query's words.
    const index = new Bm25Index()
    const byKey = new Map<string, Memory>()
    for (const { memory } of candidates) {
      byKey.set(memory.key, memory)
      index.add(memory.key, { key: memory.key, text: textOf(memory.value) })
    }
    return index
      .search(query, { limit })
      .filter((hit) => hit.score > 0 && byKey.has(hit.id))
      .map((hit) => ({ memory: byKey.get(hit.id)!, score: hit.score }))
  }

  async close(): Promise<void> {
    // Nothing to release: every request is its own fetch.
  }

  /** The server narrows by text when it can (so the workspace need not be loaded); else everything under prefix. */
  async #searchCandidates(query: string, prefix: string, limit: number): Promise<Stored[]> {
    if (!this.features.search) return this.#loadStored(prefix)
    const params = {
      workspace_id: this.workspace,
      query,
      limit: String(Math.min(200, Math.max(50, limit * 5))),
    }
    const reply = await this.#request('GET', '/api/v1/search', params)
    if (reply.status === 404 || reply.status === 405) {
      this.features.search = false // the server lost the route (downgraded): fall back for good
      return this.#loadStored(prefix)
    }
    const body = this.#json(reply, 'GET /api/v1/search')
    const results = Array.isArray(body) ? body : (record(body)?.results ?? record(body)?.fields)
    if (!Array.isArray(results)) throw this.#badReply('GET /api/v1/search', 'no results array', reply.text)
    const found = new Map<string, Stored>()
    const refetch = new Set<string>()
    for (const result of results) {
      const item = record(result)
      const full = item ? this.#decode(item) : null
      // A result that is already a whole field needs no second request; a bare {path, content} does.
      if (full && item && 'knowledge_state' in item && 'value' in item) found.set(full.memory.key, full)
      else {
        const path = item?.path ?? item?.field_path
        if (typeof path === 'string' && isCanonical(path) && underPrefix(path, prefix)) refetch.add(path)
      }
    }
    const fetched = await mapLimit(
      [...refetch].filter((k) => !found.has(k)),
      8,
      (k) => this.#getStored(k),
    )
    for (const stored of fetched) if (stored) found.set(stored.memory.key, stored)
    return [...found.values()]
  }

  /** Rewrites a superseded memory's envelope so it expires now, keeping its state. */
  async #expire(key: string, now: Date): Promise<void> {
    const old = await this.#getStored(key)
    if (!old || !live(old, now.getTime())) return
    const memory = { ...old.memory, expiresAt: now.toISOString() }
    try {
      await this.#post(memory, envelopeOf(memory))
    } catch (error) {
      // Someone raised the old memory's state meanwhile: it stays live, which is their call.
      if (!(error instanceof MemoryConflictError)) throw error
    }
  }

  async #getStored(key: string): Promise<Stored | null> {
    // Exact match on the server; the filter also guards against a key ending in `*` being read as a prefix scan.
    return (await this.#fields(key)).find((s) => s.memory.key === key) ?? null
  }

  /** Everything at or under `prefix` (tombstones and expired included), sorted by key. */
  async #loadStored(prefix: string): Promise<Stored[]> {
    const lists =
      prefix === ''
        ? [await this.#fields('*')]
        : // The server's LIKE prefix has no segment boundary and unescaped `_`/`%`: a superset, filtered here. The
          // exact key is fetched too for servers whose prefix scan covers only what lies below it.
          await Promise.all([this.#fields(`${prefix}/*`), this.#fields(prefix)])
    const byKey = new Map<string, Stored>()
    for (const stored of lists.flat()) {
      if (underPrefix(stored.memory.key, prefix)) byKey.set(stored.memory.key, stored)
    }
    return [...byKey.values()].sort((a, b) => compareKeys(a.memory.key, b.memory.key))
  }

  async #fields(path: string): Promise<Stored[]> {
    const reply = await this.#request('GET', '/api/v1/context', { workspace_id: this.workspace, path })
    const what = `GET /api/v1/context?path=${path}`
    if (!ok(reply)) throw this.#httpError(what, reply)
    const body = this.#json(reply, what)
    const fields = Array.isArray(body) ? body : record(body)?.fields
    if (!Array.isArray(fields)) throw this.#badReply(what, 'no fields array', reply.text)
    const out: Stored[] = []
    for (const field of fields) {
      const item = record(field)
      const stored = item ? this.#decode(item) : null
      if (stored) out.push(stored)
    }
    return out
  }

  /** One Eruka field → a stored memory, or null for what is not ours to read (another workspace, odd path). */
  #decode(field: Record<string, unknown>): Stored | null {
    const path = field.field_path ?? field.path
    if (typeof path !== 'string' || !isCanonical(path)) return null
    if (typeof field.workspace_id === 'string' && field.workspace_id !== this.workspace) return null
    const state = parseState(field.knowledge_state) ?? 'UNKNOWN'
    const confidence =
      typeof field.confidence === 'number' && Number.isFinite(field.confidence)
        ? Math.min(1, Math.max(0, field.confidence))
        : 1
    const raw = (field.value ?? null) as JsonValue
    const envelope = asEnvelope(raw) ?? (typeof raw === 'string' ? asEnvelope(parseJsonOr(raw)) : null)
    const base = { workspace: this.workspace, key: path, state, confidence }
    if (!envelope) {
      const source = sourceFromEruka(field.source_type)
      return {
        memory: {
          ...base,
          value: raw,
          provenance: source ? { source } : {},
          createdAt: isoOr(field.created_at, UNKNOWN_TIME),
          updatedAt: isoOr(field.updated_at, isoOr(field.created_at, UNKNOWN_TIME)),
          supersedes: null,
          expiresAt: null,
        },
        deleted: false,
        enveloped: false,
      }
    }
    const provenance = provenanceSchema.safeParse(envelope.provenance ?? {})
    const createdAt = isoOr(envelope.createdAt, isoOr(field.created_at, UNKNOWN_TIME))
    return {
      memory: {
        ...base,
        value: envelope.value ?? null,
        provenance: provenance.success ? provenance.data : {},
        createdAt,
        updatedAt: isoOr(envelope.updatedAt, createdAt),
        supersedes:
          typeof envelope.supersedes === 'string' && isCanonical(envelope.supersedes)
            ? envelope.supersedes
            : null,
        expiresAt: isoOr(envelope.expiresAt, null),
      },
      deleted: envelope.deleted === true,
      enveloped: true,
    }
  }

  async #post(memory: Memory, envelope: Envelope): Promise<void> {
    const body = {
      workspace_id: this.workspace,
      path: memory.key,
      value: envelope,
      // Always explicit: openeruka reads a missing state as INFERRED and a missing confidence as 1.0.
      knowledge_state: memory.state.toUpperCase(),
      confidence: memory.confidence,
      source: erukaSource(memory.provenance.source),
    }
    const reply = await this.#request('POST', '/api/v1/context', undefined, body)
    if (ok(reply)) return
    if (reply.status === 409) {
      const conflict = record(parseJsonOr(reply.text))
      const stored = parseState(conflict?.existing_state)
      const incoming = parseState(conflict?.incoming_state) ?? memory.state
      if (conflict?.error === 'knowledge_state_conflict' || stored) {
        throw new MemoryConflictError(memory.key, stored ?? (await this.#stateOf(memory.key)), incoming)
      }
    }
    throw this.#httpError(`POST /api/v1/context (path ${memory.key})`, reply)
  }

  /** The stored state, for a 409 that did not say it. */
  async #stateOf(key: string): Promise<KnowledgeState> {
    return (await this.#getStored(key))?.memory.state ?? 'CONFIRMED'
  }

  /**
   * One request with timeout and retries (network errors, 429, 5xx; exponential backoff with jitter). Returns the
   * last reply whatever its status; throws MemoryUnavailableError when the server could not be reached at all.
   */
  async #request(
    method: 'GET' | 'POST',
    path: string,
    query?: Record<string, string>,
    body?: unknown,
  ): Promise<Reply> {
    const target = `${this.url}${path}${query ? `?${new URLSearchParams(query)}` : ''}`
    const headers: Record<string, string> = {
      accept: 'application/json',
      [this.#auth.header]: this.#auth.value,
    }
    if (body !== undefined) headers['content-type'] = 'application/json'
    const payload = body === undefined ? undefined : JSON.stringify(body)
    for (let attempt = 0; ; attempt++) {
      let reply: Reply
      try {
        const response = await fetch(target, {
          method,
          headers,
          body: payload,
          signal: AbortSignal.timeout(this.#timeoutMs),
        })
        reply = { status: response.status, text: await response.text(), headers: response.headers }
      } catch (error) {
        if (attempt < this.#retries) {
          await sleep(this.#backoff(attempt))
          continue
        }
        throw new MemoryUnavailableError(
          `Eruka at ${this.url} is unreachable (${method} ${path}, ${attempt + 1} attempt${attempt ? 's' : ''}): ${reason(error, this.#timeoutMs)}`,
          { cause: error },
        )
      }
      const transient = reply.status === 429 || reply.status >= 500
      if (!transient || attempt >= this.#retries) return reply
      await sleep(this.#backoff(attempt, reply.headers.get('retry-after')))
    }
  }

  #backoff(attempt: number, retryAfter?: string | null): number {
    const told = retryAfter ? Number(retryAfter) * 1000 : Number.NaN
    if (Number.isFinite(told) && told >= 0) return Math.min(told, RETRY_CAP_MS)
    const step = Math.min(this.#retryDelayMs * 2 ** attempt, RETRY_CAP_MS)
    // Equal jitter: at least half the step, so clients that failed together do not retry together.
    return step / 2 + Math.random() * (step / 2)
  }

  #httpError(what: string, reply: Reply): MemoryError {
    // A gateway or server that stayed down through the retries is unavailable, not a bad request.
    if (reply.status === 502 || reply.status === 503 || reply.status === 504) {
      return new MemoryUnavailableError(
        `Eruka at ${this.url} is unavailable: ${what} answered HTTP ${reply.status} ${reply.text.slice(0, 200)}`,
      )
    }
    return new ErukaHttpError(`${what} at ${this.url}`, reply.status, reply.text)
  }

  #json(reply: Reply, what: string): unknown {
    try {
      return JSON.parse(reply.text)
    } catch {
      throw this.#badReply(what, 'not JSON', reply.text)
    }
  }

  #badReply(what: string, problem: string, text: string): MemoryError {
    return new MemoryError(
      'ERUKA_BAD_REPLY',
      `Eruka ${what} at ${this.url}: ${problem}: ${text.slice(0, 200)}`,
    )
  }
}

/**
 * The Eruka field value that carries a memory: the value plus what Eruka does not keep (provenance, times, expiry).
 *
 * @example
 * envelopeOf(memory) // { dstack: 1, value, provenance, createdAt, updatedAt, supersedes, expiresAt }
 */
export function envelopeOf(memory: Memory): Envelope {
  return {
    dstack: 1,
    value: memory.value,
    provenance: memory.provenance,
    createdAt: memory.createdAt,
    updatedAt: memory.updatedAt,
    supersedes: memory.supersedes,
    expiresAt: memory.expiresAt,
  }
}

function asEnvelope(value: unknown): Partial<Envelope> | null {
  const object = record(value)
  return object && object.dstack === 1 && 'value' in object ? (object as Partial<Envelope>) : null
}

function live(stored: Stored, now = Date.now()): boolean {
  return !stored.deleted && !isExpired(stored.memory, now)
}

function ok(reply: Reply): boolean {
  return reply.status >= 200 && reply.status < 300
}

function record(value: unknown): Record<string, unknown> | null {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null
}

function parseJsonOr(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

function isCanonical(path: string): boolean {
  try {
    return canonicalKey(path) === path
  } catch {
    return false
  }
}

/** Eruka parses states case-insensitively; so do we. */
function parseState(value: unknown): KnowledgeState | null {
  if (typeof value !== 'string') return null
  const upper = value.trim().toUpperCase()
  return (KNOWLEDGE_STATES as readonly string[]).includes(upper) ? (upper as KnowledgeState) : null
}

function isoOr<T extends string | null>(value: unknown, fallback: T): string | T {
  if (typeof value !== 'string') return fallback
  const time = Date.parse(value)
  return Number.isNaN(time) ? fallback : new Date(time).toISOString()
}

/**
 * Maps a provenance source onto Eruka's SourceType (snake_case); anything else is `agent_inference`.
 *
 * @example
 * erukaSource('Document Extraction') // 'document_extraction'
 * erukaSource('alice via slack') // 'agent_inference'
 */
export function erukaSource(source: string | null | undefined): ErukaSource {
  const normal = (source ?? '')
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_')
  return (ERUKA_SOURCES as readonly string[]).includes(normal) ? (normal as ErukaSource) : 'agent_inference'
}

/** source_type comes back PascalCase from openeruka (Rust Debug) and maybe snake_case elsewhere. */
function sourceFromEruka(value: unknown): string | null {
  if (typeof value !== 'string' || value === '') return null
  return value.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase()
}

/** Code-unit order, the same on every machine (locale collation is not). */
function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

function reason(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `no answer within ${timeoutMs} ms`
  }
  const cause =
    error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined
  const message = error instanceof Error ? error.message : String(error)
  return cause?.code
    ? `${message} (${cause.code})`
    : cause?.message
      ? `${message}: ${cause.message}`
      : message
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      out[i] = await fn(items[i]!)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return out
}

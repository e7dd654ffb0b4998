import {
  type Brain,
  type BrainConfig,
  BrainUnavailableError,
  deleteMemory,
  getMemoryRow,
  KnowledgeConflictError,
  loadMemoryRows,
  type MemoryRow,
  openBrain,
  searchMemoryRows,
  upsertMemory,
} from '@dstack/brain-schema'
import pg from 'pg'
import { InvalidMemoryError, MemoryConflictError, MemoryUnavailableError } from '../errors.ts'
import { canonicalKey, canonicalPrefix } from '../keys.ts'
import { checkWorkspace, isExpired, prepareWrite } from '../prepare.ts'
import type {
  JsonValue,
  KnowledgeState,
  Memory,
  MemoryChange,
  MemoryProvider,
  MemoryWrite,
  SearchHit,
  SearchOptions,
} from '../types.ts'

/** An agent handle the brain accepts as a foreign key; other provenance agents are kept in `source`. */
const HANDLE = /^[a-z0-9][a-z0-9._-]{0,62}$/

function toMemory(row: MemoryRow): Memory {
  const provenance: Memory['provenance'] = {}
  if (row.agent_id) provenance.agent = row.agent_id
  if (row.session_id) provenance.session = row.session_id
  if (row.repo) provenance.repo = row.repo
  if (row.branch) provenance.branch = row.branch
  if (row.commit_sha) provenance.commit = row.commit_sha
  if (row.source) provenance.source = row.source
  return {
    workspace: row.workspace,
    key: row.key,
    value: row.value as JsonValue,
    state: row.state as KnowledgeState,
    // real (float4) in the table: round to what was written.
    confidence: Number(row.confidence.toPrecision(6)),
    provenance,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    supersedes: row.supersedes,
    expiresAt: row.expires_at ? row.expires_at.toISOString() : null,
  }
}

const byKey = (a: Memory, b: Memory) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)

/**
 * Memory in the team brain (`dstack.memories`, embedded PGlite or any Postgres): shared by everyone on the brain,
 * ranked with Postgres full-text search, the knowledge-state rule enforced by the table itself so it holds across
 * processes and machines.
 *
 * @example
 * const memory = await BrainProvider.open({ brain: { driver: 'embedded', dataDir }, workspace: 'acme-api' })
 * await memory.write({ key: 'auth/token-ttl', value: 3600, state: 'CONFIRMED' })
 */
export class BrainProvider implements MemoryProvider {
  readonly kind = 'brain'
  readonly workspace: string
  readonly #brain: Brain
  readonly #owned: boolean

  private constructor(brain: Brain, workspace: string, owned: boolean) {
    this.#brain = brain
    this.workspace = workspace
    this.#owned = owned
  }

  /**
   * Opens the provider on an open brain (left open on close) or on a brain config (opened here, closed on close).
   *
   * @example
   * const memory = await BrainProvider.open({ brain: openedBrain, workspace: 'acme-api' })
   */
  static async open(options: { brain: Brain | BrainConfig; workspace: string }): Promise<BrainProvider> {
    const workspace = checkWorkspace(options.workspace)
    if ('db' in options.brain) return new BrainProvider(options.brain, workspace, false)
    try {
      return new BrainProvider(await openBrain(options.brain), workspace, true)
    } catch (error) {
      if (error instanceof BrainUnavailableError)
        throw new MemoryUnavailableError(error.message, { cause: error })
      throw error
    }
  }

  get db() {
    return this.#brain.db
  }

  async get(key: string): Promise<Memory | null> {
    const row = await getMemoryRow(this.db, this.workspace, canonicalKey(key))
    const memory = row ? toMemory(row) : null
    return memory && !isExpired(memory) ? memory : null
  }

  async load(prefix: string): Promise<Memory[]> {
    const rows = await loadMemoryRows(this.db, this.workspace, canonicalPrefix(prefix))
    return rows.map(toMemory).sort(byKey)
  }

  async write(write: MemoryWrite): Promise<Memory> {
    const key = canonicalKey(write.key)
    const stored = await this.get(key)
    // Validation, secrets and the state rule on the client; the table's trigger re-checks the rule atomically.
    const memory = prepareWrite(this.workspace, write, stored)
    const { agent, session, repo, branch, commit, source } = memory.provenance
    if (agent && !HANDLE.test(agent)) {
      throw new InvalidMemoryError(
        `provenance.agent ${JSON.stringify(agent)} is not an agent handle (lowercase, e.g. alice)`,
      )
    }
    try {
      const row = await upsertMemory(this.db, {
        workspace: this.workspace,
        key,
        value: memory.value,
        state: memory.state,
        confidence: memory.confidence,
        agent_id: agent ?? null,
        session_id: session ?? null,
        repo: repo ?? null,
        branch: branch ?? null,
        commit_sha: commit ?? null,
        source: source ?? null,
        supersedes: memory.supersedes,
        expires_at: memory.expiresAt ? new Date(memory.expiresAt) : null,
      })
      return toMemory(row)
    } catch (error) {
      if (error instanceof KnowledgeConflictError) {
        throw new MemoryConflictError(key, error.stored as KnowledgeState, error.incoming as KnowledgeState)
      }
      throw error
    }
  }

  async search(query: string, options: SearchOptions = {}): Promise<SearchHit[]> {
    const hits = await searchMemoryRows(this.db, this.workspace, query, {
      limit: options.limit ?? 10,
      prefix: options.prefix === undefined ? '' : canonicalPrefix(options.prefix),
      states: options.states,
      minConfidence: options.minConfidence,
    })
    return hits.map(({ row, rank }) => ({ memory: toMemory(row), score: rank }))
  }

  async delete(key: string): Promise<boolean> {
    return deleteMemory(this.db, this.workspace, canonicalKey(key))
  }

  async exportAll(): Promise<Memory[]> {
    const rows = await loadMemoryRows(this.db, this.workspace, '', { includeExpired: true })
    return rows.map(toMemory).sort(byKey)
  }

  /**
   * Calls `onChange` for every write and delete of this workspace's memories, by any process or machine on the brain
   * (LISTEN on the `dstack_memory` channel, over its own connection).
   *
   * @example
   * const watcher = await memory.watch((change) => console.log(change.op, change.key))
   */
  async watch(onChange: (change: MemoryChange) => void): Promise<{ close(): Promise<void> }> {
    const { max: _max, ...config } = await this.#brain.driver.connectionConfig()
    const client = new pg.Client({ ...(config as pg.ClientConfig), application_name: 'dstack memory watch' })
    await client.connect()
    client.on('error', () => {})
    client.on('notification', (message) => {
      if (message.channel !== 'dstack_memory' || !message.payload) return
      try {
        const change = JSON.parse(message.payload) as MemoryChange & { workspace: string }
        if (change.workspace === this.workspace) onChange({ op: change.op, key: change.key })
      } catch {}
    })
    await client.query('listen dstack_memory')
    return { close: () => client.end().catch(() => {}) }
  }

  async close(): Promise<void> {
    if (this.#owned) await this.#brain.close()
  }
}

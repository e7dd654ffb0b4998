import { type Dirent, statSync } from 'node:fs'
import {
  type FileHandle,
  mkdir,
  open,
  readdir,
  readFile,
  rmdir,
  stat,
  unlink,
  writeFile,
} from 'node:fs/promises'
import { dirname, join, resolve, sep } from 'node:path'
import { acquireLock, type HeldLock, LockTimeoutError, writeFileAtomic } from '@dstack/daemon'
import {
  CorruptMemoryError,
  InvalidMemoryError,
  MemoryConflictError,
  MemoryUnavailableError,
} from '../errors.ts'
import { canonicalKey, canonicalPrefix, decodeSegment, encodeSegment, underPrefix } from '../keys.ts'
import { checkWorkspace, isExpired, prepareWrite } from '../prepare.ts'
import { Bm25Index, type Bm25Snapshot, textOf } from '../search/bm25.ts'
import { canOverwrite } from '../state.ts'
import {
  KNOWLEDGE_STATES,
  type KnowledgeState,
  type Memory,
  type MemoryChange,
  type MemoryProvider,
  type MemoryWrite,
  type SearchHit,
  type SearchOptions,
} from '../types.ts'
import { formatMemoryFile, tryParseMemoryFile } from './file-format.ts'
import { watchTree } from './file-watch.ts'

// The default provider: one Markdown file per memory under <root>/<workspace>/, so memories can live in a repo and
// be reviewed like code (see file-format.ts for the file layout).
//
// Concurrency: every write and delete takes the workspace lock (<workspace>/.lock, a @dstack/daemon lock file with
// stale-owner detection) around read-check-write, so the knowledge-state rule holds across processes. Files are
// replaced atomically (temp file, fsync, rename); readers never lock and never see a torn file.
//
// Search: a BM25 index persisted at <workspace>/.index.json with the size and mtime of the file version each entry
// was built from. It is a cache validated against the files: every search (and open) lists the workspace and stats
// each memory file — one readdir per directory plus one stat per file, no reads — and re-reads only files that
// were added, edited or removed behind our back (git pull, an editor). Saving it is deferred (at most once a
// second, and on close) and happens under the lock after such a scan, so the saved index is complete at rest;
// a lost save only costs a re-read of the changed files next time. A file edited without changing its size or
// mtime (possible only on filesystems with coarse timestamps) is not noticed until it changes again.

/** Where a FileProvider keeps a workspace. */
export interface FileProviderOptions {
  /** The directory holding one sub-directory per workspace (the CLI passes ~/.dstack/memory or <repo>/.dstack/memory). */
  root: string
  workspace: string
  /** How long a write waits for another process's workspace lock before MemoryUnavailableError (default 30 s). */
  lockTimeoutMs?: number
  /** The clock, for tests. */
  now?: () => Date
}

/** A file in the workspace that is not a readable memory, and why. */
export interface FileProblem {
  /** Absolute path. */
  file: string
  problem: string
}

// What tells a file changed: a rewrite by temp + rename always gets a new inode, even when size and mtime (coarse on
// some file systems) stay the same.
type Stamp = { mtimeMs: number; size: number; ino: number }
type GoodEntry = Stamp & { key: string; state: KnowledgeState; confidence: number; expiresAt: string | null }
type BadEntry = Stamp & { problem: string }
type Entry = GoodEntry | BadEntry
type ReadResult = { memory: Memory; stamp: Stamp } | { problem: string; stamp: Stamp } | null

interface IndexFile {
  version: 1
  /** Relative path (always `/`-separated) → what the index holds for that file version. */
  files: Array<[string, Entry]>
  bm25: Bm25Snapshot
}

const EXT = '.md'
/** canonicalKey's limit. */
const MAX_KEY = 1024
const INDEX_FILE = '.index.json'
const LOCK_FILE = '.lock'
const GITIGNORE = `# dstack memory: the memories are the .md files; these are local caches and locks
/${INDEX_FILE}
/${LOCK_FILE}
/${LOCK_FILE}.break
.*.tmp
`
const SAVE_DELAY_MS = 1000
const WATCH_DEBOUNCE_MS = 50
/** Files read at once: enough to keep the disk busy, far below the open-file limit. */
const READ_CONCURRENCY = 32
const utf8 = new TextDecoder('utf-8', { fatal: true })

/** In-process queue per lock file: the lock file itself refuses a second holder with our own pid, so queue here. */
const processQueues = new Map<string, Promise<unknown>>()

/**
 * Memories as Markdown files: `<root>/<workspace>/<encoded segment>/…/<encoded last segment>.md`.
 *
 * @example
 * const memory = await FileProvider.open({ root: join(homedir(), '.dstack', 'memory'), workspace: 'acme-api' })
 * await memory.write({ key: 'db/engine', value: 'postgres 16', state: 'CONFIRMED' })
 * const hits = await memory.search('which database')
 * await memory.close()
 */
export class FileProvider implements MemoryProvider {
  readonly kind = 'file' as const
  readonly workspace: string
  /** The workspace directory. */
  readonly dir: string
  private readonly lockTimeoutMs: number
  private readonly now: () => Date
  /** Documents are relative paths (the filter looks entries up without re-encoding keys); the key is a field. */
  private bm25 = new Bm25Index()
  /** Relative path → entry, for every memory-named file the index has seen (readable or not). */
  private files = new Map<string, Entry>()
  /** Directories and files whose names are not encoded keys, from the last scan. */
  private nameProblems: FileProblem[] = []
  private queue: Promise<unknown> = Promise.resolve()
  private dirty = false
  private saveTimer: NodeJS.Timeout | undefined
  private closed = false
  private readonly watchers = new Set<{ close(): Promise<void> }>()

  private constructor(dir: string, workspace: string, options: FileProviderOptions) {
    this.dir = dir
    this.workspace = workspace
    this.lockTimeoutMs = options.lockTimeoutMs ?? 30_000
    this.now = options.now ?? (() => new Date())
  }

  /**
   * Opens (creating if needed) a workspace directory and brings its search index up to date with the files.
   *
   * @example
   * const memory = await FileProvider.open({ root: '/repo/.dstack/memory', workspace: 'acme-api' })
   */
  static async open(options: FileProviderOptions): Promise<FileProvider> {
    const workspace = checkWorkspace(options.workspace)
    const dir = join(resolve(options.root), workspace)
    await mkdir(dir, { recursive: true, mode: 0o700 })
    // Only when absent: a team may have its own rules for the directory.
    await writeFile(join(dir, '.gitignore'), GITIGNORE, { flag: 'wx', mode: 0o600 }).catch((error) => {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    })
    const provider = new FileProvider(dir, workspace, options)
    await provider.loadIndex()
    if (await provider.serial(() => provider.refresh())) provider.markDirty()
    return provider
  }

  /**
   * The memory at `key`, or null (absent or expired); CorruptMemoryError naming the file when it cannot be read.
   *
   * @example
   * (await memory.get('db/engine'))?.value // 'postgres 16'
   */
  async get(key: string): Promise<Memory | null> {
    const canonical = canonicalKey(key)
    const read = await this.readAt(relForKey(canonical), canonical)
    if (read === null) return null
    if ('problem' in read) throw new CorruptMemoryError(this.fileOf(relForKey(canonical)), read.problem)
    return isExpired(read.memory, this.now().getTime()) ? null : read.memory
  }

  /**
   * Live memories at or under `prefix`, sorted by key; reads only the prefix's file and directory. Unreadable
   * files are skipped (see problems()).
   *
   * @example
   * await memory.load('project/api') // project/api, project/api/auth/token-ttl, …
   */
  async load(prefix: string): Promise<Memory[]> {
    const canonical = canonicalPrefix(prefix)
    const now = this.now().getTime()
    return (await this.readAll(canonical)).filter((m) => !isExpired(m, now))
  }

  /**
   * Every readable memory, expired ones included, sorted by key.
   *
   * @example
   * const all = await memory.exportAll()
   */
  async exportAll(): Promise<Memory[]> {
    return this.readAll('')
  }

  /**
   * Creates or replaces a memory under the workspace lock. Throws MemoryConflictError when the stored memory (or
   * the one `supersedes` names) has a higher state, and CorruptMemoryError when the file at the key cannot be read
   * and the write is not CONFIRMED (only a verified write may replace what nobody can read).
   *
   * @example
   * await memory.write({ key: 'decisions/hashing-v2', value: 'argon2id', state: 'CONFIRMED', supersedes: 'decisions/hashing-v1' })
   */
  async write(input: MemoryWrite): Promise<Memory> {
    // Validate (key, value, secrets) before queueing for the lock.
    const key = prepareWrite(this.workspace, input, null, this.now()).key
    return this.serial(() =>
      this.locked(async () => {
        const now = this.now()
        const rel = relForKey(key)
        const existing = await this.readAt(rel, key)
        if (existing && 'problem' in existing && input.state !== 'CONFIRMED') {
          throw new CorruptMemoryError(
            this.fileOf(rel),
            `${existing.problem} (only a CONFIRMED write may replace an unreadable memory)`,
          )
        }
        const live =
          existing && 'memory' in existing && !isExpired(existing.memory, now.getTime())
            ? existing.memory
            : null
        const memory = prepareWrite(this.workspace, input, live, now)
        let superseded: Memory | null = null
        if (memory.supersedes !== null && memory.supersedes !== key) {
          const old = await this.readAt(relForKey(memory.supersedes), memory.supersedes)
          if (old && 'memory' in old && !isExpired(old.memory, now.getTime())) {
            // Expiring a memory replaces it: the state rule applies to it too.
            if (!canOverwrite(old.memory.state, memory.state))
              throw new MemoryConflictError(old.memory.key, old.memory.state, memory.state)
            superseded = { ...old.memory, expiresAt: memory.updatedAt, updatedAt: memory.updatedAt }
          }
        }
        await this.store(memory)
        if (superseded) await this.store(superseded)
        return memory
      }),
    )
  }

  /**
   * Removes a memory's file (also an unreadable one); false when there was none.
   *
   * @example
   * await memory.delete('tmp/scratch') // true
   */
  async delete(key: string): Promise<boolean> {
    const canonical = canonicalKey(key)
    const rel = relForKey(canonical)
    return this.serial(() =>
      this.locked(async () => {
        try {
          await unlink(this.fileOf(rel))
        } catch (error) {
          if (!isMissing(error)) throw error
          if (this.forget(rel)) this.markDirty()
          return false
        }
        this.forget(rel)
        this.markDirty()
        // Empty directories would linger in the tree (and in a person's editor) after their last memory went.
        for (let dir = dirname(this.fileOf(rel)); dir.startsWith(this.dir + sep); dir = dirname(dir))
          if (!(await removeIfEmpty(dir))) break
        return true
      }),
    )
  }

  /**
   * Ranked search (BM25 over key and value words) among live memories, after picking up files changed on disk.
   *
   * @example
   * await memory.search('password hashing', { prefix: 'auth', states: ['CONFIRMED'], limit: 5 })
   */
  async search(query: string, options: SearchOptions = {}): Promise<SearchHit[]> {
    const limit = options.limit ?? 10
    const prefix = canonicalPrefix(options.prefix ?? '')
    if (limit <= 0) return []
    if (await this.serial(() => this.refresh())) this.markDirty()
    const now = this.now().getTime()
    const wanted = (m: {
      key: string
      state: KnowledgeState
      confidence: number
      expiresAt: string | null
    }) =>
      underPrefix(m.key, prefix) &&
      (options.states === undefined || options.states.includes(m.state)) &&
      (options.minConfidence === undefined || m.confidence >= options.minConfidence) &&
      !(m.expiresAt !== null && Date.parse(m.expiresAt) <= now)
    const ranked = this.bm25.search(query, {
      limit: Number.POSITIVE_INFINITY,
      filter: (rel) => {
        const entry = this.files.get(rel)
        return entry !== undefined && 'key' in entry && wanted(entry)
      },
    })
    const hits: SearchHit[] = []
    for (const { id: rel, score } of ranked) {
      if (hits.length >= limit) break
      const entry = this.files.get(rel)
      if (!entry || !('key' in entry)) continue
      // Read only the hits we return; a file changed since the scan is checked again.
      const read = await this.readAt(rel, entry.key)
      if (read && 'memory' in read && wanted(read.memory)) hits.push({ memory: read.memory, score })
    }
    return hits
  }

  /**
   * Files in the workspace that are not readable memories (bad front matter, bad JSON, a name that is not an
   * encoded key), after a scan. load, search and exportAll skip them; get of such a key throws.
   *
   * @example
   * for (const { file, problem } of await memory.problems()) console.warn(`${file}: ${problem}`)
   */
  async problems(): Promise<FileProblem[]> {
    if (await this.serial(() => this.refresh())) this.markDirty()
    const found = [...this.nameProblems]
    for (const [rel, entry] of this.files)
      if ('problem' in entry) found.push({ file: this.fileOf(rel), problem: entry.problem })
    return found.sort((a, b) => compare(a.file, b.file))
  }

  /**
   * Reports writes and deletes of memory files by anyone (this process, others, an editor, git), debounced per
   * key. Best effort: built on fs.watch (one watcher per directory), which network filesystems may not support.
   *
   * @example
   * const watcher = await memory.watch(({ op, key }) => console.log(op, key))
   * await watcher.close()
   */
  async watch(onChange: (change: MemoryChange) => void): Promise<{ close(): Promise<void> }> {
    const pending = new Map<string, NodeJS.Timeout>()
    const tree = await watchTree(this.dir, (rel) => {
      const key = keyForRel(rel)
      if (key === null) return
      clearTimeout(pending.get(key))
      pending.set(
        key,
        setTimeout(() => {
          pending.delete(key)
          void stat(this.fileOf(rel)).then(
            () => onChange({ op: 'write', key }),
            () => onChange({ op: 'delete', key }),
          )
        }, WATCH_DEBOUNCE_MS),
      )
    })
    const handle = {
      close: async () => {
        this.watchers.delete(handle)
        tree.close()
        for (const timer of pending.values()) clearTimeout(timer)
        pending.clear()
      },
    }
    this.watchers.add(handle)
    return handle
  }

  /**
   * Stops watchers and saves the search index if it changed.
   *
   * @example
   * await memory.close()
   */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    clearTimeout(this.saveTimer)
    for (const watcher of [...this.watchers]) await watcher.close()
    // The index is a cache: failing to save it (a busy lock) costs a re-scan next time, not an error now.
    if (this.dirty) await this.serial(() => this.save()).catch(() => undefined)
  }

  private fileOf(rel: string): string {
    // Plain concatenation: rel is already normal, and join() is a measurable part of a 10k-file scan.
    return sep === '/' ? `${this.dir}/${rel}` : join(this.dir, ...rel.split('/'))
  }

  /** Runs index-touching operations of this provider one at a time. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn)
    this.queue = run.catch(() => undefined)
    return run
  }

  /** Runs `fn` holding the workspace lock (queued in-process first, then the lock file across processes). */
  private async locked<T>(fn: () => Promise<T>): Promise<T> {
    const path = join(this.dir, LOCK_FILE)
    const previous = processQueues.get(path) ?? Promise.resolve()
    let done!: () => void
    const mine = new Promise<void>((resolve) => {
      done = resolve
    })
    const tail = previous.then(() => mine)
    processQueues.set(path, tail)
    await previous
    try {
      let lock: HeldLock
      try {
        lock = await acquireLock(path, `dstack memory ${this.workspace}`, {
          timeoutMs: this.lockTimeoutMs,
          pollMs: 5,
        })
      } catch (error) {
        if (error instanceof LockTimeoutError)
          throw new MemoryUnavailableError(`memory workspace ${this.workspace} is busy: ${error.message}`, {
            cause: error,
          })
        throw error
      }
      try {
        return await fn()
      } finally {
        lock.release()
      }
    } finally {
      done()
      if (processQueues.get(path) === tail) processQueues.delete(path)
    }
  }

  /** Reads and parses one memory file, with the size and mtime of exactly the version read. */
  private async readAt(rel: string, key: string): Promise<ReadResult> {
    let handle: FileHandle
    try {
      handle = await open(this.fileOf(rel), 'r')
    } catch (error) {
      if (isMissing(error)) return null
      throw error
    }
    try {
      // fstat and read the same open file, so the stamp cannot belong to a newer version renamed into place.
      const info = await handle.stat()
      const stamp = { mtimeMs: info.mtimeMs, size: info.size, ino: info.ino }
      if (!info.isFile()) return { problem: 'not a regular file', stamp }
      let text: string
      try {
        text = utf8.decode(await handle.readFile())
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EISDIR')
          return { problem: 'not a regular file', stamp }
        if (error instanceof TypeError) return { problem: 'not UTF-8 text', stamp }
        throw error
      }
      const parsed = tryParseMemoryFile(text, this.workspace)
      if ('problem' in parsed) return { problem: parsed.problem, stamp }
      if (parsed.memory.key !== key)
        return {
          problem: `holds key ${JSON.stringify(parsed.memory.key)} but its path is that of ${JSON.stringify(key)}`,
          stamp,
        }
      return { memory: parsed.memory, stamp }
    } finally {
      await handle.close()
    }
  }

  /** Every readable memory at or under a canonical prefix, sorted by key (expired ones included). */
  private async readAll(prefix: string): Promise<Memory[]> {
    const found: Array<{ rel: string; key: string }> = []
    if (prefix === '') await this.walk('', [], found, null)
    else {
      const rel = relForKey(prefix)
      found.push({ rel, key: prefix })
      await this.walk(rel.slice(0, -EXT.length), prefix.split('/'), found, null)
    }
    const reads = await mapLimit(found, READ_CONCURRENCY, ({ rel, key }) => this.readAt(rel, key))
    const memories: Memory[] = []
    for (const read of reads) if (read && 'memory' in read) memories.push(read.memory)
    return memories.sort((a, b) => compare(a.key, b.key))
  }

  /**
   * Lists memory files under a relative directory. Dot-names (the index, the lock, temp files, .git) are ours or
   * not memories; other names that are not encoded keys go to `problems` when given.
   */
  private async walk(
    relDir: string,
    segments: string[],
    out: Array<{ rel: string; key: string }>,
    problems: FileProblem[] | null,
  ): Promise<void> {
    let entries: Dirent[]
    try {
      entries = await readdir(relDir === '' ? this.dir : this.fileOf(relDir), { withFileTypes: true })
    } catch (error) {
      if (isMissing(error)) return
      throw error
    }
    const subdirs: Array<Promise<void>> = []
    for (const entry of entries) {
      const name = entry.name
      if (name.startsWith('.')) continue
      const rel = relDir === '' ? name : `${relDir}/${name}`
      if (entry.isDirectory()) {
        const segment = decodeName(name)
        if (segment === null)
          problems?.push({ file: this.fileOf(rel), problem: 'directory name is not an encoded key segment' })
        else subdirs.push(this.walk(rel, [...segments, segment], out, problems))
      } else if (entry.isFile() && name.endsWith(EXT)) {
        const segment = decodeName(name.slice(0, -EXT.length))
        const key = segment === null ? '' : [...segments, segment].join('/')
        if (segment === null || key.length > MAX_KEY)
          problems?.push({ file: this.fileOf(rel), problem: 'file name is not an encoded key segment' })
        else out.push({ rel, key })
      }
    }
    await Promise.all(subdirs)
  }

  /**
   * Brings the in-memory index in line with the files on disk: a readdir per directory and a stat per file, then
   * a read of each file that is new or whose size or mtime changed. Returns whether anything changed.
   */
  private async refresh(): Promise<boolean> {
    const listed: Array<{ rel: string; key: string }> = []
    const problems: FileProblem[] = []
    await this.walk('', [], listed, problems)
    this.nameProblems = problems
    // Synchronous on purpose: 10k stats take ~12 ms this way and ~60-110 ms through the libuv thread pool.
    const stamps = listed.map(({ rel }) => {
      const info = statSync(this.fileOf(rel), { throwIfNoEntry: false })
      return info ? { mtimeMs: info.mtimeMs, size: info.size, ino: info.ino } : null
    })
    let changed = false
    const present = new Set<string>()
    const stale: Array<{ rel: string; key: string }> = []
    for (const [i, file] of listed.entries()) {
      const stamp = stamps[i]
      if (!stamp) continue
      present.add(file.rel)
      const entry = this.files.get(file.rel)
      if (!entry || entry.mtimeMs !== stamp.mtimeMs || entry.size !== stamp.size || entry.ino !== stamp.ino) {
        stale.push(file)
      }
    }
    for (const rel of [...this.files.keys()]) if (!present.has(rel)) changed = this.forget(rel) || changed
    await mapLimit(stale, READ_CONCURRENCY, async ({ rel, key }) => {
      this.index(rel, key, await this.readAt(rel, key))
      changed = true
    })
    return changed
  }

  /** Records what a file holds (or that it is gone or unreadable) in the in-memory index. */
  private index(rel: string, key: string, read: ReadResult): void {
    if (read === null) {
      this.forget(rel)
    } else if ('problem' in read) {
      this.bm25.remove(rel)
      this.files.set(rel, { ...read.stamp, problem: read.problem })
    } else {
      const { memory } = read
      this.bm25.add(rel, { key, text: textOf(memory.value) })
      this.files.set(rel, {
        ...read.stamp,
        key,
        state: memory.state,
        confidence: memory.confidence,
        expiresAt: memory.expiresAt,
      })
    }
  }

  private forget(rel: string): boolean {
    const entry = this.files.get(rel)
    if (!entry) return false
    this.bm25.remove(rel)
    this.files.delete(rel)
    return true
  }

  /** Writes one memory file atomically (caller holds the lock) and indexes it. */
  private async store(memory: Memory): Promise<void> {
    const rel = relForKey(memory.key)
    const file = this.fileOf(rel)
    writeFileAtomic(file, formatMemoryFile(memory), { mode: 0o600, dirMode: 0o700, fsync: true })
    // Under the lock nobody else rewrites this file, so this stat belongs to what we just wrote.
    const info = await stat(file)
    this.index(rel, memory.key, { memory, stamp: { mtimeMs: info.mtimeMs, size: info.size, ino: info.ino } })
    this.markDirty()
  }

  private markDirty(): void {
    this.dirty = true
    if (this.closed || this.saveTimer) return
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined
      void this.serial(() => this.save()).catch(() => undefined)
    }, SAVE_DELAY_MS)
    this.saveTimer.unref()
  }

  /**
   * Saves the index under the lock, after a scan: writers change files only under the lock, so the saved index
   * covers every write made before it (another process's deferred save cannot leave an older view behind).
   */
  private async save(): Promise<void> {
    if (!this.dirty) return
    await this.locked(async () => {
      await this.refresh()
      const snapshot: IndexFile = { version: 1, files: [...this.files], bm25: this.bm25.toJSON() }
      writeFileAtomic(join(this.dir, INDEX_FILE), JSON.stringify(snapshot), { mode: 0o600, fsync: false })
      this.dirty = false
    })
  }

  /** Loads the saved index, if any; anything malformed or inconsistent is dropped and rebuilt by the next scan. */
  private async loadIndex(): Promise<void> {
    let data: Partial<IndexFile>
    try {
      data = JSON.parse(await readFile(join(this.dir, INDEX_FILE), 'utf8')) as Partial<IndexFile>
      if (data.version !== 1 || !Array.isArray(data.files)) return
      this.bm25 = Bm25Index.fromJSON(data.bm25)
    } catch {
      return
    }
    for (const item of data.files) {
      if (!Array.isArray(item) || typeof item[0] !== 'string' || !validEntry(item[1])) continue
      const [rel, entry] = item
      if ('key' in entry ? relForKey(entry.key) !== rel || !this.bm25.has(rel) : keyForRel(rel) === null)
        continue
      this.files.set(rel, entry)
    }
    // Documents without a file entry would be found but never re-checked.
    for (const rel of this.bm25.ids()) if (!this.files.has(rel)) this.bm25.remove(rel)
  }
}

/** A file name's limit is 255 bytes on common file systems; leave room for the extension and a temp suffix. */
const MAX_NAME_BYTES = 200

function relForKey(key: string): string {
  const names = key.split('/').map(encodeSegment)
  const long = names.find((name) => name.length > MAX_NAME_BYTES)
  if (long !== undefined) {
    throw new InvalidMemoryError(
      `memory key ${JSON.stringify(key)} has a segment too long for a file name (${long.length} bytes encoded, at most ${MAX_NAME_BYTES}): shorten it or split it with /`,
    )
  }
  return `${names.join('/')}${EXT}`
}

/** The key a relative path names, or null for anything that is not a memory file (dot-names, other files). */
function keyForRel(rel: string): string | null {
  if (!rel.endsWith(EXT)) return null
  const segments: string[] = []
  for (const name of rel.slice(0, -EXT.length).split('/')) {
    if (name.startsWith('.')) return null
    const segment = decodeName(name)
    if (segment === null) return null
    segments.push(segment)
  }
  const key = segments.join('/')
  return key.length > MAX_KEY ? null : key
}

/** Decoded names, by name: a scan decodes the same few thousand names every time. */
const decoded = new Map<string, string | null>()

/**
 * The key segment a file or directory name encodes, or null when it is not exactly encodeSegment's output for a
 * canonical segment (no `.`/`..`, NFC, no stray spaces). Segments valid alone make a valid key when joined by `/`.
 */
function decodeName(name: string): string | null {
  let segment = decoded.get(name)
  if (segment !== undefined) return segment
  try {
    const candidate = decodeSegment(name)
    segment = canonicalKey(candidate) === candidate ? candidate : null
  } catch {
    segment = null
  }
  if (decoded.size > 100_000) decoded.clear()
  decoded.set(name, segment)
  return segment
}

function validEntry(value: unknown): value is Entry {
  const entry = value as Partial<GoodEntry & BadEntry> | null
  if (
    !entry ||
    typeof entry.mtimeMs !== 'number' ||
    typeof entry.size !== 'number' ||
    typeof entry.ino !== 'number'
  ) {
    return false
  }
  if (typeof entry.problem === 'string') return true
  return (
    typeof entry.key === 'string' &&
    (KNOWLEDGE_STATES as readonly unknown[]).includes(entry.state) &&
    typeof entry.confidence === 'number' &&
    (entry.expiresAt === null || typeof entry.expiresAt === 'string')
  )
}

/** rmdir, reporting whether it happened (it fails on a directory that still has entries). */
async function removeIfEmpty(dir: string): Promise<boolean> {
  try {
    await rmdir(dir)
    return true
  } catch {
    return false
  }
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code
  return code === 'ENOENT' || code === 'ENOTDIR'
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++
      out[i] = await fn(items[i]!)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return out
}

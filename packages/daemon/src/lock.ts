import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { currentProcess, isAlive, type ProcessIdentity } from './process.ts'

/** What a lock file records about its holder. */
export interface LockOwner extends ProcessIdentity {
  purpose: string
  acquiredAt: string
}

export interface HeldLock {
  readonly path: string
  readonly owner: LockOwner
  /** Removes the lock file if it is still ours. Safe to call twice. */
  release(): void
}

export type TryLockResult = { acquired: true; lock: HeldLock } | { acquired: false; heldBy: LockOwner | null }

/**
 * A lock file being written (created but not yet filled) is given this long before it counts as abandoned.
 * Also the age after which a breaker's `.break` file is presumed left by a crash.
 */
const WRITE_GRACE_MS = 5_000

function parseOwner(text: string): LockOwner | null {
  try {
    const value = JSON.parse(text) as Partial<LockOwner>
    if (typeof value.pid !== 'number' || typeof value.host !== 'string') return null
    return {
      pid: value.pid,
      host: value.host,
      startTime: typeof value.startTime === 'string' ? value.startTime : null,
      purpose: typeof value.purpose === 'string' ? value.purpose : '',
      acquiredAt: typeof value.acquiredAt === 'string' ? value.acquiredAt : '',
    }
  } catch {
    return null
  }
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw error
  }
}

function ageMs(path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs
  } catch {
    return 0
  }
}

/**
 * Reads who holds a lock, or null when the file is absent or unreadable.
 *
 * @example
 * readLockOwner('/home/me/.dstack/brain/server.lock')?.pid
 */
export function readLockOwner(path: string): LockOwner | null {
  const text = readText(path)
  return text === null ? null : parseOwner(text)
}

function createExclusive(path: string, content: string): boolean {
  let fd: number
  try {
    fd = openSync(path, 'wx', 0o600)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'EEXIST') return false
    if (code === 'ENOENT') {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
      return createExclusive(path, content)
    }
    throw error
  }
  try {
    writeSync(fd, content)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  return true
}

/**
 * Removes a lock whose holder is gone, but only if the file still holds exactly `staleText`. Breakers are serialised
 * by a short-lived `.break` file, so between our re-read and our unlink nobody else can replace the lock: a new
 * holder could only create it after it is gone, and only one breaker runs at a time.
 */
function breakStale(path: string, staleText: string): void {
  const breaker = `${path}.break`
  if (!createExclusive(breaker, String(process.pid))) {
    if (ageMs(breaker) > WRITE_GRACE_MS) rmSync(breaker, { force: true })
    return
  }
  try {
    if (readText(path) === staleText) rmSync(path, { force: true })
  } finally {
    rmSync(breaker, { force: true })
  }
}

/**
 * Takes an exclusive lock file at once or reports who holds it. A lock left by a dead process (or a recycled pid,
 * told apart by start time on Linux) is broken and taken over; a half-written lock younger than a few seconds is
 * respected. The lock is a plain file, so it works on every local filesystem and tells humans who holds it.
 *
 * @example
 * const result = tryLock('/home/me/.dstack/brain/server.lock', 'brain server')
 * if (!result.acquired) console.log(`held by pid ${result.heldBy?.pid}`)
 * else try { serve() } finally { result.lock.release() }
 */
export function tryLock(path: string, purpose: string): TryLockResult {
  const owner: LockOwner = { ...currentProcess(), purpose, acquiredAt: new Date().toISOString() }
  const content = `${JSON.stringify(owner)}\n`
  for (let attempt = 0; attempt < 5; attempt++) {
    if (createExclusive(path, content)) {
      let released = false
      return {
        acquired: true,
        lock: {
          path,
          owner,
          release() {
            if (released) return
            released = true
            // Only ever remove our own lock, never one a breaker handed to somebody else.
            if (readText(path) === content) rmSync(path, { force: true })
          },
        },
      }
    }
    const text = readText(path)
    if (text === null) continue // released between our attempt and our read: try again
    const holder = parseOwner(text)
    if (holder === null) {
      // Being written right now, or torn by a crash: respect it for a grace period.
      if (ageMs(path) < WRITE_GRACE_MS) return { acquired: false, heldBy: null }
    } else if (holder.pid === process.pid && holder.host === owner.host) {
      return { acquired: false, heldBy: holder }
    } else if (isAlive(holder)) {
      return { acquired: false, heldBy: holder }
    }
    breakStale(path, text)
  }
  return { acquired: false, heldBy: readLockOwner(path) }
}

export interface AcquireLockOptions {
  /** Give up after this long; default 10 s. */
  timeoutMs?: number
  /** Poll interval while the lock is held; default 25 ms. */
  pollMs?: number
}

/** The lock stayed held past the timeout. */
export class LockTimeoutError extends Error {
  readonly path: string
  readonly heldBy: LockOwner | null

  constructor(path: string, heldBy: LockOwner | null) {
    super(
      heldBy
        ? `lock ${path} is held by pid ${heldBy.pid} on ${heldBy.host} (${heldBy.purpose}, since ${heldBy.acquiredAt})`
        : `lock ${path} is held (its owner is still writing it)`,
    )
    this.name = 'LockTimeoutError'
    this.path = path
    this.heldBy = heldBy
  }
}

/**
 * Waits for an exclusive lock file, polling until `timeoutMs`.
 *
 * @example
 * const lock = await acquireLock('/tmp/outbox.flush.lock', 'outbox flush', { timeoutMs: 2000 })
 * try { await flush() } finally { lock.release() }
 */
export async function acquireLock(
  path: string,
  purpose: string,
  options: AcquireLockOptions = {},
): Promise<HeldLock> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000)
  for (;;) {
    const result = tryLock(path, purpose)
    if (result.acquired) return result.lock
    if (Date.now() >= deadline) throw new LockTimeoutError(path, result.heldBy)
    await sleep(options.pollMs ?? 25)
  }
}

import { execFile, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { acquireLock, LockTimeoutError, readLockOwner, tryLock } from '../src/lock.ts'
import { currentProcess } from '../src/process.ts'

const run = promisify(execFile)
let dir: string
let lockPath: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dstack-lock-'))
  lockPath = join(dir, 'sub', 'x.lock')
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'])
  return Number(child.stdout.toString())
}

describe('tryLock', () => {
  it('takes a free lock, records the owner, refuses a second taker and frees on release', () => {
    const first = tryLock(lockPath, 'first')
    expect(first.acquired).toBe(true)
    expect(readLockOwner(lockPath)).toMatchObject({ pid: process.pid, purpose: 'first', host: hostname() })
    const second = tryLock(lockPath, 'second')
    expect(second).toMatchObject({ acquired: false, heldBy: { pid: process.pid, purpose: 'first' } })
    if (first.acquired) first.lock.release()
    expect(readLockOwner(lockPath)).toBeNull()
    expect(tryLock(lockPath, 'third').acquired).toBe(true)
  })

  it('breaks a lock whose holder has exited', () => {
    const pid = deadPid()
    const stale = join(dir, 'stale.lock')
    writeFileSync(
      stale,
      JSON.stringify({ pid, host: hostname(), startTime: null, purpose: 'gone', acquiredAt: '' }),
    )
    const result = tryLock(stale, 'taker')
    expect(result.acquired).toBe(true)
    expect(readLockOwner(stale)?.pid).toBe(process.pid)
  })

  it('breaks a lock whose pid is alive but was recycled (different start time)', () => {
    const stale = join(dir, 'recycled.lock')
    const parent = { ...currentProcess(), pid: process.ppid, startTime: '1' }
    writeFileSync(stale, JSON.stringify({ ...parent, purpose: 'old', acquiredAt: '' }))
    expect(tryLock(stale, 'taker').acquired).toBe(true)
  })

  it('respects a live holder with the right start time, and one on another host', () => {
    const live = join(dir, 'live.lock')
    const parent = { ...currentProcess(), pid: process.ppid }
    parent.startTime = readFileSync(`/proc/${process.ppid}/stat`, 'utf8').split(') ')[1]!.split(' ')[19]!
    writeFileSync(live, JSON.stringify({ ...parent, purpose: 'parent', acquiredAt: '' }))
    expect(tryLock(live, 'taker')).toMatchObject({ acquired: false, heldBy: { pid: process.ppid } })

    const remote = join(dir, 'remote.lock')
    writeFileSync(remote, JSON.stringify({ pid: 999999, host: 'elsewhere', startTime: null, purpose: 'x' }))
    expect(tryLock(remote, 'taker')).toMatchObject({ acquired: false, heldBy: { host: 'elsewhere' } })
  })

  it('respects a half-written lock for a grace period, then breaks it', () => {
    const torn = join(dir, 'torn.lock')
    writeFileSync(torn, '{"pid":')
    expect(tryLock(torn, 'taker')).toEqual({ acquired: false, heldBy: null })
    const past = new Date(Date.now() - 60_000)
    utimesSync(torn, past, past)
    expect(tryLock(torn, 'taker').acquired).toBe(true)
  })

  it('release never removes a lock that is no longer ours', () => {
    const result = tryLock(lockPath, 'mine')
    if (!result.acquired) throw new Error('expected the lock')
    writeFileSync(
      lockPath,
      JSON.stringify({ pid: 1, host: hostname(), startTime: null, purpose: 'someone else' }),
    )
    result.lock.release()
    expect(readLockOwner(lockPath)?.purpose).toBe('someone else')
  })
})

describe('acquireLock', () => {
  it('times out with a message naming the holder', async () => {
    const held = tryLock(lockPath, 'long job')
    expect(held.acquired).toBe(true)
    const error = await acquireLock(lockPath, 'impatient', { timeoutMs: 100 }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(LockTimeoutError)
    expect((error as Error).message).toMatch(new RegExp(`held by pid ${process.pid} .*long job`))
  })

  it('gives mutual exclusion to 8 competing processes (no lost increment, never two inside)', async () => {
    const counter = join(dir, 'counter')
    writeFileSync(counter, '0')
    const worker = join(import.meta.dirname, 'lock-worker.ts')
    const iterations = 40
    await Promise.all(
      Array.from({ length: 8 }, () =>
        run(process.execPath, [worker, lockPath, counter, join(dir, 'inside'), String(iterations)]),
      ),
    )
    expect(Number(readFileSync(counter, 'utf8'))).toBe(8 * iterations)
    expect(readLockOwner(lockPath)).toBeNull()
  })

  it('takes over from a holder that was killed while holding the lock', async () => {
    const holder = join(dir, 'holder.ts')
    writeFileSync(
      holder,
      `import { tryLock } from ${JSON.stringify(join(import.meta.dirname, '../src/lock.ts'))}
       tryLock(process.argv[2], 'doomed'); process.stdout.write('held\\n'); setInterval(() => {}, 1000)`,
    )
    const { spawn } = await import('node:child_process')
    const child = spawn(process.execPath, [holder, lockPath], { stdio: ['ignore', 'pipe', 'inherit'] })
    await new Promise((resolve) => child.stdout.once('data', resolve))
    expect(readLockOwner(lockPath)?.purpose).toBe('doomed')
    child.kill('SIGKILL')
    await new Promise((resolve) => child.once('exit', resolve))
    const lock = await acquireLock(lockPath, 'survivor', { timeoutMs: 2_000 })
    expect(readLockOwner(lockPath)?.purpose).toBe('survivor')
    lock.release()
  })
})

// Process and port helpers for the deploy fixtures: free loopback ports, the process table read from /proc, and
// killing a set of processes until they are really gone. On this kind of machine PID 1 may not reap orphans, so a
// zombie counts as gone.
import type { ChildProcess } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'

/**
 * A TCP port that was free on 127.0.0.1 a moment ago (the kernel picks it; callers retry if someone else wins it).
 *
 * @example
 * const port = await freePort()
 */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((done, fail) => {
    server.once('error', fail)
    server.listen(0, '127.0.0.1', done)
  })
  const address = server.address()
  await new Promise<void>((done) => server.close(() => done()))
  if (address === null || typeof address === 'string') throw new Error('no port from listen(0)')
  return address.port
}

/** One row of the process table. */
export interface ProcessInfo {
  pid: number
  ppid: number
  /** The kernel's short name (`sshd`, `node`). */
  comm: string
  /** One-letter state from /proc/<pid>/stat; `Z` is a zombie. */
  state: string
}

/**
 * Every process visible in /proc (Linux only; empty elsewhere).
 *
 * @example
 * processes().filter((p) => p.comm === 'sshd')
 */
export function processes(): ProcessInfo[] {
  let entries: string[]
  try {
    entries = readdirSync('/proc')
  } catch {
    return []
  }
  const found: ProcessInfo[] = []
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue
    const stat = readText(`/proc/${entry}/stat`)
    if (stat === undefined) continue
    // comm may hold spaces and parentheses: it runs from the first '(' to the last ')'.
    const close = stat.lastIndexOf(')')
    const fields = stat.slice(close + 2).split(' ')
    found.push({
      pid: Number(entry),
      ppid: Number(fields[1]),
      comm: stat.slice(stat.indexOf('(') + 1, close),
      state: fields[0] ?? '?',
    })
  }
  return found
}

/**
 * The pids below `root` in the process tree (children, grandchildren, …), not `root` itself.
 *
 * @example
 * descendants(child.pid!)
 */
export function descendants(root: number, table: ProcessInfo[] = processes()): ProcessInfo[] {
  const below: ProcessInfo[] = []
  let frontier = [root]
  while (frontier.length > 0) {
    const parents = new Set(frontier)
    const next = table.filter((p) => parents.has(p.ppid))
    below.push(...next)
    frontier = next.map((p) => p.pid)
  }
  return below
}

/**
 * Live processes whose environment holds `name=value` exactly: finds what a session started even after it was
 * re-parented away from its tree (daemonised services, orphans of a dropped connection).
 *
 * @example
 * processesWithEnv('DSTACK_TEST_SSHD', marker)
 */
export function processesWithEnv(name: string, value: string): number[] {
  const wanted = `${name}=${value}`
  const found: number[] = []
  for (const p of processes()) {
    if (p.state === 'Z' || p.pid === process.pid) continue
    const environ = readText(`/proc/${p.pid}/environ`)
    if (environ?.split('\0').includes(wanted)) found.push(p.pid)
  }
  return found
}

/**
 * Whether `pid` is still running; zombies and vanished pids are not.
 *
 * @example
 * alive(1234) // false once it has exited
 */
export function alive(pid: number): boolean {
  const stat = readText(`/proc/${pid}/stat`)
  if (stat !== undefined) return stat.charAt(stat.lastIndexOf(')') + 2) !== 'Z'
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/**
 * Sends SIGTERM to every pid, waits up to `graceMs` for all to go, then SIGKILLs the rest and waits for them too.
 * Throws when something survives SIGKILL (it should not: that would be an orphan left behind).
 *
 * @example
 * await terminate([listener, ...children.map((p) => p.pid)])
 */
export async function terminate(pids: number[], graceMs = 3000): Promise<void> {
  const targets = [...new Set(pids)].filter((pid) => pid > 1 && pid !== process.pid)
  signal(targets, 'SIGTERM')
  if (await waitGone(targets, graceMs)) return
  signal(targets, 'SIGKILL')
  if (await waitGone(targets, 5000)) return
  throw new Error(`processes survived SIGKILL: ${targets.filter(alive).join(', ')}`)
}

/**
 * SIGKILLs every pid right away, without waiting: for `process.on('exit')` hooks, where nothing async runs.
 *
 * @example
 * process.once('exit', () => killNow([child.pid!]))
 */
export function killNow(pids: number[]): void {
  signal(
    pids.filter((pid) => pid > 1 && pid !== process.pid),
    'SIGKILL',
  )
}

/**
 * Resolves with the child's exit code (or signal name) once it has exited; at once if it already has.
 *
 * @example
 * const code = await exited(child)
 */
export function exited(child: ChildProcess): Promise<number | string> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode)
  if (child.signalCode !== null) return Promise.resolve(child.signalCode)
  return new Promise((done) => child.once('exit', (code, sig) => done(code ?? sig ?? 'unknown')))
}

/**
 * Polls `check` every `everyMs` until it returns a value other than undefined, or throws after `timeoutMs` with
 * `what` in the message.
 *
 * @example
 * await until(() => (log().includes('ready') ? true : undefined), 'the ready line')
 */
export async function until<T>(
  check: () => T | undefined | Promise<T | undefined>,
  what: string,
  timeoutMs = 10_000,
  everyMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(everyMs)
  }
}

async function waitGone(pids: number[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (pids.some(alive)) {
    if (Date.now() > deadline) return false
    await sleep(20)
  }
  return true
}

function signal(pids: number[], sig: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, sig)
    } catch {
      // Already gone.
    }
  }
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}

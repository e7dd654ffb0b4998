import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { dirname } from 'node:path'

/** Who a process is: a pid alone is reused by the OS, so Linux adds the start time from /proc. */
export interface ProcessIdentity {
  pid: number
  /** Start time in clock ticks since boot (Linux); null where /proc is not available. */
  startTime: string | null
  host: string
}

/**
 * The start time of a process from /proc/<pid>/stat (field 22), or null when unavailable.
 *
 * @example
 * processStartTime(process.pid) // '123456' on Linux, null on macOS
 */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // comm (field 2) may contain spaces and parentheses: the fields after it start past the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return rest[19] ?? null
  } catch {
    return null
  }
}

/**
 * Identity of the current process, to record in lock and state files.
 *
 * @example
 * const me = currentProcess() // { pid: 4242, startTime: '98765', host: 'alice-mbp' }
 */
export function currentProcess(): ProcessIdentity {
  return { pid: process.pid, startTime: processStartTime(process.pid), host: hostname() }
}

/**
 * Whether the process that wrote `id` is still running: same host, pid alive and, where the OS tells, the same
 * start time (so a recycled pid does not keep a dead owner's lock alive). A process on another host counts as alive:
 * we cannot check it, and assuming it dead could let two owners in.
 *
 * @example
 * isAlive({ pid: 1, startTime: null, host: hostname() }) // true: init is running
 */
export function isAlive(id: ProcessIdentity): boolean {
  if (id.host !== hostname()) return true
  try {
    process.kill(id.pid, 0)
  } catch (error) {
    // EPERM: the pid exists but belongs to another user, so it is alive.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false
  }
  if (id.startTime === null) return true
  const now = processStartTime(id.pid)
  return now === null || now === id.startTime
}

export interface SpawnDetachedOptions {
  /** File that receives the child's stdout and stderr (appended). Its directory is created. */
  logFile: string
  env?: NodeJS.ProcessEnv
  cwd?: string
}

/**
 * Starts a process that outlives the caller: its own session, no stdio tied to the parent, output in a log file.
 * Returns the child's pid and a promise of its exit code (which never keeps the parent alive).
 *
 * @example
 * const { pid } = spawnDetached(process.execPath, ['server.js'], { logFile: '/tmp/server.log' })
 */
export function spawnDetached(
  command: string,
  args: readonly string[],
  options: SpawnDetachedOptions,
): { pid: number; exited: Promise<number | null> } {
  mkdirSync(dirname(options.logFile), { recursive: true, mode: 0o700 })
  const log = openSync(options.logFile, 'a', 0o600)
  try {
    // Loaded on first use: node:child_process costs ~2 ms to load, and hooks import this module on every tool call.
    const { spawn } = process.getBuiltinModule('node:child_process')
    const child = spawn(command, args, {
      detached: true,
      stdio: ['ignore', log, log],
      env: options.env ?? process.env,
      cwd: options.cwd,
    })
    if (child.pid === undefined) throw new Error(`could not start ${command}`)
    const exited = new Promise<number | null>((resolve) => {
      child.once('exit', (code) => resolve(code))
      child.once('error', () => resolve(null))
    })
    child.unref()
    return { pid: child.pid, exited }
  } finally {
    closeSync(log)
  }
}

// Where one workspace's daemon keeps its state: <DSTACK_HOME>/browser/<workspace id>/.
import { createHash } from 'node:crypto'
import { readFileSync, rmSync } from 'node:fs'
import { basename, join, resolve } from 'node:path'
import { dstackHome } from '@dstack/config/paths'
import { isAlive, writeFileAtomic } from '@dstack/daemon'
import { z } from 'zod'

/** What a running daemon publishes for its clients; written 0600 because it holds the bearer token. */
export const daemonStateSchema = z.strictObject({
  pid: z.number().int().positive(),
  /** With host, tells a live daemon from a recycled pid (see @dstack/daemon isAlive). */
  startTime: z.string().nullable(),
  host: z.string(),
  port: z.number().int().min(1).max(65535),
  token: z.string().min(32),
  version: z.string(),
  workspace: z.string(),
  startedAt: z.string(),
  /** Start-up settings; a client asking for others is told to stop the daemon first. */
  settings: z.strictObject({
    allowEval: z.boolean(),
    allowDomains: z.array(z.string()).nullable(),
    idleMinutes: z.number(),
  }),
})

export type DaemonState = z.infer<typeof daemonStateSchema>
export type DaemonSettings = DaemonState['settings']

export interface DaemonFiles {
  dir: string
  state: string
  lock: string
  log: string
  /** Screenshots and reports default here. */
  artifacts: string
}

/**
 * The files of the daemon for `workspace` (a repository root or any directory): one daemon per workspace.
 *
 * @example
 * daemonFiles('/home/me/app').state // '/home/me/.dstack/browser/app-3f2a9c1b/state.json'
 */
export function daemonFiles(workspace: string, home: string = dstackHome()): DaemonFiles {
  const root = resolve(workspace)
  const id = `${basename(root)
    .replace(/[^A-Za-z0-9._-]/g, '_')
    .slice(0, 40)}-${createHash('sha256').update(root).digest('hex').slice(0, 8)}`
  const dir = join(home, 'browser', id)
  return {
    dir,
    state: join(dir, 'state.json'),
    lock: join(dir, 'start.lock'),
    log: join(dir, 'daemon.log'),
    artifacts: join(dir, 'artifacts'),
  }
}

/**
 * The published state, or null when there is none or it is unreadable (a torn or foreign file is not trusted).
 *
 * @example
 * readDaemonState(daemonFiles(cwd).state)?.port // 41873
 */
export function readDaemonState(path: string): DaemonState | null {
  try {
    const parsed = daemonStateSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')))
    return parsed.success ? parsed.data : null
  } catch {
    return null
  }
}

/** Publishes the state atomically, mode 0600. */
export function writeDaemonState(path: string, state: DaemonState): void {
  writeFileAtomic(path, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 })
}

/** Removes the state file if it still describes `pid` (a newer daemon's file is left alone). */
export function clearDaemonState(path: string, pid: number): void {
  if (readDaemonState(path)?.pid === pid) rmSync(path, { force: true })
}

/**
 * Whether the daemon a state file describes is still running (pid, host and start time all match).
 *
 * @example
 * daemonAlive(readDaemonState(files.state)!) // true
 */
export function daemonAlive(state: DaemonState): boolean {
  return isAlive({ pid: state.pid, startTime: state.startTime, host: state.host })
}

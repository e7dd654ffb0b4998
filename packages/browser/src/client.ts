// The client side: find or start the workspace's daemon (one at a time, under a lock), and send it commands.
import { readFileSync } from 'node:fs'
import { extname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { dstackHome } from '@dstack/config/paths'
import { acquireLock, spawnDetached } from '@dstack/daemon'
import { findRepo } from '@dstack/git'
import {
  clearDaemonState,
  type DaemonFiles,
  type DaemonSettings,
  type DaemonState,
  daemonAlive,
  daemonFiles,
  readDaemonState,
} from './daemon/files.ts'
import type { CommandReply } from './daemon/protocol.ts'
import { BrowserBusyError, BrowserError, BrowserUnavailableError } from './errors.ts'
import { checkAllowList } from './page/defences.ts'

export const VERSION = '0.1.0'

export interface ClientOptions {
  /** The workspace the daemon belongs to (a repository root or any directory); default the current directory. */
  workspace?: string
  /** DSTACK_HOME; default from the environment. */
  home?: string
  /** Who is driving: each agent gets its own browser context and tabs. Default `default`. */
  agent?: string
  /** Start-up settings; a running daemon with other settings is an error (stop it first), never silently replaced. */
  settings?: Partial<DaemonSettings>
  /** How long to wait for a new daemon; default 20 s. */
  startTimeoutMs?: number
}

/** The repository the current directory is in (one daemon for all of it), else the current directory. */
function defaultWorkspace(): string {
  return findRepo(process.cwd())?.root ?? process.cwd()
}

/** DSTACK_AGENT, else the Claude Code session, else `default`: each agent gets its own browser context. */
function defaultAgent(): string {
  return process.env.DSTACK_AGENT || process.env.CLAUDE_CODE_SESSION_ID || 'default'
}

const DEFAULT_SETTINGS: DaemonSettings = { allowEval: false, allowDomains: null, idleMinutes: 30 }
const HEALTH_TIMEOUT_MS = 2000
// Past the daemon's own per-command limits (45 s, and `wait` up to 120 s more): only a daemon hung whole gets here.
const REQUEST_TIMEOUT_MS = 600_000
// A live daemon that does not answer is busy (a slow page, a long wait), not dead: give it this long, then say so.
const BUSY_BUDGET_MS = 8000

interface Health {
  ok: boolean
  pid: number
  version: string
}

async function health(state: DaemonState, timeoutMs = HEALTH_TIMEOUT_MS): Promise<Health | null> {
  try {
    const res = await fetch(`http://127.0.0.1:${state.port}/health`, {
      signal: AbortSignal.timeout(timeoutMs),
    })
    const body = (await res.json()) as Health
    return body.ok && body.pid === state.pid ? body : null
  } catch {
    return null
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** The daemon entry next to this module (.ts from source, .js when built). */
function daemonEntry(): string {
  return fileURLToPath(new URL(`./daemon/main${extname(import.meta.url)}`, import.meta.url))
}

/**
 * A connection to the workspace's browser daemon, started on demand and detached (it outlives this process and
 * stops itself when idle). Busy is never mistaken for dead: a live daemon that does not answer within 8 s is
 * reported busy and left alone.
 *
 * @example
 * const browser = await BrowserClient.connect({ workspace: '/home/me/app', agent: 'alice' })
 * console.log((await browser.run(['goto', 'http://127.0.0.1:3000/'])).output)
 * console.log((await browser.run(['snapshot', '--interactive'])).output)
 */
export class BrowserClient {
  readonly state: DaemonState
  readonly agent: string
  readonly files: DaemonFiles

  private constructor(state: DaemonState, agent: string, files: DaemonFiles) {
    this.state = state
    this.agent = agent
    this.files = files
  }

  static async connect(options: ClientOptions = {}): Promise<BrowserClient> {
    const workspace = options.workspace ?? defaultWorkspace()
    // A malformed entry would silently block everything: refuse it before any daemon starts.
    if (options.settings?.allowDomains) checkAllowList(options.settings.allowDomains)
    const home = options.home ?? dstackHome()
    const files = daemonFiles(workspace, home)
    const state = await ensureDaemon(workspace, home, files, options)
    return new BrowserClient(state, options.agent ?? defaultAgent(), files)
  }

  /** Runs one command (argv as typed after `dstack browse`). */
  run(argv: readonly string[]): Promise<CommandReply> {
    return this.#post('/command', { agent: this.agent, argv, cwd: process.cwd() })
  }

  /** Runs commands in order in one request, stopping at the first that fails. */
  batch(commands: readonly (readonly string[])[]): Promise<{ ok: boolean; replies: CommandReply[] }> {
    return this.#post('/batch', { agent: this.agent, commands, cwd: process.cwd() })
  }

  async #post<T>(path: string, body: unknown): Promise<T> {
    let res: Response
    try {
      res = await fetch(`http://127.0.0.1:${this.state.port}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.state.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        // The daemon bounds every command (a stuck page gets its tab closed); this is for a daemon hung whole.
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      })
    } catch (error) {
      if ((error as Error).name === 'TimeoutError')
        throw new BrowserBusyError(
          'busy',
          `the browser daemon (pid ${this.state.pid}) did not answer within ${REQUEST_TIMEOUT_MS / 1000} s`,
          'try again, or `dstack browse stop` to end it',
        )
      throw new BrowserUnavailableError(
        'unreachable',
        `the browser daemon (pid ${this.state.pid}) stopped answering: ${(error as Error).message}`,
        'run the command again: a new daemon is started if this one is gone',
      )
    }
    const reply = (await res.json()) as T & { error?: { code: string; message: string; hint: string | null } }
    if (res.status >= 400 && res.status !== 200)
      throw new BrowserError(
        reply.error?.code ?? 'failed',
        reply.error?.message ?? `HTTP ${res.status}`,
        reply.error?.hint ?? null,
      )
    return reply
  }
}

async function ensureDaemon(
  workspace: string,
  home: string,
  files: DaemonFiles,
  options: ClientOptions,
): Promise<DaemonState> {
  const reuse = async (): Promise<DaemonState | null> => {
    const state = readDaemonState(files.state)
    if (!state) return null
    if (!daemonAlive(state)) {
      clearDaemonState(files.state, state.pid) // a crash left it behind
      return null
    }
    const deadline = Date.now() + BUSY_BUDGET_MS
    while (!(await health(state))) {
      if (!daemonAlive(state)) return null
      if (Date.now() >= deadline)
        throw new BrowserBusyError(
          'busy',
          `the browser daemon (pid ${state.pid}) is alive but has not answered for ${BUSY_BUDGET_MS / 1000} s`,
          'it is probably busy with a slow page; try again, or `dstack browse stop` to end it',
        )
      await sleep(250)
    }
    checkSettings(state, options.settings)
    return state
  }

  const running = await reuse()
  if (running) return running
  // One starter at a time: a second client waits here, then finds the first one's daemon.
  const lock = await acquireLock(files.lock, 'browser daemon start', { timeoutMs: 30_000 })
  try {
    const started = await reuse()
    if (started) return started
    // Only the settings given: an explicit undefined must not erase a default.
    const given = Object.fromEntries(
      Object.entries(options.settings ?? {}).filter(([, v]) => v !== undefined),
    )
    const settings = { ...DEFAULT_SETTINGS, ...given }
    const child = spawnDetached(
      process.execPath,
      [daemonEntry(), JSON.stringify({ workspace, home, version: VERSION, settings })],
      { logFile: files.log, cwd: workspace },
    )
    let exited: number | null | undefined
    void child.exited.then((code) => {
      exited = code
    })
    const deadline = Date.now() + (options.startTimeoutMs ?? 20_000)
    for (;;) {
      const state = readDaemonState(files.state)
      if (state?.pid === child.pid && (await health(state))) return state
      if (exited !== undefined || Date.now() >= deadline) {
        const log = logTail(files.log)
        throw new BrowserUnavailableError(
          'start-failed',
          `the browser daemon did not start${exited !== undefined ? ` (exit code ${exited})` : ' in time'}${log ? `:\n${log}` : ''}`,
          `see ${files.log}`,
        )
      }
      await sleep(50)
    }
  } finally {
    lock.release()
  }
}

function checkSettings(state: DaemonState, wanted: Partial<DaemonSettings> | undefined): void {
  if (!wanted) return
  const differs = (Object.keys(wanted) as Array<keyof DaemonSettings>).filter(
    (key) => wanted[key] !== undefined && JSON.stringify(wanted[key]) !== JSON.stringify(state.settings[key]),
  )
  if (differs.length > 0)
    throw new BrowserError(
      'settings-mismatch',
      `the running browser daemon (pid ${state.pid}) was started with other ${differs.join(', ')}`,
      '`dstack browse stop`, then run the command again with the new flags',
    )
}

function logTail(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim().split('\n').slice(-8).join('\n')
  } catch {
    return ''
  }
}

/**
 * The workspace's daemon, if one runs: its state and whether it answers.
 *
 * @example
 * await daemonStatus({ workspace: '/home/me/app' }) // { running: true, state: { pid: 4242, port: 41873, … }, healthy: true }
 */
export async function daemonStatus(
  options: Pick<ClientOptions, 'workspace' | 'home'> = {},
): Promise<{ running: boolean; healthy: boolean; state: Omit<DaemonState, 'token'> | null }> {
  const files = daemonFiles(options.workspace ?? defaultWorkspace(), options.home ?? dstackHome())
  const state = readDaemonState(files.state)
  if (!state || !daemonAlive(state)) return { running: false, healthy: false, state: null }
  const { token: _token, ...shown } = state
  return { running: true, healthy: (await health(state)) !== null, state: shown }
}

/**
 * Stops the workspace's daemon (Chromium with it). Stopping one that is not running is not an error.
 *
 * @example
 * await stopDaemon({ workspace: '/home/me/app' }) // { stopped: true, pid: 4242 }
 */
export async function stopDaemon(
  options: Pick<ClientOptions, 'workspace' | 'home'> & { timeoutMs?: number } = {},
): Promise<{ stopped: boolean; pid: number | null }> {
  const files = daemonFiles(options.workspace ?? defaultWorkspace(), options.home ?? dstackHome())
  const state = readDaemonState(files.state)
  if (!state || !daemonAlive(state)) {
    if (state) clearDaemonState(files.state, state.pid)
    return { stopped: false, pid: null }
  }
  await fetch(`http://127.0.0.1:${state.port}/shutdown`, {
    method: 'POST',
    headers: { authorization: `Bearer ${state.token}` },
    signal: AbortSignal.timeout(5000),
  }).catch(() => process.kill(state.pid, 'SIGTERM'))
  const deadline = Date.now() + (options.timeoutMs ?? 10_000)
  while (daemonAlive(state) && Date.now() < deadline) await sleep(50)
  if (daemonAlive(state)) process.kill(state.pid, 'SIGKILL') // asked to stop: it does
  clearDaemonState(files.state, state.pid)
  return { stopped: true, pid: state.pid }
}

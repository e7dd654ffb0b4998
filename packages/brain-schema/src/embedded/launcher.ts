import { readFileSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { extname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { isAlive, readLockOwner, spawnDetached, waitFor } from '@dstack/daemon'
import {
  type EmbeddedPaths,
  EXIT_ALREADY_RUNNING,
  embeddedPaths,
  type ServerState,
  serverStateSchema,
} from './paths.ts'

/** Options shared by everything that finds or starts an embedded brain. */
export interface EmbeddedLocation {
  /** Data directory, e.g. ~/.dstack/brain. */
  dataDir: string
  /** Where the unix socket goes, when the data directory's path is too long for one. */
  socketDir?: string
}

export interface EnsureEmbeddedOptions extends EmbeddedLocation {
  /** The server stops after this long with no client connected; default 15 minutes. */
  idleTimeoutMs?: number
  /** How long to wait for a server to come up (creating a database takes a few seconds); default 60 s. */
  startTimeoutMs?: number
}

export interface EmbeddedServerInfo {
  paths: EmbeddedPaths
  /** True when this call started the server. */
  started: boolean
}

// server-main sits next to this file, as .ts when running from source and .js once built.
const serverMain = fileURLToPath(new URL(`./server-main${extname(import.meta.url)}`, import.meta.url))

/** Resolves true when something accepts connections on the socket. */
export function socketAccepts(socketPath: string, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(socketPath)
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

function logTail(logFile: string, lines = 15): string {
  try {
    return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
  } catch {
    return '(no log)'
  }
}

/**
 * Makes sure the one server that owns this embedded brain is running, starting it detached if needed, and returns
 * where to reach it. Safe to call from many processes at once: only one server wins the data directory's lock;
 * the others' starts exit at once and every caller waits for the winner's socket.
 *
 * @example
 * const { paths } = await ensureEmbeddedServer({ dataDir: '/home/me/.dstack/brain' })
 * new pg.Pool({ host: paths.socketDir, port: 5432, user: 'postgres', database: 'postgres' })
 */
export async function ensureEmbeddedServer(options: EnsureEmbeddedOptions): Promise<EmbeddedServerInfo> {
  const paths = embeddedPaths(options.dataDir, options.socketDir)
  if (await socketAccepts(paths.socketPath)) return { paths, started: false }

  const args = [serverMain, '--data-dir', paths.dataDir, '--socket-dir', paths.socketDir]
  if (options.idleTimeoutMs !== undefined) args.push('--idle-timeout-ms', String(options.idleTimeoutMs))
  let exitCode: number | null | undefined
  const spawnServer = () => {
    exitCode = undefined
    const child = spawnDetached(process.execPath, args, { logFile: paths.logFile })
    void child.exited.then((code) => {
      exitCode = code
    })
  }
  spawnServer()

  const timeoutMs = options.startTimeoutMs ?? 60_000
  await waitFor(
    async () => {
      if (await socketAccepts(paths.socketPath)) return true
      if (exitCode === EXIT_ALREADY_RUNNING) {
        // Another starter won the lock: wait for its socket. If it has gone meanwhile, start again.
        if (readLockOwner(paths.lockFile) === null) spawnServer()
      } else if (exitCode !== undefined) {
        throw new Error(
          `the embedded brain server failed to start (exit code ${exitCode}). Last lines of ${paths.logFile}:\n` +
            logTail(paths.logFile),
        )
      }
      return undefined
    },
    // A caller is waiting: poll the socket often (a failed connect costs microseconds).
    {
      timeoutMs,
      maxIntervalMs: 25,
      what: `the embedded brain server in ${paths.dataDir} (log: ${paths.logFile})`,
    },
  )
  return { paths, started: exitCode === undefined }
}

export interface EmbeddedServerStatus {
  paths: EmbeddedPaths
  running: boolean
  /** From the state file of the running server. */
  state: ServerState | null
  /** Resident memory of the server process in bytes (Linux), when running. */
  rssBytes: number | null
}

function readState(stateFile: string): ServerState | null {
  try {
    const parsed = serverStateSchema.safeParse(JSON.parse(readFileSync(stateFile, 'utf8')))
    return parsed.success ? parsed.data : null
  } catch {
    return null
  }
}

function residentBytes(pid: number): number | null {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return match ? Number(match[1]) * 1024 : null
  } catch {
    return null
  }
}

/**
 * Whether the embedded brain's server is running, without starting it.
 *
 * @example
 * const { running, state } = await embeddedServerStatus({ dataDir: '/home/me/.dstack/brain' })
 */
export async function embeddedServerStatus(location: EmbeddedLocation): Promise<EmbeddedServerStatus> {
  const paths = embeddedPaths(location.dataDir, location.socketDir)
  const running = await socketAccepts(paths.socketPath)
  const state = running ? readState(paths.stateFile) : null
  return { paths, running, state, rssBytes: state ? residentBytes(state.pid) : null }
}

/**
 * Stops the embedded brain's server gracefully (it finishes the unit in flight, rolls back open transactions and
 * closes the database) and waits until it is gone. Returns false when no server was running.
 *
 * @example
 * await stopEmbeddedServer({ dataDir: '/home/me/.dstack/brain' })
 */
export async function stopEmbeddedServer(location: EmbeddedLocation, timeoutMs = 20_000): Promise<boolean> {
  const paths = embeddedPaths(location.dataDir, location.socketDir)
  const owner = readLockOwner(paths.lockFile)
  if (!owner || !isAlive(owner)) {
    // Nothing runs; clear what a crashed server may have left.
    if (!(await socketAccepts(paths.socketPath))) rmSync(paths.stateFile, { force: true })
    return false
  }
  process.kill(owner.pid, 'SIGTERM')
  await waitFor(() => (isAlive(owner) ? undefined : true), {
    timeoutMs,
    what: `the embedded brain server (pid ${owner.pid}) to stop`,
  })
  return true
}

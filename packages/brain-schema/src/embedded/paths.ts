import { join, resolve } from 'node:path'
import { z } from 'zod'

/** Postgres clients find a server's unix socket as <dir>/.s.PGSQL.<port>; we always use this port number. */
export const SOCKET_PORT = 5432

/** Where an embedded brain keeps its things, all under one data directory (0700). */
export interface EmbeddedPaths {
  dataDir: string
  /** PGlite's database files. */
  pgdataDir: string
  /** Directory holding the unix socket, 0700: only this user can connect. */
  socketDir: string
  socketPath: string
  /** Held by the one server process for its whole life. */
  lockFile: string
  /** pid, version, start time of the running server (0600). */
  stateFile: string
  logFile: string
}

/** Linux allows 108 bytes for a unix socket path, macOS 104. */
const MAX_SOCKET_PATH = 103

/**
 * The layout of an embedded brain's data directory. `socketDir` moves only the socket, for data directories whose
 * path is too long for a unix socket.
 *
 * @example
 * embeddedPaths('/home/me/.dstack/brain').socketPath // '/home/me/.dstack/brain/run/.s.PGSQL.5432'
 */
export function embeddedPaths(dataDir: string, socketDir?: string): EmbeddedPaths {
  const root = resolve(dataDir)
  const sockets = resolve(socketDir ?? join(root, 'run'))
  const socketPath = join(sockets, `.s.PGSQL.${SOCKET_PORT}`)
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) {
    throw new Error(
      `the brain's socket path ${socketPath} is longer than unix sockets allow (${MAX_SOCKET_PATH} bytes): ` +
        'set brain.socket_dir in ~/.dstack/config.yaml (or DSTACK_BRAIN_SOCKET_DIR) to a shorter directory',
    )
  }
  return {
    dataDir: root,
    pgdataDir: join(root, 'pgdata'),
    socketDir: sockets,
    socketPath,
    lockFile: join(root, 'server.lock'),
    stateFile: join(root, 'server.json'),
    logFile: join(root, 'server.log'),
  }
}

/** What the running server writes to its state file. */
export const serverStateSchema = z.object({
  pid: z.number().int().positive(),
  startTime: z.string().nullable(),
  host: z.string(),
  version: z.string(),
  startedAt: z.iso.datetime(),
  socketPath: z.string(),
  dataDir: z.string(),
  idleTimeoutMs: z.number().int().nonnegative(),
})
export type ServerState = z.infer<typeof serverStateSchema>

/** Exit code of a server that found another one already owning the data directory. */
export const EXIT_ALREADY_RUNNING = 75

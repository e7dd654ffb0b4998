// The embedded brain server process: `node server-main.js --data-dir DIR [--socket-dir DIR] [--idle-timeout-ms N]`.
// Started detached by the launcher on first use. Exactly one runs per data directory: it takes the directory's lock
// before loading PGlite, so a racing second start exits at once with EXIT_ALREADY_RUNNING.

import { rmSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { currentProcess, IdleTimer, tryLock, writeFileAtomic } from '@dstack/daemon'
import { BRAIN_SCHEMA_VERSION } from '../version.ts'
import { EXIT_ALREADY_RUNNING, embeddedPaths, type ServerState } from './paths.ts'
import type { EmbeddedBrainServer as Server } from './server.ts'

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    'socket-dir': { type: 'string' },
    'idle-timeout-ms': { type: 'string', default: String(15 * 60_000) },
  },
})
const dataDir = values['data-dir']
const idleTimeoutMs = Number(values['idle-timeout-ms'])
if (!dataDir || !Number.isInteger(idleTimeoutMs) || idleTimeoutMs < 0) {
  console.error('usage: server-main --data-dir DIR [--socket-dir DIR] [--idle-timeout-ms N]')
  process.exit(64)
}
const paths = embeddedPaths(dataDir, values['socket-dir'])
const log = (message: string) => console.log(`${new Date().toISOString()} [pid ${process.pid}] ${message}`)

const locked = tryLock(paths.lockFile, 'dstack embedded brain server')
if (!locked.acquired) {
  log(`another server owns ${paths.dataDir} (pid ${locked.heldBy?.pid ?? 'unknown'}); exiting`)
  process.exit(EXIT_ALREADY_RUNNING)
}
const lock = locked.lock

// Loaded only once we own the directory: a losing racer never pays for PGlite.
const { EmbeddedBrainServer } = await import('./server.ts')

let server: Server | undefined
let stopping = false

async function shutdown(reason: string, code: number): Promise<never> {
  if (stopping) return new Promise<never>(() => {})
  stopping = true
  log(`stopping: ${reason}`)
  try {
    await server?.stop()
  } catch (error) {
    log(`error while stopping: ${(error as Error).stack}`)
    code = code || 1
  }
  rmSync(paths.stateFile, { force: true })
  lock.release()
  log('stopped')
  process.exit(code)
}

for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
  process.on(signal, () => void shutdown(signal, 0))
}
process.on('uncaughtException', (error) => {
  log(`uncaught: ${error.stack}`)
  void shutdown('uncaught exception', 1)
})
process.on('unhandledRejection', (error) => {
  log(`unhandled rejection: ${(error as Error)?.stack ?? String(error)}`)
  void shutdown('unhandled rejection', 1)
})

// Created once the server is up, so opening the database does not count as idle time.
let idle: IdleTimer | undefined
let endConnected: (() => void) | undefined

try {
  const started = Date.now()
  // Written before the socket exists, so whoever can connect can also read who is serving.
  const state: ServerState = {
    ...currentProcess(),
    version: BRAIN_SCHEMA_VERSION,
    startedAt: new Date(started).toISOString(),
    socketPath: paths.socketPath,
    dataDir: paths.dataDir,
    idleTimeoutMs,
  }
  writeFileAtomic(paths.stateFile, `${JSON.stringify(state, null, 2)}\n`)
  server = await EmbeddedBrainServer.start({
    pgdataDir: paths.pgdataDir,
    socketPath: paths.socketPath,
    // Connected clients keep the server busy; the idle countdown starts when the last one leaves.
    onConnectionsChanged(count) {
      if (count > 0 && !endConnected) endConnected = idle?.begin()
      if (count === 0 && endConnected) {
        endConnected()
        endConnected = undefined
      }
    },
  })
  idle = new IdleTimer(idleTimeoutMs, () => void shutdown(`idle for ${idleTimeoutMs} ms`, 0))
  if (server.stats().connections > 0) endConnected = idle.begin()
  log(`serving ${paths.pgdataDir} on ${paths.socketPath} (opened in ${Date.now() - started} ms)`)
} catch (error) {
  log(`failed to start: ${(error as Error).stack}`)
  await shutdown('start failed', 1)
}

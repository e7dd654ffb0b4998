import { rmSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { dstackHome, outboxDir } from '@dstack/config/paths'
import { isAlive, readLockOwner, spawnDetached } from '@dstack/daemon'

/** Between two background flushes started by hooks (Stop and SessionEnd start one regardless). */
const MIN_INTERVAL_MS = 3_000
/** After a flush found the brain unreachable, hooks wait this long before trying again in the background. */
const RETRY_AFTER_FAILURE_MS = 30_000

const failureMarker = (env: NodeJS.ProcessEnv) => join(outboxDir(env), '.flush-failed')

/**
 * Records that a flush could not reach the brain (or clears it after a good one), so hooks stop starting
 * flushers that would only fail, and compete for the CPU, while the brain is down.
 *
 * @example
 * noteFlushOutcome(process.env, { reachedBrain: false })
 */
export function noteFlushOutcome(env: NodeJS.ProcessEnv, outcome: { reachedBrain: boolean }): void {
  try {
    if (outcome.reachedBrain) rmSync(failureMarker(env), { force: true })
    else writeFileSync(failureMarker(env), new Date().toISOString(), { mode: 0o600 })
  } catch {}
}

/**
 * Starts `dstack outbox flush` detached, so queued entries reach the brain without the hook waiting: skipped while a
 * flusher holds the outbox lock, and at most once per 3 s unless `force`. Returns whether one was started.
 *
 * @example
 * startBackgroundFlush(process.env, { command: process.execPath, args: ['/opt/dstack/bin/run.js'] })
 */
export function startBackgroundFlush(
  env: NodeJS.ProcessEnv,
  flush: { command: string; args: string[] },
  options: { force?: boolean } = {},
): boolean {
  const dir = outboxDir(env)
  const owner = readLockOwner(join(dir, '.flush.lock'))
  if (owner && isAlive(owner)) return false
  const marker = join(dir, '.flush-started')
  const now = Date.now()
  if (!options.force) {
    try {
      if (now - statSync(marker).mtimeMs < MIN_INTERVAL_MS) return false
    } catch {}
    try {
      if (now - statSync(failureMarker(env)).mtimeMs < RETRY_AFTER_FAILURE_MS) return false
    } catch {}
  }
  try {
    utimesSync(marker, now / 1000, now / 1000)
  } catch {
    writeFileSync(marker, '', { mode: 0o600 })
  }
  spawnDetached(flush.command, [...flush.args, 'outbox', 'flush', '--quiet'], {
    logFile: join(dstackHome(env), 'logs', 'flush.log'),
    env,
  })
  return true
}

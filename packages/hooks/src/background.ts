import { statSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { dstackHome, outboxDir } from '@dstack/config/paths'
import { isAlive, readLockOwner, spawnDetached } from '@dstack/daemon'

/** Between two background flushes started by hooks (Stop and SessionEnd start one regardless). */
const MIN_INTERVAL_MS = 3_000

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

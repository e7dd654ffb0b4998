import type { BrainConfig } from './config.ts'
import { driverFor } from './drivers.ts'
import { embeddedServerStatus } from './embedded/launcher.ts'
import { migrationStatus } from './migrate/runner.ts'
import { openBrain } from './open-brain.ts'
import { type BrainSummary, brainSummary } from './ops/summary.ts'

export interface BrainStatus {
  driver: BrainConfig['driver']
  location: string
  /** Embedded only: the local server. */
  server?: {
    running: boolean
    pid: number | null
    startedAt: string | null
    socketPath: string
    rssBytes: number | null
    logFile: string
  }
  /** Present when the brain could be read. */
  schema?: { version: string | null; applied: number; pending: string[]; unknown: string[] }
  summary?: BrainSummary
  /** Why the brain could not be read, when it could not. */
  error?: string
}

/**
 * Reports on a brain without starting anything: an embedded brain whose server is stopped reports just that.
 *
 * @example
 * const status = await brainStatus({ driver: 'embedded', dataDir: '/home/me/.dstack/brain' })
 * console.log(status.server?.running, status.schema?.version)
 */
export async function brainStatus(config: BrainConfig): Promise<BrainStatus> {
  const driver = driverFor(config)
  const status: BrainStatus = { driver: config.driver, location: driver.location }
  if (config.driver === 'embedded') {
    const server = await embeddedServerStatus(config)
    status.server = {
      running: server.running,
      pid: server.state?.pid ?? null,
      startedAt: server.state?.startedAt ?? null,
      socketPath: server.paths.socketPath,
      rssBytes: server.rssBytes,
      logFile: server.paths.logFile,
    }
    if (!server.running) return status
  }
  let brain: Awaited<ReturnType<typeof openBrain>>
  try {
    brain = await openBrain(config)
  } catch (error) {
    status.error = (error as Error).message
    return status
  }
  try {
    const plan = await migrationStatus(brain.db)
    status.schema = {
      version: plan.applied.at(-1)?.version ?? null,
      applied: plan.applied.length,
      pending: plan.pending.map((m) => `${m.version}_${m.name}`),
      unknown: plan.unknown.map((m) => `${m.version}_${m.name}`),
    }
    if (plan.applied.length > 0) status.summary = await brainSummary(brain.db)
  } finally {
    await brain.close()
  }
  return status
}

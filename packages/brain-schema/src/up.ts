import type { BrainConfig } from './config.ts'
import { embeddedServerStatus, stopEmbeddedServer } from './embedded/launcher.ts'
import type { Input } from './inputs.ts'
import { migrate } from './migrate/runner.ts'
import { openBrain } from './open-brain.ts'
import { registerAgent } from './ops/registry.ts'

export interface BrainUpResult {
  driver: BrainConfig['driver']
  location: string
  /** Embedded: this call started the server (it was not running). */
  serverStarted: boolean
  migrationsApplied: Array<{ version: string; name: string; ms: number }>
  schemaVersion: string | null
  /** The agent registered, when one was given. */
  agent: string | null
  ms: number
}

/**
 * Makes a brain ready for work: starts the embedded server if needed, applies pending migrations (unless
 * `migrate: false`) and registers the agent.
 *
 * @example
 * const up = await brainUp({ driver: 'embedded', dataDir }, { agent: { id: 'alice', display_name: 'Alice' } })
 * console.log(up.serverStarted, up.migrationsApplied.length)
 */
export async function brainUp(
  config: BrainConfig,
  options: { migrate?: boolean; agent?: Input<'agents'> } = {},
): Promise<BrainUpResult> {
  const started = performance.now()
  const wasRunning = config.driver === 'embedded' ? (await embeddedServerStatus(config)).running : true
  const brain = await openBrain(config)
  try {
    const result = options.migrate === false ? null : await migrate(brain.db)
    if (options.agent) await registerAgent(brain.db, options.agent)
    return {
      driver: config.driver,
      location: brain.driver.location,
      serverStarted: !wasRunning,
      migrationsApplied: result?.ran ?? [],
      schemaVersion: result?.plan.applied.at(-1)?.version ?? null,
      agent: options.agent?.id ?? null,
      ms: Math.round(performance.now() - started),
    }
  } finally {
    await brain.close()
  }
}

/**
 * Stops an embedded brain's server; returns whether one was running. A Postgres brain is not dstack's to stop.
 *
 * @example
 * await brainDown({ driver: 'embedded', dataDir }) // true
 */
export async function brainDown(config: BrainConfig): Promise<boolean> {
  return config.driver === 'embedded' ? stopEmbeddedServer(config) : false
}

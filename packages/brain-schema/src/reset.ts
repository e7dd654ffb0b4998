import { rmSync } from 'node:fs'
import { sql } from 'kysely'
import type { BrainConfig } from './config.ts'
import { stopEmbeddedServer } from './embedded/launcher.ts'
import { embeddedPaths } from './embedded/paths.ts'
import { openBrain } from './open-brain.ts'

/**
 * Deletes everything in a brain. Embedded: stops the server and removes the database files (config and logs stay).
 * Postgres: drops the `dstack` schema and its publication, leaving the rest of the database alone. Apply the
 * migrations again afterwards (`openBrain(config, { migrate: true })`).
 *
 * @example
 * await resetBrain({ driver: 'embedded', dataDir: '/tmp/scratch-brain' })
 */
export async function resetBrain(config: BrainConfig): Promise<void> {
  if (config.driver === 'embedded') {
    await stopEmbeddedServer(config)
    rmSync(embeddedPaths(config.dataDir, config.socketDir).pgdataDir, { recursive: true, force: true })
    return
  }
  const brain = await openBrain(config)
  try {
    await brain.db.transaction().execute(async (trx) => {
      await sql`set local client_min_messages = warning`.execute(trx)
      await sql`drop publication if exists dstack_realtime`.execute(trx)
      await sql`drop schema if exists dstack cascade`.execute(trx)
    })
  } finally {
    await brain.close()
  }
}

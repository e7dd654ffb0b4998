// Spawned by brain.bench.ts as one short-lived client, the way a CLI command or a hook reaches the brain: open it
// (starting the embedded server when none runs), `select 1`, close, exit. The parent times the whole process.
// argv: <brain config JSON> [migrate]
import { sql } from 'kysely'
import type { BrainConfig } from '../src/config.ts'
import { openBrain } from '../src/open-brain.ts'

const [configJson, mode] = process.argv.slice(2)
if (!configJson) throw new Error('usage: client.bench-child.ts <brain config JSON> [migrate]')
// openBrain validates the config itself.
const brain = await openBrain(JSON.parse(configJson) as BrainConfig, { migrate: mode === 'migrate' })
await sql`select 1`.execute(brain.db)
await brain.close()

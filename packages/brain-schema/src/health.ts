import type { Kysely } from 'kysely'
import { introspectSchema } from './codegen.ts'
import type { BrainConfig } from './config.ts'
import { type Database, rowSchemas } from './database.generated.ts'
import { embeddedPaths } from './embedded/paths.ts'
import { migrationStatus } from './migrate/runner.ts'
import { type Brain, openBrain } from './open-brain.ts'

export type CheckStatus = 'ok' | 'warn' | 'fail'

/** One health check: what was looked at, the verdict, and the command that fixes a problem. */
export interface Check {
  name: string
  status: CheckStatus
  detail: string
  fix?: string
}

/**
 * Checks that the brain's schema is the one this version of dstack expects: every migration applied and unmodified,
 * and every table and column the code reads present (catches hand-made changes).
 *
 * @example
 * for (const check of await checkSchema(brain.db)) console.log(check.status, check.detail)
 */
export async function checkSchema(db: Kysely<Database>): Promise<Check[]> {
  const plan = await migrationStatus(db)
  const version = plan.applied.at(-1)?.version ?? 'none'
  const checks: Check[] = []
  if (plan.modified.length > 0) {
    checks.push({
      name: 'schema version',
      status: 'fail',
      detail: `applied migrations changed since: ${plan.modified.map((m) => m.migration.name).join(', ')}`,
      fix: 'restore the migration files from this dstack release; never edit an applied migration',
    })
  } else if (plan.pending.length > 0) {
    checks.push({
      name: 'schema version',
      status: 'fail',
      detail: `${plan.pending.length} migration(s) pending (schema at ${version})`,
      fix: 'dstack brain migrate',
    })
  } else {
    checks.push({
      name: 'schema version',
      status: 'ok',
      detail: `at ${version} (${plan.applied.length} migrations)`,
    })
  }
  if (plan.unknown.length > 0) {
    checks.push({
      name: 'dstack version',
      status: 'warn',
      detail: `the brain has ${plan.unknown.length} migration(s) newer than this dstack`,
      fix: 'upgrade dstack so it understands the whole schema',
    })
  }
  if (plan.pending.length === 0) {
    const live = new Set((await introspectSchema(db)).map((c) => `${c.relation}.${c.column}`))
    const missing = Object.entries(rowSchemas).flatMap(([relation, schema]) =>
      Object.keys(schema.shape)
        .map((column) => `${relation}.${column}`)
        .filter((key) => !live.has(key)),
    )
    checks.push(
      missing.length === 0
        ? { name: 'schema shape', status: 'ok', detail: 'every table and column dstack uses is present' }
        : {
            name: 'schema shape',
            status: 'fail',
            detail: `missing: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}`,
            fix: 'the schema was changed by hand: dstack brain reset --yes (embedded) or restore it from a backup',
          },
    )
  }
  return checks
}

/**
 * Checks that a teammate handle is registered in the brain.
 *
 * @example
 * const check = await checkAgent(brain.db, 'alice') // { status: 'ok', ... }
 */
export async function checkAgent(db: Kysely<Database>, agentId: string): Promise<Check> {
  const agent = await db
    .selectFrom('agents')
    .select(['id', 'display_name'])
    .where('id', '=', agentId)
    .executeTakeFirst()
  return agent
    ? { name: 'agent', status: 'ok', detail: `${agent.id} (${agent.display_name}) is registered` }
    : {
        name: 'agent',
        status: 'fail',
        detail: `${agentId} is not registered in this brain`,
        fix: 'dstack brain up',
      }
}

/**
 * Every brain check for one machine: reachable, schema version and shape, agent registered. A brain that cannot
 * be reached yields that one failing check, with where to look.
 *
 * @example
 * const checks = await diagnoseBrain({ driver: 'embedded', dataDir }, 'alice')
 * const healthy = checks.every((c) => c.status !== 'fail')
 */
export async function diagnoseBrain(config: BrainConfig, agentId: string): Promise<Check[]> {
  let brain: Brain
  try {
    brain = await openBrain(config)
  } catch (error) {
    return [
      {
        name: 'brain reachable',
        status: 'fail',
        detail: (error as Error).message,
        fix:
          config.driver === 'embedded'
            ? `read ${embeddedPaths(config.dataDir, config.socketDir).logFile}, then \`dstack brain up\``
            : 'check brain.url in ~/.dstack/config.yaml (or DSTACK_BRAIN_URL) and that the server is up',
      },
    ]
  }
  try {
    const reachable: Check = {
      name: 'brain reachable',
      status: 'ok',
      detail: `${config.driver} at ${brain.driver.location}`,
    }
    const schema = await checkSchema(brain.db)
    const ready = !schema.some((check) => check.name === 'schema version' && check.status === 'fail')
    return [reachable, ...schema, ...(ready ? [await checkAgent(brain.db, agentId)] : [])]
  } finally {
    await brain.close()
  }
}

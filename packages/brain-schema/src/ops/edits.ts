import { z } from 'zod'
import { hunk, repoPath } from '../inputs.ts'
import { currentIntent } from './intents.ts'
import { ensureFeature, ensureFile } from './registry.ts'
import { type Db, inTransaction, parseWith, type ResolvedScope } from './scope.ts'

// Folder names that say where code lives, not what it is about.
const GENERIC_DIRS = new Set([
  'src',
  'lib',
  'libs',
  'app',
  'apps',
  'packages',
  'pkg',
  'internal',
  'source',
  'sources',
  'test',
  'tests',
  'spec',
  '__tests__',
  'e2e',
  'main',
  'java',
  'kotlin',
  'python',
  'ts',
  'js',
  'dist',
  'build',
  'public',
  'static',
  'assets',
  'components',
  'modules',
  'common',
  'shared',
  'utils',
  'util',
  'helpers',
  'core',
  'services',
  'cmd',
])

/**
 * The feature a path belongs to, inferred from its folders: the first folder that is not a generic container
 * (`src/auth/login.ts` → `auth`, `packages/billing/src/x.ts` → `billing`). Null for top-level files and paths made
 * only of generic folders. Lowercased and cleaned to a valid feature name.
 *
 * @example
 * featureForPath('apps/web/src/checkout/cart.tsx') // 'web'
 */
export function featureForPath(path: string): string | null {
  const dirs = path.split('/').slice(0, -1)
  for (const dir of dirs) {
    const name = dir
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '-')
      .replace(/^[^a-z0-9]+/, '')
      .slice(0, 100)
    if (name && !GENERIC_DIRS.has(name) && !dir.startsWith('.')) return name
  }
  return null
}

export const logEditSchema = z.strictObject({
  /** Client-generated: a replay with the same id writes nothing. */
  id: z.uuid().optional(),
  path: repoPath,
  op: z.enum(['edit', 'write', 'create', 'delete', 'rename', 'notebook']),
  tool: z.string().max(100).nullish(),
  summary: z.string().max(2_000).nullish(),
  hunks: z.array(hunk).max(10_000).optional(),
  /** When the edit happened (an outbox entry flushed an hour later keeps its time). */
  at: z.date().optional(),
  /** Feature tags; default: the one inferred from the path. */
  features: z.array(z.string()).max(50).optional(),
})

export interface LoggedEdit {
  editId: string
  fileId: string
  intentId: string | null
  features: string[]
  /** False when this id was already logged (a replay). */
  inserted: boolean
}

/**
 * Appends an edit to the log and writes the graph edges that make it findable: the file, its feature
 * (file ↔ feature), the feature of the agent's current intent (intent ↔ feature); the edit itself links
 * intent ↔ file. Everything in one transaction; idempotent by `id`.
 *
 * @example
 * await logEdit(brain.db, scope, { path: 'src/auth/login.ts', op: 'edit', tool: 'Edit', hunks: [[10, 14]] })
 */
export async function logEdit(
  db: Db,
  scope: ResolvedScope,
  input: z.input<typeof logEditSchema>,
): Promise<LoggedEdit> {
  const edit = parseWith(logEditSchema, 'edit', input)
  return inTransaction(db, async (trx) => {
    const fileId = await ensureFile(trx, scope.repoId, edit.path)
    const intent = await currentIntent(trx, scope)
    const inserted = await trx
      .insertInto('edits')
      .values({
        ...(edit.id ? { id: edit.id } : {}),
        agent_id: scope.agentId,
        repo_id: scope.repoId,
        file_id: fileId,
        intent_id: intent?.id ?? null,
        branch_id: scope.branchId,
        session_id: scope.sessionId,
        op: edit.op,
        tool: edit.tool ?? null,
        summary: edit.summary ?? null,
        hunks: JSON.stringify(edit.hunks ?? []),
        ...(edit.at ? { created_at: edit.at } : {}),
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .returning('id')
      .executeTakeFirst()
    const editId = inserted?.id ?? edit.id!
    const inferred = featureForPath(edit.path)
    const features = edit.features ?? (inferred ? [inferred] : [])
    for (const name of features) {
      const featureId = await ensureFeature(trx, scope.repoId, name)
      await trx
        .insertInto('file_features')
        .values({ file_id: fileId, feature_id: featureId })
        .onConflict((oc) => oc.doNothing())
        .execute()
      if (intent) {
        await trx
          .insertInto('intent_features')
          .values({ intent_id: intent.id, feature_id: featureId })
          .onConflict((oc) => oc.doNothing())
          .execute()
      }
    }
    return { editId, fileId, intentId: intent?.id ?? null, features, inserted: inserted !== undefined }
  })
}

export const recordPushSchema = z.strictObject({
  id: z.uuid().optional(),
  headSha: z
    .string()
    .regex(/^[0-9a-f]{7,64}$/)
    .nullish(),
  remote: z.string().max(500).nullish(),
  at: z.date().optional(),
})

/**
 * Records that the agent pushed the scope's branch: its earlier edits there stop counting as unpushed in other
 * agents' conflict pre-checks. Idempotent by `id`.
 *
 * @example
 * await recordPush(brain.db, scope, { headSha: 'a1b2c3d', remote: 'origin' })
 */
export async function recordPush(
  db: Db,
  scope: ResolvedScope,
  input: z.input<typeof recordPushSchema> = {},
): Promise<{ pushId: string; inserted: boolean }> {
  const push = parseWith(recordPushSchema, 'push', input)
  const row = await db
    .insertInto('pushes')
    .values({
      ...(push.id ? { id: push.id } : {}),
      agent_id: scope.agentId,
      repo_id: scope.repoId,
      branch_id: scope.branchId,
      session_id: scope.sessionId,
      head_sha: push.headSha ?? null,
      remote: push.remote ?? null,
      ...(push.at ? { pushed_at: push.at } : {}),
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .returning('id')
    .executeTakeFirst()
  return { pushId: row?.id ?? push.id!, inserted: row !== undefined }
}

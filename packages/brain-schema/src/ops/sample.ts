import type { Kysely } from 'kysely'
import type { Database } from '../database.generated.ts'
import { parseInput } from '../inputs.ts'
import { ensureBranch, ensureFeature, ensureFile, ensureRepo, registerAgent } from './registry.ts'

export const SAMPLE_REPO = 'local:dstack-quickstart'
const SAMPLE_INTENT = 'Try the dstack brain'

export interface SampleActivity {
  repoId: string
  intentId: string
  editId: string
}

/**
 * Records what a first session looks like, for the quickstart: the agent, a sample repo and branch, an active
 * intent (reused on later runs) and one more edit of README.md tagged with the `docs` feature.
 *
 * @example
 * const { intentId, editId } = await recordSampleActivity(brain.db, { agentId: 'alice', displayName: 'Alice' })
 */
export async function recordSampleActivity(
  db: Kysely<Database>,
  agent: { agentId: string; displayName: string },
): Promise<SampleActivity> {
  return db.transaction().execute(async (trx) => {
    await registerAgent(trx, { id: agent.agentId, display_name: agent.displayName })
    const repoId = await ensureRepo(trx, SAMPLE_REPO)
    const branchId = await ensureBranch(trx, repoId, 'main')
    const featureId = await ensureFeature(trx, repoId, 'docs', 'documentation')
    const fileId = await ensureFile(trx, repoId, 'README.md')
    await trx
      .insertInto('file_features')
      .values({ file_id: fileId, feature_id: featureId })
      .onConflict((oc) => oc.doNothing())
      .execute()

    const existing = await trx
      .selectFrom('intents')
      .select('id')
      .where('agent_id', '=', agent.agentId)
      .where('repo_id', '=', repoId)
      .where('title', '=', SAMPLE_INTENT)
      .where('status', '=', 'active')
      .executeTakeFirst()
    const intentId =
      existing?.id ??
      (
        await trx
          .insertInto('intents')
          .values(
            parseInput('intents', {
              agent_id: agent.agentId,
              repo_id: repoId,
              branch_id: branchId,
              title: SAMPLE_INTENT,
              body: 'Record an intent and an edit, then read them back with `dstack brain status`.',
            }),
          )
          .returning('id')
          .executeTakeFirstOrThrow()
      ).id
    await trx
      .insertInto('intent_features')
      .values({ intent_id: intentId, feature_id: featureId })
      .onConflict((oc) => oc.doNothing())
      .execute()

    const edit = parseInput('edits', {
      agent_id: agent.agentId,
      repo_id: repoId,
      file_id: fileId,
      intent_id: intentId,
      branch_id: branchId,
      op: 'edit',
      tool: 'Edit',
      summary: 'quickstart: sample edit',
      hunks: [[1, 3]],
    })
    const { id: editId } = await trx
      .insertInto('edits')
      .values({ ...edit, hunks: JSON.stringify(edit.hunks) })
      .returning('id')
      .executeTakeFirstOrThrow()
    return { repoId, intentId, editId }
  })
}

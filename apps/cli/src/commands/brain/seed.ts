import { assertSchemaReady, recordSampleActivity, type SampleActivity } from '@dstack/brain-schema'
import { DstackCommand } from '../../lib/command.ts'

export default class BrainSeed extends DstackCommand {
  static override summary = 'Record a sample intent and edit, to see the brain at work'
  static override description =
    `Records, as the configured agent, an active intent "Try the dstack brain" in the repo
local:dstack-quickstart (reused on later runs) and one more edit of its README.md. \`dstack brain status\` then shows them.

Exit codes: 0 recorded, 3 bad config, 4 brain unreachable, 5 schema not ready (run \`dstack brain up\`).`
  static override examples = ['<%= config.bin %> brain seed']

  async run(): Promise<SampleActivity> {
    const config = this.settings()
    const sample = await this.withBrain(config.brain, async (brain) => {
      await assertSchemaReady(brain.db)
      return recordSampleActivity(brain.db, {
        agentId: config.agent.id,
        displayName: config.agent.displayName,
      })
    })
    this.say(`recorded intent ${sample.intentId} and edit ${sample.editId} as ${config.agent.id}`)
    return sample
  }
}

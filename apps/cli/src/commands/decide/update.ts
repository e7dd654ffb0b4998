import { type Decision, updateDecision } from '@dstack/brain-schema'
import { Args, Flags } from '@oclif/core'
import { DstackCommand } from '../../lib/command.ts'
import { BRAIN_EXIT_HELP } from '../../lib/exit-codes.ts'
import { splitList } from '../../lib/flags.ts'
import { repoFile } from '../../lib/paths.ts'

export default class DecideUpdate extends DstackCommand {
  static override summary = "Rewrite a decision's compiled truth, keeping the previous version and the reason"
  static override description =
    `The previous title/body/status is snapshotted, the version goes up, and --reason is
appended to the decision's timeline.

${BRAIN_EXIT_HELP}, 7 no such ADR, 8 the ADR is superseded.`
  static override examples = [
    `<%= config.bin %> decide update 7 --body "argon2id, m=128MiB" --reason "benchmarked on the VPS"`,
  ]
  static override args = { number: Args.integer({ required: true, description: 'the ADR number' }) }
  static override flags = {
    title: Flags.string(),
    body: Flags.string(),
    status: Flags.string({ options: ['proposed', 'accepted', 'deprecated'] }),
    reason: Flags.string({ required: true, description: 'why it changed (the timeline entry)' }),
    files: Flags.string({ description: 'comma-separated files to link' }),
    features: Flags.string({ description: 'comma-separated features to link' }),
  }

  async run(): Promise<Decision> {
    const { args, flags } = await this.parse(DecideUpdate)
    const decision = await this.withWorkspace((ws) =>
      updateDecision(ws.brain.db, ws.scope, {
        number: args.number,
        title: flags.title,
        body: flags.body,
        status: flags.status as 'proposed' | 'accepted' | 'deprecated' | undefined,
        reason: flags.reason,
        files: splitList(flags.files)?.map((f) => repoFile(ws.repo.root, f)),
        features: splitList(flags.features),
      }),
    )
    this.say(`ADR-${decision.number} is now version ${decision.version}`)
    return decision
  }
}

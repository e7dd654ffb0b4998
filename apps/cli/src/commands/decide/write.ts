import { type Decision, writeDecision } from '@dstack/brain-schema'
import { Flags } from '@oclif/core'
import { DstackCommand } from '../../lib/command.ts'
import { BRAIN_EXIT_HELP } from '../../lib/exit-codes.ts'
import { splitList } from '../../lib/flags.ts'
import { repoFile } from '../../lib/paths.ts'

export default class DecideWrite extends DstackCommand {
  static override summary = 'Record a decision (ADR), numbered atomically per repository'
  static override description =
    `Linked to the files and features it is about (so \`dstack why <file>\` finds it) and to
your current intent. Nothing is written into the repository.

${BRAIN_EXIT_HELP}.`
  static override examples = [
    `<%= config.bin %> decide write --title "Use argon2id" --body "m=64MiB, t=3" --files src/auth/hash.ts --features auth`,
  ]
  static override flags = {
    title: Flags.string({ required: true }),
    body: Flags.string({ required: true, description: 'the decision and its reasons' }),
    files: Flags.string({ description: 'comma-separated files it is about' }),
    features: Flags.string({ description: 'comma-separated feature tags (auth, billing, ...)' }),
    status: Flags.string({ options: ['proposed', 'accepted'], default: 'accepted' }),
  }

  async run(): Promise<Decision> {
    const { flags } = await this.parse(DecideWrite)
    const decision = await this.withWorkspace((ws) =>
      writeDecision(ws.brain.db, ws.scope, {
        title: flags.title,
        body: flags.body,
        files: splitList(flags.files)?.map((f) => repoFile(ws.repo.root, f)),
        features: splitList(flags.features),
        status: flags.status as 'proposed' | 'accepted',
      }),
    )
    this.say(`ADR-${decision.number}: ${decision.title}`)
    return decision
  }
}

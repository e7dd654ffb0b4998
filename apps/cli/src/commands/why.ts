import { type WhyResult, why } from '@dstack/brain-schema'
import { Args } from '@oclif/core'
import { DstackCommand } from '../lib/command.ts'
import { BRAIN_EXIT_HELP } from '../lib/exit-codes.ts'
import { repoFile } from '../lib/paths.ts'

export default class Why extends DstackCommand {
  static override summary = 'Why a file is the way it is: linked decisions, recent edits, who is on it now'
  static override description =
    `Decisions are found through the file itself, its features, and the intents that edited it.

${BRAIN_EXIT_HELP}.`
  static override examples = ['<%= config.bin %> why src/auth/login.ts']
  static override args = { file: Args.string({ required: true }) }

  async run(): Promise<WhyResult> {
    const { args } = await this.parse(Why)
    const result = await this.withWorkspace((ws) =>
      why(ws.brain.db, ws.scope, repoFile(ws.repo.root, args.file)),
    )
    if (!result.known) {
      this.say(`${result.path}: the brain has no record of this file`)
      return result
    }
    this.say(
      [
        `${result.path}${result.features.length > 0 ? ` (features: ${result.features.join(', ')})` : ''}`,
        result.decisions.length > 0 ? 'Decisions:' : 'No linked decisions.',
        ...result.decisions.map((d) => `  ADR-${d.number} [${d.status}] ${d.title}  via ${d.via.join(', ')}`),
        result.activeIntents.length > 0 ? 'Being worked on:' : '',
        ...result.activeIntents.map((i) => `  ${i.agent_id}: "${i.title}"`),
        result.edits.length > 0 ? 'Recent edits:' : '',
        ...result.edits.map(
          (e) =>
            `  ${e.created_at.toISOString()} ${e.agent_id} ${e.op}${e.hunks.length ? ` lines ${e.hunks.map(([a, b]) => `${a}-${b}`).join(',')}` : ''}${e.intent_title ? ` "${e.intent_title}"` : ''}`,
        ),
      ]
        .filter(Boolean)
        .join('\n'),
    )
    return result
  }
}

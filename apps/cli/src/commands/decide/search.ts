import { type DecisionHit, searchDecisions } from '@dstack/brain-schema'
import { Args, Flags } from '@oclif/core'
import { DstackCommand } from '../../lib/command.ts'
import { BRAIN_EXIT_HELP } from '../../lib/exit-codes.ts'

export default class DecideSearch extends DstackCommand {
  static override summary = 'Search decisions with Postgres full-text ranking'
  static override description =
    `Web-search syntax: "exact phrase", -excluded, or. Decisions matching every term rank
first; superseded ones rank lower.

${BRAIN_EXIT_HELP}.`
  static override examples = [
    '<%= config.bin %> decide search "password hashing"',
    '<%= config.bin %> decide search redis --all-repos --json',
  ]
  static override args = { query: Args.string({ required: true }) }
  static override flags = {
    limit: Flags.integer({ default: 10, min: 1, max: 200 }),
    'all-repos': Flags.boolean({ description: 'search every repository in the brain' }),
  }

  async run(): Promise<DecisionHit[]> {
    const { args, flags } = await this.parse(DecideSearch)
    const hits = await this.withWorkspace((ws) =>
      searchDecisions(ws.brain.db, ws.scope, {
        query: args.query,
        limit: flags.limit,
        allRepos: flags['all-repos'],
      }),
    )
    this.say(
      hits.length === 0
        ? 'no matching decisions'
        : hits
            .map((h) => `ADR-${h.number} [${h.status}] ${h.title}  (${h.rank.toFixed(3)})\n  ${h.snippet}`)
            .join('\n'),
    )
    return hits
  }
}

import { type WhyResult, where, why } from '@dstack/repo-graph'
import { Args } from '@oclif/core'
import { DstackCommand } from '../../lib/command.ts'
import { EXIT } from '../../lib/exit-codes.ts'
import { fleetFlags, loadFleet } from '../../lib/fleet.ts'

export default class ReposWhy extends DstackCommand {
  static override summary =
    'Why A depends on B: the shortest chain of dependencies, with the manifest line of each'
  static override description =
    `A and B are package ids (cargo:ares), package names (ares) or repository ids (all their packages).

Exit codes: 0 a chain was found, 2 bad flags, 3 invalid dstack.yaml, 7 A or B names nothing, or A does not depend on B.`
  static override examples = [
    '<%= config.bin %> repos why ehb dirmacs-core',
    '<%= config.bin %> repos why npm:@ehb/web cargo:core-types --json',
  ]
  static override args = {
    from: Args.string({ required: true, description: 'the dependent' }),
    to: Args.string({ required: true, description: 'the dependency' }),
  }
  static override flags = { ...fleetFlags }

  async run(): Promise<WhyResult> {
    const { args, flags } = await this.parse(ReposWhy)
    const { graph } = await loadFleet(flags)
    const result = why(graph, args.from, args.to)
    if (result.unknown.length > 0) this.say(`not in the graph: ${result.unknown.join(', ')}`)
    else if (!result.path) this.say(`${args.from} does not depend on ${args.to}`)
    else
      this.say(
        result.path.map((e) => `${e.from} → ${e.to}  [${e.kind}]  ${where(e)}\n    ${e.spec}`).join('\n'),
      )
    if (!result.path) {
      this.exitWith(result, EXIT.NOT_FOUND)
    }
    return result
  }
}

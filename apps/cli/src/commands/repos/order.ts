import { type Ordering, orderPackages, orderRepos, where } from '@dstack/repo-graph'
import { Flags } from '@oclif/core'
import { DstackCommand } from '../../lib/command.ts'
import { fleetFlags, loadFleet } from '../../lib/fleet.ts'

export default class ReposOrder extends DstackCommand {
  static override summary =
    'Build order: every repository (or package) after what it depends on, in parallel levels'
  static override description =
    `Levels can run in parallel; each level depends only on earlier ones. Cycles do not stop the ordering: each is
reported with the manifest lines that close it, and its members share a level.

Exit codes: 0 done (also with cycles), 2 bad flags, 3 invalid dstack.yaml.`
  static override examples = [
    '<%= config.bin %> repos order',
    '<%= config.bin %> repos order --packages --only ares --only ehb --json',
  ]
  static override flags = {
    ...fleetFlags,
    packages: Flags.boolean({ description: 'order packages instead of repositories' }),
    only: Flags.string({
      description: 'order only these (repeatable); dependencies through others still count',
      multiple: true,
    }),
    prod: Flags.boolean({ description: 'follow only normal dependencies (no dev, build, peer or optional)' }),
  }

  async run(): Promise<Ordering> {
    const { flags } = await this.parse(ReposOrder)
    const { graph } = await loadFleet(flags)
    const options = { only: flags.only, scopes: flags.prod ? (['normal'] as const) : undefined }
    const result = flags.packages ? orderPackages(graph, options) : orderRepos(graph, options)
    this.say(
      [
        ...result.levels.map((level, i) => `${i + 1}. ${level.join('  ')}`),
        ...result.cycles.map(
          (c) =>
            `cycle: ${[...c.nodes, c.nodes[0]].join(' → ')}\n${c.edges.map((e) => `  ${e.from} → ${e.to}  ${where(e)}`).join('\n')}`,
        ),
      ].join('\n'),
    )
    return result
  }
}

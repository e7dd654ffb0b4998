import { writeFileSync } from 'node:fs'
import { type GraphFormat, type RepoGraph, renderGraph } from '@dstack/repo-graph'
import { Flags } from '@oclif/core'
import { DstackCommand } from '../../lib/command.ts'
import { fleetFlags, loadFleet } from '../../lib/fleet.ts'

export default class ReposGraph extends DstackCommand {
  static override summary = 'The dependency graph of every repository: dot, mermaid, svg or json'
  static override description =
    `Packages grouped by repository; each edge carries its kind (path, git, workspace, registry) and, in json, the
manifest file and line that creates it. The svg is laid out by dstack itself (no Graphviz needed). --json prints the
graph as JSON whatever --format says.

Exit codes: 0 done, 2 bad flags, 3 invalid dstack.yaml.`
  static override examples = [
    '<%= config.bin %> repos graph --format mermaid',
    '<%= config.bin %> repos graph --format svg --output fleet.svg',
    '<%= config.bin %> repos graph --format dot | dot -Tpng > fleet.png',
  ]
  static override flags = {
    ...fleetFlags,
    format: Flags.string({
      options: ['dot', 'mermaid', 'svg', 'json'],
      default: 'dot',
      description: 'output format',
    }),
    output: Flags.string({ char: 'o', description: 'write to this file instead of stdout' }),
  }

  async run(): Promise<RepoGraph> {
    const { flags } = await this.parse(ReposGraph)
    const { graph } = await loadFleet(flags)
    const text = renderGraph(graph, flags.format as GraphFormat)
    if (flags.output) {
      writeFileSync(flags.output, text)
      this.say(`wrote ${flags.output} (${graph.packages.length} packages, ${graph.edges.length} edges)`)
    } else if (!this.jsonEnabled()) process.stdout.write(text)
    return graph
  }
}

import type { Problem, Repo } from '@dstack/repo-graph'
import { DstackCommand } from '../../lib/command.ts'
import { fleetFlags, formatProblem, loadFleet } from '../../lib/fleet.ts'

interface ListedRepo extends Repo {
  packages: string[]
}

export default class ReposList extends DstackCommand {
  static override summary =
    'The repositories under the roots, the packages their manifests declare, and manifest problems'
  static override description =
    `Searches the roots (--root, else dstack.yaml's roots, else the directory holding the current repository) for git
working trees and reads Cargo.toml, package.json, pnpm-workspace.yaml, go.mod, go.work and pyproject.toml statically.
Problems (unparseable manifests, dangling paths, ambiguous names) are listed with file and line.

Exit codes: 0 done, 2 bad flags, 3 invalid dstack.yaml.`
  static override examples = [
    '<%= config.bin %> repos list',
    '<%= config.bin %> repos list --root /opt --depth 2 --json',
  ]
  static override flags = { ...fleetFlags }

  async run(): Promise<{ repos: ListedRepo[]; problems: Problem[] }> {
    const { flags } = await this.parse(ReposList)
    const { graph } = await loadFleet(flags)
    const repos = graph.repos.map((repo) => ({
      ...repo,
      packages: graph.packages.filter((p) => p.repo === repo.id).map((p) => p.id),
    }))
    const width = Math.max(0, ...repos.map((r) => r.id.length))
    this.say(
      [
        ...repos.map(
          (r) => `${r.id.padEnd(width)}  ${r.packages.length ? r.packages.join(', ') : '(no manifests)'}`,
        ),
        `${repos.length} repositories, ${graph.packages.length} packages, ${graph.edges.length} edges in ${graph.roots.join(', ')}`,
        ...graph.problems.map(formatProblem),
      ].join('\n'),
    )
    return { repos, problems: graph.problems }
  }
}

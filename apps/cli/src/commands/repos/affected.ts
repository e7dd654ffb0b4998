import { type Affected, affected, resolveChanges } from '@dstack/repo-graph'
import { Flags } from '@oclif/core'
import { DstackCommand } from '../../lib/command.ts'
import { fleetFlags, loadFleet } from '../../lib/fleet.ts'

export default class ReposAffected extends DstackCommand {
  static override summary =
    'What a change affects: the changed packages and everything that depends on them, across repositories'
  static override description =
    `The change is what you name (--repo, --package, --file), or else what git says: uncommitted files and the
commits a push would send in every repository (--base compares with a commit-ish instead). Each affected package
comes with its distance and the chain that reaches it.

Exit codes: 0 done, 2 bad flags, 3 invalid dstack.yaml.`
  static override examples = [
    '<%= config.bin %> repos affected',
    '<%= config.bin %> repos affected --repo dirmacs-core',
    '<%= config.bin %> repos affected --file ../dirmacs-core/src/lib.rs --prod --json',
  ]
  static override flags = {
    ...fleetFlags,
    repo: Flags.string({ description: 'a changed repository (repeatable)', multiple: true }),
    package: Flags.string({ description: 'a changed package, by id or name (repeatable)', multiple: true }),
    file: Flags.string({ description: 'a changed file (repeatable)', multiple: true }),
    base: Flags.string({
      description: 'with no --repo/--package/--file: changes since this commit-ish in each repository',
    }),
    prod: Flags.boolean({ description: 'follow only normal dependencies (no dev, build, peer or optional)' }),
  }

  async run(): Promise<Affected & { gitErrors: Array<{ repo: string; message: string }> }> {
    const { flags } = await this.parse(ReposAffected)
    const { graph } = await loadFleet(flags)
    const { changes, gitErrors } = await resolveChanges(
      graph,
      { repos: flags.repo, packages: flags.package, files: flags.file },
      { base: flags.base },
    )
    for (const { repo, message } of gitErrors) this.warn(`${repo}: ${message}`)
    const result = affected(graph, changes, { scopes: flags.prod ? ['normal'] : undefined })
    for (const name of result.unmatched) this.warn(`${name}: not in any repository of the graph`)
    this.say(
      result.packages.length === 0
        ? 'nothing affected'
        : [
            ...result.packages.map(
              (p) =>
                `${'  '.repeat(p.depth)}${p.id}  (${p.repo})${p.depth > 0 ? `  via ${p.via.slice(0, -1).join(' → ')}` : ''}`,
            ),
            `${result.packages.length} packages in ${result.repos.length} repositories: ${result.repos.join(', ')}`,
          ].join('\n'),
    )
    return { ...result, gitErrors }
  }
}

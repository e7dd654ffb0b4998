import {
  bundleRoot,
  installedHooksCurrent,
  installTarget,
  listInstalled,
  listingCost,
  pluginHooks,
  readBundle,
  validateBundle,
} from '@dstack/skills'
import { DstackCommand } from '../../lib/command.ts'
import { EXIT } from '../../lib/exit-codes.ts'
import { cliManifest, scopeFlags } from '../../lib/skills.ts'

interface DoctorResult {
  problems: string[]
  listing: { total: number; budget: number }
  installed: 'current' | 'outdated' | 'not installed'
}

export default class SkillsDoctor extends DstackCommand {
  static override summary =
    'Check the skills bundle against this dstack, and the installed copy against the bundle'
  static override description =
    `Validates every skill and command (frontmatter, limits, each \`dstack …\` line against this CLI's commands
and flags, the plugin hooks) and the always-loaded listing budget, then the install in the chosen scope: files
current, hooks in settings.json current.

Exit codes: 0 healthy, 2 bad flags, 6 at least one problem.`
  static override examples = [
    '<%= config.bin %> skills doctor',
    '<%= config.bin %> skills doctor --project --json',
  ]
  static override flags = scopeFlags

  async run(): Promise<DoctorResult> {
    const { flags } = await this.parse(SkillsDoctor)
    const bundle = readBundle(bundleRoot())
    const problems = validateBundle(bundle, { manifest: cliManifest(this.config), hooks: pluginHooks() }).map(
      (p) => `${p.path}${p.line ? `:${p.line}` : ''}: ${p.message}`,
    )
    const target = installTarget(flags.project ? 'project' : 'user')
    const files = listInstalled(target, bundle)
    let installed: DoctorResult['installed'] = 'not installed'
    if (files) {
      const stale = files.filter((f) => f.state !== 'ok')
      const hooksCurrent = installedHooksCurrent(target)
      installed = stale.length === 0 && hooksCurrent ? 'current' : 'outdated'
      for (const f of stale) problems.push(`${target.claudeDir}/${f.path}: ${f.state}`)
      if (!hooksCurrent) problems.push(`${target.claudeDir}/settings.json: dstack's hooks are not current`)
    }
    const cost = listingCost(bundle)
    this.say(
      [
        ...problems,
        `${bundle.skills.length} skills, ${bundle.commands.length} commands; listing ${cost.total}/${cost.budget} characters; ${target.scope} install: ${installed}`,
        problems.length === 0 ? 'healthy' : `${problems.length} problem(s)`,
      ].join('\n'),
    )
    const result = { problems, listing: { total: cost.total, budget: cost.budget }, installed }
    if (problems.length > 0 || (files && installed !== 'current')) this.exitWith(result, EXIT.UNHEALTHY)
    return result
  }
}

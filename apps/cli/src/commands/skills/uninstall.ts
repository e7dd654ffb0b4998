import { installTarget, type UninstallReport, uninstallBundle } from '@dstack/skills'
import { DstackCommand } from '../../lib/command.ts'
import { scopeFlags } from '../../lib/skills.ts'

export default class SkillsUninstall extends DstackCommand {
  static override summary = 'Remove what `dstack skills install` installed, and put back what it moved aside'
  static override description =
    `Removes the installed skills, commands, .claude/dstack and dstack's hooks; settings.json gets its original
bytes back when nothing else in it changed. An installed file you edited since is kept and listed.

Exit codes: 0 done (also when nothing was installed), 2 bad flags, 3 settings.json is not valid JSON.`
  static override examples = [
    '<%= config.bin %> skills uninstall',
    '<%= config.bin %> skills uninstall --project',
  ]
  static override flags = scopeFlags

  async run(): Promise<UninstallReport> {
    const { flags } = await this.parse(SkillsUninstall)
    const report = uninstallBundle(installTarget(flags.project ? 'project' : 'user'))
    this.say(
      `${report.removed.length} file(s) removed, ${report.restored.length} restored` +
        `${report.keptModified.length ? `, kept (edited since install): ${report.keptModified.join(', ')}` : ''}` +
        `, hooks ${report.hooksRemoved ? 'removed' : 'were not there'}`,
    )
    return report
  }
}

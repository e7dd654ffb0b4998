import { bundleRoot, type InstallReport, installBundle, installTarget, readBundle } from '@dstack/skills'
import { DstackCommand } from '../../lib/command.ts'
import { installThisLauncher } from '../../lib/settings-path.ts'
import { scopeFlags } from '../../lib/skills.ts'

export default class SkillsInstall extends DstackCommand {
  static override summary =
    "Install dstack's skills, commands and hooks into Claude Code (~/.claude or a project's .claude)"
  static override description =
    `Writes skills/<name>/SKILL.md, commands/<name>.md, .claude/dstack/ (templates and the CLI shim the hooks run)
and dstack's hooks in settings.json. Running it again changes nothing; a file of someone else's in the way is moved
to .claude/dstack/backup and put back by \`dstack skills uninstall\`. (To use it as a plugin instead:
\`dstack skills build --out <dir>\`, then \`claude --plugin-dir <dir>/plugin\`.)

Exit codes: 0 installed or already current, 2 bad flags, 3 settings.json is not valid JSON (left unchanged).`
  static override examples = [
    '<%= config.bin %> skills install',
    '<%= config.bin %> skills install --project',
  ]
  static override flags = scopeFlags

  async run(): Promise<InstallReport> {
    const { flags } = await this.parse(SkillsInstall)
    // The shim runs dstack through the launcher (never a `dstack` found on PATH).
    installThisLauncher()
    const report = installBundle(readBundle(bundleRoot()), installTarget(flags.project ? 'project' : 'user'))
    this.say(
      `${report.target.claudeDir}: ${report.written.length} file(s) written, ${report.unchanged} already current` +
        `${report.backedUp.length ? `, ${report.backedUp.length} moved aside (${report.backedUp.join(', ')})` : ''}` +
        `${report.keptModified.length ? `, kept (edited since install): ${report.keptModified.join(', ')}` : ''}` +
        `, hooks ${report.hooksLeft ? 'left as `dstack hooks install` set them' : report.hooksChanged ? 'updated' : 'current'}`,
    )
    return report
  }
}

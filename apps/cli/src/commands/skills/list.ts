import { bundleRoot, type InstalledFile, installTarget, listInstalled, readBundle } from '@dstack/skills'
import { DstackCommand } from '../../lib/command.ts'
import { EXIT } from '../../lib/exit-codes.ts'
import { scopeFlags } from '../../lib/skills.ts'

export default class SkillsList extends DstackCommand {
  static override summary = 'What `dstack skills install` put there, and whether each file is current'
  static override description =
    `One line per installed file: ok, modified (edited since), missing, or outdated (this dstack ships another
version: run \`dstack skills install\` again).

Exit codes: 0 listed, 2 bad flags, 7 not installed in that scope.`
  static override examples = [
    '<%= config.bin %> skills list',
    '<%= config.bin %> skills list --project --json',
  ]
  static override flags = scopeFlags

  async run(): Promise<InstalledFile[]> {
    const { flags } = await this.parse(SkillsList)
    const target = installTarget(flags.project ? 'project' : 'user')
    const files = listInstalled(target, readBundle(bundleRoot()))
    if (!files)
      this.error(`dstack's skills are not installed in ${target.claudeDir}`, { exit: EXIT.NOT_FOUND })
    this.say(files.map((f) => `${f.state.padEnd(8)}  ${f.path}`).join('\n'))
    return files
  }
}

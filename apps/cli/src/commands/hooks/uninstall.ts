import { type InstallResult, uninstallHooks } from '@dstack/hooks'
import { Flags } from '@oclif/core'
import { DstackCommand } from '../../lib/command.ts'
import { hookTarget } from '../../lib/settings-path.ts'

export default class HooksUninstall extends DstackCommand {
  static override summary = "Remove dstack's hooks (and only those) from settings.json"
  static override description =
    'Exit codes: 0 removed or nothing to remove, 2 settings.json is not valid JSON (left unchanged).'
  static override examples = [
    '<%= config.bin %> hooks uninstall',
    '<%= config.bin %> hooks uninstall --project',
  ]
  static override flags = {
    project: Flags.boolean({ description: "this repository's .claude/settings.json" }),
  }

  async run(): Promise<InstallResult> {
    const { flags } = await this.parse(HooksUninstall)
    const { path, backupDir } = hookTarget(flags.project)
    const result = uninstallHooks(path, { backupDir })
    this.say(
      result.changed ? `removed ${result.removed} dstack hook(s) from ${path}` : `no dstack hooks in ${path}`,
    )
    return result
  }
}

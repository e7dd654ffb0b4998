import { dstackHookSpecs, type InstallResult, installHooks } from '@dstack/hooks'
import { Flags } from '@oclif/core'
import { DstackCommand } from '../../lib/command.ts'
import { hookTarget, installThisLauncher } from '../../lib/settings-path.ts'

export default class HooksInstall extends DstackCommand {
  static override summary = "Install dstack's hooks into Claude Code's settings.json"
  static override description =
    `Merges SessionStart, UserPromptSubmit, PreToolUse (git push pre-check), PostToolUse (edits,
pushes), Stop, PreCompact and SessionEnd hooks into ~/.claude/settings.json (or the repository's .claude/settings.json
with --project, where each teammate's own launcher runs and a teammate without dstack is skipped). Idempotent; other
tools' hooks are never touched; the previous file is kept as a backup (under <DSTACK_HOME>/backups for --project).
Hooks run <DSTACK_HOME>/bin/dstack, a launcher pinned to this Node, which this command (re)writes.

Exit codes: 0 installed or already current, 2 settings.json is not valid JSON (left unchanged) or --project outside a repository.`
  static override examples = [
    '<%= config.bin %> hooks install',
    '<%= config.bin %> hooks install --project --strict-precheck',
  ]
  static override flags = {
    project: Flags.boolean({
      description: "this repository's .claude/settings.json (committed, shared with the team)",
    }),
    'strict-precheck': Flags.boolean({
      description: 'block a push that overlaps teammates’ unpublished work',
    }),
    'launcher-only': Flags.boolean({
      description:
        'only write ~/.dstack/bin/dstack (for the Claude Code plugin, whose hooks.json already holds the hooks)',
      exclusive: ['project', 'strict-precheck', 'strict-gate'],
    }),
    'strict-gate': Flags.boolean({
      description:
        'block a commit until the five quality-gate questions are answered yes (`dstack gate answer`)',
    }),
  }

  async run(): Promise<(InstallResult | { changed: false }) & { launcher: string }> {
    const { flags } = await this.parse(HooksInstall)
    const launcher = installThisLauncher()
    if (flags['launcher-only']) {
      this.say(`launcher: ${launcher} (the dstack plugin's hooks run it; settings.json left alone)`)
      return { changed: false, launcher }
    }
    const { path, launcher: how, backupDir } = hookTarget(flags.project)
    const specs = dstackHookSpecs(how, {
      strictPrecheck: flags['strict-precheck'],
      strictGate: flags['strict-gate'],
    })
    const result = installHooks(path, specs, { backupDir })
    this.say(
      result.changed
        ? `hooks installed in ${path} (+${result.added} ~${result.updated} -${result.removed})${result.backupPath ? `; backup ${result.backupPath}` : ''}`
        : `hooks already current in ${path}`,
    )
    return { ...result, launcher }
  }
}

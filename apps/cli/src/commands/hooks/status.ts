import { dstackHookSpecs, type HooksStatus, hooksStatus } from '@dstack/hooks'
import { Flags } from '@oclif/core'
import { DstackCommand } from '../../lib/command.ts'
import { EXIT } from '../../lib/exit-codes.ts'
import { hookTarget } from '../../lib/settings-path.ts'

export default class HooksStatusCommand extends DstackCommand {
  static override summary = "Which of dstack's hooks are installed in settings.json"
  static override description =
    'Exit codes: 0 all installed, 6 some missing or stale, 2 settings.json is not valid JSON.'
  static override examples = ['<%= config.bin %> hooks status --json']
  static override flags = {
    project: Flags.boolean({ description: "this repository's .claude/settings.json" }),
    'strict-precheck': Flags.boolean({ description: 'expect the strict pre-check variant' }),
  }

  async run(): Promise<HooksStatus> {
    const { flags } = await this.parse(HooksStatusCommand)
    const { path, launcher } = hookTarget(flags.project)
    const specs = dstackHookSpecs(launcher, { strictPrecheck: flags['strict-precheck'] })
    const status = hooksStatus(path, specs)
    const missing = status.installed.filter((i) => i.state === 'missing')
    this.say(
      [
        ...status.installed.map(
          (i) =>
            `${i.state === 'installed' ? '✓' : '✗'} ${i.spec.event}${i.spec.matcher ? ` [${i.spec.matcher}]` : ''}`,
        ),
        ...status.stale.map((s) => `! stale dstack hook on ${s.event}: run \`dstack hooks install\``),
        `${status.foreignHandlers} other tools' hook(s) left alone`,
      ].join('\n'),
    )
    if (missing.length > 0 || status.stale.length > 0) {
      this.exitWith(status, EXIT.UNHEALTHY)
    }
    return status
  }
}

import { checkGate, type GateCheck } from '@dstack/hooks'
import { Flags } from '@oclif/core'
import { DstackCommand } from '../../lib/command.ts'
import { EXIT } from '../../lib/exit-codes.ts'
import { gateRepo } from '../../lib/gate.ts'

export default class GateCheckCommand extends DstackCommand {
  static override summary = 'Does what is staged pass the quality gate?'
  static override description =
    `Passes when the five questions were answered yes for exactly the staged tree (\`dstack gate answer\`).
Otherwise it lists the open questions; with --strict it fails the way the strict pre-commit hook blocks (exit 2).

Exit codes: 0 passed (or open, without --strict); 2 open with --strict, or not inside a git repository.`
  static override examples = ['<%= config.bin %> gate check', '<%= config.bin %> gate check --strict --json']
  static override flags = {
    strict: Flags.boolean({ description: 'exit 2 unless every answer is yes (what a strict hook does)' }),
  }

  async run(): Promise<GateCheck> {
    const { flags } = await this.parse(GateCheckCommand)
    const check = await checkGate(gateRepo(this))
    this.say(check.message)
    if (!check.passed && flags.strict) this.exitWith(check, EXIT.USAGE)
    return check
  }
}

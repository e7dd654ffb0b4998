import { GATE_QUESTIONS, type GateAnswers, type GateKey, recordGateAnswers } from '@dstack/hooks'
import { Flags } from '@oclif/core'
import { DstackCommand } from '../../lib/command.ts'
import { EXIT } from '../../lib/exit-codes.ts'
import { gateRepo } from '../../lib/gate.ts'

const question = (key: GateKey) => GATE_QUESTIONS.find((q) => q.key === key)!.question
const yesNo = (description: string) => Flags.string({ description, options: ['yes', 'no'], required: true })

export default class GateAnswer extends DstackCommand {
  static override summary = 'Answer the quality gate for what is staged now'
  static override description =
    `Records the five answers for the staged tree (staging something else afterwards asks again). A "no" is
recorded too and keeps the gate shut: fix the work, stage it, answer again.

Exit codes: 0 recorded, all yes; 2 bad flags or not inside a git repository; 6 recorded, with at least one no.`
  static override examples = [
    '<%= config.bin %> gate answer --tests yes --verified yes --scope yes --docs yes --reversible yes',
    '<%= config.bin %> gate answer --tests yes --verified no --scope yes --docs yes --reversible yes --note "staging db down"',
  ]
  static override flags = {
    tests: yesNo(question('tests')),
    verified: yesNo(question('verified')),
    scope: yesNo(question('scope')),
    docs: yesNo(question('docs')),
    reversible: yesNo(question('reversible')),
    note: Flags.string({ description: 'why, for the record (kept with the answers)' }),
  }

  async run(): Promise<GateAnswers> {
    const { flags } = await this.parse(GateAnswer)
    const answers = Object.fromEntries(GATE_QUESTIONS.map((q) => [q.key, flags[q.key] === 'yes'])) as Record<
      GateKey,
      boolean
    >
    const record = await recordGateAnswers(gateRepo(this), answers, flags.note ?? null)
    const no = GATE_QUESTIONS.filter((q) => !answers[q.key]).map((q) => q.key)
    this.say(
      no.length === 0
        ? `recorded: all yes for staged tree ${record.tree.slice(0, 12)}`
        : `recorded, gate still shut: no for ${no.join(', ')} (staged tree ${record.tree.slice(0, 12)})`,
    )
    if (no.length > 0) this.exitWith(record, EXIT.UNHEALTHY)
    return record
  }
}

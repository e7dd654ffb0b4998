import { GATE_QUESTIONS } from '@dstack/hooks'
import { DstackCommand } from '../../lib/command.ts'

export default class GateQuestions extends DstackCommand {
  static override summary = 'The five questions the quality gate asks before a commit'
  static override description =
    `Answer them for what is staged with \`dstack gate answer\`; the pre-commit hook (or \`dstack gate check\`)
lets the commit through when all five are yes for exactly the staged tree.

Exit codes: 0 done.`
  static override examples = ['<%= config.bin %> gate questions', '<%= config.bin %> gate questions --json']

  async run(): Promise<typeof GATE_QUESTIONS> {
    this.say(GATE_QUESTIONS.map((q, i) => `${i + 1}. ${q.key}: ${q.question}`).join('\n'))
    return GATE_QUESTIONS
  }
}

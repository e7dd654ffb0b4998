import { autoHandoff, type Handoff, MAX_HANDOFF_FILES } from '@dstack/brain-schema'
import { uncommittedFiles } from '@dstack/git'
import { DstackCommand } from '../../lib/command.ts'
import { BRAIN_EXIT_HELP } from '../../lib/exit-codes.ts'

export default class HandoffAuto extends DstackCommand {
  static override summary = "Refresh this session's automatic handoff (what the Stop hook does)"
  static override description =
    `One automatic handoff per session, rewritten each time: your intent and the uncommitted
files. Nothing is written when there is neither.

${BRAIN_EXIT_HELP}.`
  static override examples = ['<%= config.bin %> handoff auto']

  async run(): Promise<Handoff | null> {
    const handoff = await this.withWorkspace(async (ws) =>
      autoHandoff(ws.brain.db, ws.scope, {
        uncommittedFiles: (await uncommittedFiles(ws.repo.root)).slice(0, MAX_HANDOFF_FILES),
      }),
    )
    this.say(handoff ? handoff.note : 'nothing to hand off: no intent and no uncommitted files')
    return handoff
  }
}

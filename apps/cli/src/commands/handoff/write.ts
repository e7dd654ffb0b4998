import { type Handoff, MAX_HANDOFF_FILES, writeHandoff } from '@dstack/brain-schema'
import { uncommittedFiles } from '@dstack/git'
import { Flags } from '@oclif/core'
import { DstackCommand } from '../../lib/command.ts'
import { BRAIN_EXIT_HELP } from '../../lib/exit-codes.ts'

export default class HandoffWrite extends DstackCommand {
  static override summary = 'Leave a note for whoever continues this work'
  static override description =
    `Attached to your current intent and branch, with the files git reports uncommitted.
Addressed to one teammate with --to, else to anyone.

${BRAIN_EXIT_HELP}.`
  static override examples = [
    `<%= config.bin %> handoff write --note "429 page half done" --next-step "wire the template" --to bob`,
  ]
  static override flags = {
    note: Flags.string({ required: true }),
    blocker: Flags.string(),
    'next-step': Flags.string(),
    to: Flags.string({ description: 'the teammate handle it is for' }),
  }

  async run(): Promise<Handoff> {
    const { flags } = await this.parse(HandoffWrite)
    const handoff = await this.withWorkspace(async (ws) =>
      writeHandoff(ws.brain.db, ws.scope, {
        note: flags.note,
        blocker: flags.blocker,
        nextStep: flags['next-step'],
        toAgent: flags.to,
        uncommittedFiles: (await uncommittedFiles(ws.repo.root)).slice(0, MAX_HANDOFF_FILES),
      }),
    )
    this.say(`handoff ${handoff.id} left${handoff.to_agent ? ` for ${handoff.to_agent}` : ''}`)
    return handoff
  }
}

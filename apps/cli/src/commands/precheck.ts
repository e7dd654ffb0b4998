import { conflictPrecheck, type PrecheckResult } from '@dstack/brain-schema'
import { outgoingChanges } from '@dstack/git'
import { formatOverlaps } from '@dstack/hooks'
import { Flags } from '@oclif/core'
import { DstackCommand } from '../lib/command.ts'
import { BRAIN_EXIT_HELP, EXIT } from '../lib/exit-codes.ts'

export default class Precheck extends DstackCommand {
  static override summary = "Before pushing: does this push overlap other agents' unpublished work?"
  static override description =
    `Compares the files and line ranges of the commits a push would send with other agents'
edits not yet published (no push of their branch since, intent not shipped) in this repository. Warns by default; with --strict (or
DSTACK_PRECHECK=strict, as the git-push hook reads it) an overlap exits 2.

${BRAIN_EXIT_HELP} (with --strict: overlaps found).`
  static override examples = [
    '<%= config.bin %> precheck',
    '<%= config.bin %> precheck --strict --base origin/main',
  ]
  static override flags = {
    base: Flags.string({ description: 'compare against this commit-ish instead of the upstream' }),
    strict: Flags.boolean({ description: 'exit 2 when anything overlaps (also DSTACK_PRECHECK=strict)' }),
  }

  async run(): Promise<PrecheckResult & { base: string; commits: number }> {
    const { flags } = await this.parse(Precheck)
    const result = await this.withWorkspace(async (ws) => {
      const changes = await outgoingChanges(ws.repo.root, { base: flags.base })
      const overlaps = await conflictPrecheck(ws.brain.db, ws.scope, changes.files)
      return { ...overlaps, base: changes.base, commits: changes.commits.length }
    })
    this.say(
      result.overlaps.length === 0
        ? `no overlaps: ${result.files} file(s) in ${result.commits} commit(s) over ${result.base}`
        : formatOverlaps(result).join('\n'),
    )
    const strict = flags.strict || process.env.DSTACK_PRECHECK === 'strict'
    if (strict && result.overlaps.length > 0) {
      this.exitWith(result, EXIT.USAGE)
    }
    return result
  }
}

import {
  DIGEST_DEFAULT_CHARS,
  DIGEST_MAX_CHARS,
  renderDigest,
  type TeamDigest,
  teamDigest,
} from '@dstack/brain-schema'
import { Flags } from '@oclif/core'
import { DstackCommand } from '../lib/command.ts'
import { BRAIN_EXIT_HELP } from '../lib/exit-codes.ts'

export default class Sync extends DstackCommand {
  static override summary =
    'The team digest for this repository: who is live, their intents, handoffs, decisions'
  static override description =
    `Flushes queued hook writes, sweeps stale presence, then prints what your teammates'
agents are doing in this repository. The same text the SessionStart hook gives Claude.

${BRAIN_EXIT_HELP}.`
  static override examples = [
    '<%= config.bin %> sync',
    '<%= config.bin %> sync --chars 2000',
    '<%= config.bin %> sync --json',
  ]
  static override flags = {
    chars: Flags.integer({
      description: `text budget in characters (about 4 per token), at most ${DIGEST_MAX_CHARS}`,
      default: DIGEST_DEFAULT_CHARS,
      min: 200,
      max: DIGEST_MAX_CHARS,
    }),
  }

  async run(): Promise<TeamDigest> {
    const { flags } = await this.parse(Sync)
    const digest = await this.withWorkspace((ws) => teamDigest(ws.brain.db, ws.scope))
    this.say(renderDigest(digest, { maxChars: flags.chars }))
    return digest
  }
}

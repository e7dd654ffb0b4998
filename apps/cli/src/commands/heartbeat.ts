import { heartbeat, presenceStatus } from '@dstack/brain-schema'
import { Flags } from '@oclif/core'
import { DstackCommand } from '../lib/command.ts'
import { BRAIN_EXIT_HELP } from '../lib/exit-codes.ts'
import { splitList } from '../lib/flags.ts'
import { repoFile } from '../lib/paths.ts'

export default class Heartbeat extends DstackCommand {
  static override summary = 'Mark this session live in this repository'
  static override description =
    `Writes your presence (one row per agent, session and repository; CLAUDE_CODE_SESSION_ID
names the session inside Claude Code). Teammates see it for 5 minutes.

${BRAIN_EXIT_HELP}.`
  static override examples = ['<%= config.bin %> heartbeat --status reviewing --files src/a.ts,src/b.ts']
  static override flags = {
    status: Flags.string({
      options: presenceStatus.options,
      default: 'coding',
      description: 'what you are doing',
    }),
    files: Flags.string({ description: 'comma-separated files you are working on' }),
  }

  async run(): Promise<{ repo: string; status: string; files: string[] }> {
    const { flags } = await this.parse(Heartbeat)
    return this.withWorkspace(async (ws) => {
      const files = (splitList(flags.files) ?? []).map((f) => repoFile(ws.repo.root, f))
      const status = flags.status as (typeof presenceStatus.options)[number]
      await heartbeat(ws.brain.db, ws.scope, { status, activeFiles: files })
      this.say(`live in ${ws.scope.repo} as ${ws.scope.agentId} (${status})`)
      return { repo: ws.scope.repo, status, files }
    })
  }
}

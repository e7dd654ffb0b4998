import { heartbeat, type LoggedEdit, logEdit } from '@dstack/brain-schema'
import { Args, Flags } from '@oclif/core'
import { DstackCommand } from '../lib/command.ts'
import { BRAIN_EXIT_HELP } from '../lib/exit-codes.ts'
import { repoFile } from '../lib/paths.ts'

/** `12-20` or `7` as [first, last]. */
function parseRange(text: string): [number, number] {
  const match = /^(\d+)(?:-(\d+))?$/.exec(text.trim())
  if (!match) throw new Error(`a line range is N or N-M, got ${JSON.stringify(text)}`)
  return [Number(match[1]), Number(match[2] ?? match[1])]
}

export default class LogEdit extends DstackCommand {
  static override summary = 'Record an edit by hand (what the PostToolUse hook does for Claude Code)'
  static override description =
    `For agents and editors without Claude Code hooks (Codex, opencode, a person): logs the
edit under your current intent, links the file to its feature, and marks you live on it.

${BRAIN_EXIT_HELP}.`
  static override examples = [
    '<%= config.bin %> log-edit src/auth/login.ts --lines 10-24,40',
    '<%= config.bin %> log-edit docs/setup.md --op write --summary "rewrote the install section"',
  ]
  static override args = { file: Args.string({ required: true }) }
  static override flags = {
    op: Flags.string({ options: ['edit', 'write', 'create', 'delete', 'rename'], default: 'edit' }),
    lines: Flags.string({ description: 'comma-separated changed line ranges, e.g. 10-24,40' }),
    summary: Flags.string(),
  }

  async run(): Promise<LoggedEdit> {
    const { args, flags } = await this.parse(LogEdit)
    let hunks: Array<[number, number]> | undefined
    try {
      hunks = flags.lines?.split(',').filter(Boolean).map(parseRange)
    } catch (error) {
      this.error((error as Error).message, { exit: 2 })
    }
    const logged = await this.withWorkspace(async (ws) => {
      const path = repoFile(ws.repo.root, args.file)
      const edit = await logEdit(ws.brain.db, ws.scope, {
        path,
        op: flags.op as 'edit' | 'write' | 'create' | 'delete' | 'rename',
        tool: 'dstack log-edit',
        summary: flags.summary,
        hunks,
      })
      await heartbeat(ws.brain.db, ws.scope, { status: 'coding', activeFiles: [path] })
      return edit
    })
    this.say(
      `logged ${flags.op} of ${args.file}${logged.features.length ? ` (${logged.features.join(', ')})` : ''}`,
    )
    return logged
  }
}

import { type AuditEvent, auditTrail } from '@dstack/brain-schema'
import { Args, Flags } from '@oclif/core'
import { DstackCommand } from '../lib/command.ts'
import { BRAIN_EXIT_HELP } from '../lib/exit-codes.ts'
import { repoFile } from '../lib/paths.ts'

function describe(event: AuditEvent): string {
  switch (event.kind) {
    case 'edit':
      return `${event.agent_id} ${event.op}${event.hunks.length ? ` lines ${event.hunks.map(([a, b]) => `${a}-${b}`).join(',')}` : ''}${event.intent_title ? ` "${event.intent_title}"` : ''}`
    case 'decision':
      return `${event.agent_id} ADR-${event.number} ${event.event}: ${event.summary}`
    case 'handoff':
      return `${event.agent_id} handoff [${event.status}]: ${event.note}`
    case 'push':
      return `${event.agent_id} pushed${event.head_sha ? ` ${event.head_sha.slice(0, 10)}` : ''}`
  }
}

export default class Blame extends DstackCommand {
  static override summary =
    "A file's audit trail from the brain: edits by agent and intent, decisions, handoffs, pushes"
  static override description =
    `Oldest first. With --line, only the agent edits whose changed ranges cover that line.

${BRAIN_EXIT_HELP}.`
  static override examples = [
    '<%= config.bin %> blame src/auth/login.ts',
    '<%= config.bin %> blame src/auth/login.ts --line 42',
  ]
  static override args = { file: Args.string({ required: true }) }
  static override flags = {
    line: Flags.integer({ min: 1, description: 'only edits covering this line' }),
    limit: Flags.integer({ min: 1, max: 10_000, default: 200 }),
  }

  async run(): Promise<AuditEvent[]> {
    const { args, flags } = await this.parse(Blame)
    const trail = await this.withWorkspace((ws) =>
      auditTrail(ws.brain.db, ws.scope, repoFile(ws.repo.root, args.file), {
        line: flags.line,
        limit: flags.limit,
      }),
    )
    this.say(
      trail.length === 0
        ? 'no recorded history'
        : trail.map((e) => `${e.at.toISOString()}  ${e.kind.padEnd(8)} ${describe(e)}`).join('\n'),
    )
    return trail
  }
}

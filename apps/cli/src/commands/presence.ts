import { type LivePresence, livePresence } from '@dstack/brain-schema'
import { DstackCommand } from '../lib/command.ts'
import { BRAIN_EXIT_HELP } from '../lib/exit-codes.ts'
import { duration } from '../lib/format.ts'

export default class Presence extends DstackCommand {
  static override summary = 'Who else is live in this repository (heartbeat in the last 5 minutes)'
  static override description = `Only this repository; your own session is left out.

${BRAIN_EXIT_HELP}.`
  static override examples = ['<%= config.bin %> presence', '<%= config.bin %> presence --json']

  async run(): Promise<LivePresence[]> {
    const live = await this.withWorkspace((ws) => livePresence(ws.brain.db, ws.scope))
    this.say(
      live.length === 0
        ? 'nobody else is live here'
        : live
            .map(
              (p) =>
                `${p.agent_id}  ${p.status}  ${p.branch_name ?? '-'}  ${duration(p.heartbeat_age_seconds ?? 0)} ago` +
                `${p.intent_title ? `  "${p.intent_title}"` : ''}${p.active_files?.length ? `  ${p.active_files.join(', ')}` : ''}`,
            )
            .join('\n'),
    )
    return live
  }
}

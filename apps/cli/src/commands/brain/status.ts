import { type BrainStatus, brainStatus } from '@dstack/brain-schema'
import { DstackCommand } from '../../lib/command.ts'
import { duration, keyValues, megabytes } from '../../lib/format.ts'

export default class BrainStatusCommand extends DstackCommand {
  static override summary = 'Show where the brain is, whether it runs, its schema version and what it holds'
  static override description = `Read-only: never starts an embedded server that is stopped.

Exit codes: 0 reported (even if the brain is down; see "error" in --json), 3 bad config.`
  static override examples = ['<%= config.bin %> brain status', '<%= config.bin %> brain status --json']

  async run(): Promise<BrainStatus & { agent: string }> {
    const config = this.settings()
    const status = await brainStatus(config.brain)
    const { server, schema, summary } = status
    const rows: Array<[string, string | number | null | undefined]> = [
      ['brain', `${status.driver} at ${status.location}`],
      ['agent', config.agent.id],
    ]
    if (server) {
      rows.push([
        'server',
        server.running
          ? `running, pid ${server.pid}, up ${duration((Date.now() - Date.parse(server.startedAt ?? '')) / 1000)}, ${megabytes(server.rssBytes) ?? '? MB'}`
          : 'stopped (starts on demand; `dstack brain up` starts it now)',
      ])
      rows.push(['socket', server.socketPath])
    }
    if (status.error) rows.push(['error', status.error])
    if (schema) {
      rows.push([
        'schema',
        `${schema.version ?? 'empty'} (${schema.applied} applied, ${schema.pending.length} pending)`,
      ])
      if (schema.pending.length) rows.push(['pending', schema.pending.join(', ')])
    }
    if (summary) {
      const c = summary.counts
      rows.push(
        ['agents', c.agents],
        ['repos', c.repos],
        ['active intents', c.activeIntents],
        ['edits', c.edits],
      )
      rows.push(
        ['decisions', c.decisions],
        ['open handoffs', c.openHandoffs],
        ['live presence', c.livePresence],
      )
      rows.push(['memories', c.memories])
      const i = summary.latestIntent
      const e = summary.latestEdit
      rows.push(['latest intent', i ? `"${i.title}" by ${i.agentId} in ${i.repo} (${i.status})` : null])
      rows.push([
        'latest edit',
        e ? `${e.op} ${e.path} by ${e.agentId} in ${e.repo} at ${e.createdAt.toISOString()}` : null,
      ])
    }
    this.say(keyValues(rows))
    return { ...status, agent: config.agent.id }
  }
}

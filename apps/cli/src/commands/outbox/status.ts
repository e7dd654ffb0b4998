import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { pendingCount } from '@dstack/brain-schema'
import { outboxDir } from '@dstack/config'
import { DstackCommand } from '../../lib/command.ts'

export default class OutboxStatus extends DstackCommand {
  static override summary = 'How many hook writes wait in the outbox, and how many were set aside'
  static override description = 'Reads only local files: works with the brain down. Exit codes: 0 always.'
  static override examples = ['<%= config.bin %> outbox status --json']

  async run(): Promise<{ dir: string; pending: number; dead: number }> {
    const dir = outboxDir()
    let dead = 0
    try {
      dead = readdirSync(join(dir, 'dead')).filter((n) => n.endsWith('.json')).length
    } catch {}
    const status = { dir, pending: pendingCount(dir), dead }
    this.say(`${status.pending} queued, ${status.dead} set aside (${join(dir, 'dead')})`)
    return status
  }
}

import { assertSchemaReady, type FlushResult, flushOutbox } from '@dstack/brain-schema'
import { outboxDir } from '@dstack/config'
import { noteFlushOutcome } from '@dstack/hooks'
import { Flags } from '@oclif/core'
import { DstackCommand } from '../../lib/command.ts'

export default class OutboxFlush extends DstackCommand {
  static override summary = 'Send queued hook writes to the brain now'
  static override description =
    `Hooks append to <DSTACK_HOME>/outbox and return at once; any brain command, or the
background flusher the hooks start, sends the entries. Safe to run any time: one flusher at a time, and every entry is
an idempotent upsert. Entries the brain refuses for good go to outbox/dead with the reason.

Exit codes: 0 flushed (or another flusher is at it), 3 bad config, 4 brain unreachable, 5 schema not ready
(entries stay queued in both cases).`
  static override examples = ['<%= config.bin %> outbox flush']
  static override flags = {
    quiet: Flags.boolean({ description: 'print nothing (used by the background flusher)' }),
  }

  async run(): Promise<FlushResult> {
    const { flags } = await this.parse(OutboxFlush)
    const config = this.settings()
    let result: FlushResult
    try {
      result = await this.withBrain(config.brain, async (brain) => {
        await assertSchemaReady(brain.db)
        return flushOutbox(brain.db, { dir: outboxDir(), agentId: config.agent.id, machine: config.machine })
      })
    } catch (error) {
      noteFlushOutcome(process.env, { reachedBrain: false })
      throw error
    }
    noteFlushOutcome(process.env, { reachedBrain: result.interrupted === null })
    if (!flags.quiet) {
      this.say(
        result.busy
          ? `another flusher is running; ${result.remaining} entries queued`
          : `applied ${result.applied}, set aside ${result.dead}, ${result.remaining} still queued${result.interrupted ? ` (stopped: ${result.interrupted})` : ''}`,
      )
    }
    return result
  }
}

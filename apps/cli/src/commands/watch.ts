import {
  type BrainChange,
  type BrainSubscription,
  BrainUnavailableError,
  listenBrain,
  REALTIME_TABLES,
  type RealtimeTable,
  subscribeSupabase,
} from '@dstack/brain-schema'
import { Flags } from '@oclif/core'
import { DstackCommand } from '../lib/command.ts'
import { BRAIN_EXIT_HELP } from '../lib/exit-codes.ts'
import { splitList } from '../lib/flags.ts'

export default class Watch extends DstackCommand {
  static override summary = 'Stream presence, intent, handoff and decision changes as they happen'
  static override description =
    `Uses LISTEN on the brain (embedded or Postgres), or Supabase Realtime when a Supabase
URL and key are configured (config.yaml \`supabase:\`, or DSTACK_SUPABASE_URL + DSTACK_SUPABASE_KEY). Only this
repository unless --all-repos. With --json, one JSON object per line. Runs until interrupted, --count changes or
--timeout seconds.

${BRAIN_EXIT_HELP}.`
  static override examples = [
    '<%= config.bin %> watch',
    '<%= config.bin %> watch --tables intents,handoffs --json',
    '<%= config.bin %> watch --count 1 --timeout 60',
  ]
  static override flags = {
    tables: Flags.string({ description: `comma-separated subset of ${REALTIME_TABLES.join(', ')}` }),
    'all-repos': Flags.boolean({ description: 'changes in every repository' }),
    count: Flags.integer({ min: 1, description: 'stop after this many changes' }),
    timeout: Flags.integer({ min: 1, description: 'stop after this many seconds' }),
    source: Flags.string({ options: ['auto', 'listen', 'supabase'], default: 'auto' }),
  }

  async run(): Promise<{ source: string; changes: number }> {
    const { flags } = await this.parse(Watch)
    const tables = splitList(flags.tables) as RealtimeTable[] | undefined
    for (const table of tables ?? []) {
      if (!REALTIME_TABLES.includes(table))
        this.error(`unknown table ${table}: use ${REALTIME_TABLES.join(', ')}`, { exit: 2 })
    }
    return this.withWorkspace(async (ws) => {
      let changes = 0
      let stop!: () => void
      const stopped = new Promise<void>((resolve) => {
        stop = resolve
      })
      const onChange = (change: BrainChange) => {
        changes++
        // Streamed as it comes: --json prints NDJSON here (oclif's log() is silent under --json), not one
        // document at the end.
        process.stdout.write(
          `${
            this.jsonEnabled()
              ? JSON.stringify(change)
              : `${new Date().toISOString()} ${change.table} ${change.op} ${change.agent_id ?? '-'} ${change.id ?? ''}`
          }\n`,
        )
        if (flags.count && changes >= flags.count) stop()
      }
      const options = {
        repoId: flags['all-repos'] ? undefined : ws.scope.repoId,
        tables,
        onChange,
        onError: (error: Error) => this.warn(error.message),
      }
      const supabase = ws.config.supabase
      const useSupabase = flags.source === 'supabase' || (flags.source === 'auto' && supabase !== null)
      if (useSupabase && !supabase) this.error('no Supabase URL and key configured', { exit: 3 })
      const subscription: BrainSubscription = useSupabase
        ? await subscribeSupabase({ ...options, url: supabase!.url, key: supabase!.key })
        : await listenBrain(ws.brain, options)
      if (!this.jsonEnabled())
        this.logToStderr(`watching ${ws.scope.repo} via ${subscription.source} (Ctrl-C to stop)`)
      const timer = flags.timeout ? setTimeout(stop, flags.timeout * 1000) : undefined
      process.once('SIGINT', stop)
      process.once('SIGTERM', stop)
      const lost = await Promise.race([stopped.then(() => false), subscription.closed.then(() => true)])
      if (timer) clearTimeout(timer)
      await subscription.close()
      if (lost) throw new BrainUnavailableError(`the ${subscription.source} connection to the brain was lost`)
      return { source: subscription.source, changes }
    })
  }

  // The stream is the output: no final JSON document after it. Errors are still printed as JSON.
  protected override logJson(json: unknown): void {
    if (typeof json === 'object' && json !== null && 'error' in json) super.logJson(json)
  }
}

import pg from 'pg'
import { z } from 'zod'
import type { Brain } from './open-brain.ts'

/** The tables whose changes are streamed (each has a pg_notify trigger and is in the realtime publication). */
export const REALTIME_TABLES = ['presence', 'intents', 'handoffs', 'decisions'] as const
export type RealtimeTable = (typeof REALTIME_TABLES)[number]

/** One change, as small as the pg_notify payload (keys only; read the row if you need more). */
export const brainChangeSchema = z.object({
  table: z.enum(REALTIME_TABLES),
  op: z.enum(['insert', 'update', 'delete']),
  id: z.string().nullish(),
  repo_id: z.string().nullish(),
  agent_id: z.string().nullish(),
  session_id: z.string().nullish(),
})
export type BrainChange = z.infer<typeof brainChangeSchema>

/** A live subscription; `closed` settles when it ends (close() called, or the connection lost). */
export interface BrainSubscription {
  readonly source: 'pg-listen' | 'supabase-realtime'
  close(): Promise<void>
  readonly closed: Promise<void>
}

export interface WatchOptions {
  /** Only changes of this repository (by id). */
  repoId?: string
  tables?: readonly RealtimeTable[]
  onChange: (change: BrainChange) => void
  /** A payload that is not a change dstack sent (never expected; reported, not thrown). */
  onError?: (error: Error) => void
}

function keep(change: BrainChange, options: WatchOptions): boolean {
  if (options.tables && !options.tables.includes(change.table)) return false
  return !options.repoId || change.repo_id === options.repoId
}

/**
 * Streams brain changes with LISTEN on a dedicated connection: works on the embedded server and on any Postgres.
 *
 * @example
 * const sub = await listenBrain(brain, { repoId, onChange: (c) => console.log(c.table, c.op, c.agent_id) })
 * // ... later
 * await sub.close()
 */
export async function listenBrain(brain: Brain, options: WatchOptions): Promise<BrainSubscription> {
  const { max: _max, ...config } = await brain.driver.connectionConfig()
  const client = new pg.Client({ ...(config as pg.ClientConfig), application_name: 'dstack watch' })
  await client.connect()
  let resolveClosed!: () => void
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve
  })
  client.on('notification', (message) => {
    if (message.channel !== 'dstack_brain' || !message.payload) return
    let raw: unknown
    try {
      raw = JSON.parse(message.payload)
    } catch {
      options.onError?.(new Error(`not JSON on dstack_brain: ${message.payload.slice(0, 200)}`))
      return
    }
    const change = brainChangeSchema.safeParse(raw)
    if (!change.success) {
      options.onError?.(new Error(`unexpected change payload: ${message.payload.slice(0, 200)}`))
      return
    }
    if (keep(change.data, options)) options.onChange(change.data)
  })
  client.on('error', (error) => options.onError?.(error))
  client.on('end', () => resolveClosed())
  await client.query('listen dstack_brain')
  return {
    source: 'pg-listen',
    closed,
    async close() {
      await client.end().catch(() => {})
      await closed
    },
  }
}

export interface SupabaseRealtimeOptions extends WatchOptions {
  /** The project URL, e.g. https://abcd.supabase.co */
  url: string
  /** The anon key, or a user JWT carrying the agent_id claim (row-level security applies to what is streamed). */
  key: string
}

/**
 * Streams brain changes from Supabase Realtime (`postgres_changes` on the `dstack` schema, through the
 * publication the migrations add), for hosted teams whose clients cannot reach Postgres directly.
 *
 * @example
 * const sub = await subscribeSupabase({ url: 'https://abcd.supabase.co', key, onChange: console.log })
 */
export async function subscribeSupabase(options: SupabaseRealtimeOptions): Promise<BrainSubscription> {
  // Loaded only here: supabase-js is large and only hosted teams need it.
  const { createClient } = await import('@supabase/supabase-js')
  const supabase = createClient(options.url, options.key, {
    auth: { persistSession: false, autoRefreshToken: false },
  })
  let resolveClosed!: () => void
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve
  })
  let channel = supabase.channel('dstack-watch')
  for (const table of options.tables ?? REALTIME_TABLES) {
    channel = channel.on('postgres_changes', { event: '*', schema: 'dstack', table }, (payload) => {
      const record = (payload.eventType === 'DELETE' ? payload.old : payload.new) as Record<string, unknown>
      const change = brainChangeSchema.safeParse({
        table: payload.table,
        op: payload.eventType.toLowerCase(),
        id: record.id ?? null,
        repo_id: record.repo_id ?? null,
        agent_id: record.agent_id ?? record.from_agent ?? record.authored_by ?? null,
        session_id: record.session_id ?? null,
      })
      if (!change.success) {
        options.onError?.(new Error(`unexpected realtime payload for ${payload.table}`))
        return
      }
      if (keep(change.data, options)) options.onChange(change.data)
    })
  }
  await new Promise<void>((resolve, reject) => {
    channel.subscribe((status, error) => {
      if (status === 'SUBSCRIBED') resolve()
      else if (status === 'CHANNEL_ERROR' || status === 'TIMED_OUT') {
        reject(new Error(`Supabase Realtime: ${status}${error ? `: ${error.message}` : ''}`))
      } else if (status === 'CLOSED') resolveClosed()
    })
  })
  return {
    source: 'supabase-realtime',
    closed,
    async close() {
      await supabase.removeAllChannels()
      supabase.realtime.disconnect()
      resolveClosed()
    },
  }
}

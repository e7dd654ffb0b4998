import { z } from 'zod'
import type { Service } from './config.ts'
import { MIGRATIONS_TABLE } from './migrations.ts'
import { FORCE_UNLOCK, INSPECT, PROCESS_STATUS, script, WITH_PG } from './scripts.ts'
import type { Target } from './targets/index.ts'

/** One line of a target's `.dstack/history.jsonl`: what a deploy or rollback did there. */
export const historyEntrySchema = z.object({
  action: z.enum(['deploy', 'rollback']),
  service: z.string(),
  release: z.string(),
  previous: z.string().nullable(),
  outcome: z.enum(['deployed', 'rolled-back', 'aborted', 'failed', 'refused']),
  reason: z.string().nullable(),
  /** Releases a failure marked bad (never picked by a default rollback). */
  bad: z.array(z.string()).default([]),
  by: z.string(),
  startedAt: z.string(),
  durationMs: z.number(),
})

export type HistoryEntry = z.infer<typeof historyEntrySchema>

/** What planning needs to know about a target, read in one command. */
export interface TargetState {
  /** The release `current` points at, or null. */
  current: string | null
  releases: string[]
  lock: { owner: string; expiresAt: string; expired: boolean } | null
  /** Releases marked bad by a failed deploy. */
  bad: Set<string>
  /** Newest last; lines that are not valid history are skipped. */
  history: HistoryEntry[]
  /** Applied migrations (when the service has migrations and the database answered), else null. */
  appliedMigrations: Set<string> | null
}

/**
 * Reads a target's deploy state for `service` without changing anything: current release, releases on disk, the
 * lock, the history (and so the bad releases), and — given the database's PG* environment — the applied migrations.
 *
 * @example
 * const state = await inspectTarget(new LocalTarget(), service)
 * state.current // '20261123T153012Z-3f2a9c1e0b'
 */
export async function inspectTarget(
  target: Target,
  service: Service,
  options: { pgEnv?: string; historyLines?: number; signal?: AbortSignal } = {},
): Promise<TargetState> {
  const r = await target.exec(script(INSPECT, 'inspect', service.root, String(options.historyLines ?? 200)), {
    timeoutMs: 60_000,
    signal: options.signal,
  })
  if (r.exitCode !== 0)
    throw new Error(
      `cannot read ${service.root} on ${target.name}: ${(r.startError ?? r.stderr).trim() || `exit ${r.exitCode}`}`,
    )
  const state: TargetState = {
    current: null,
    releases: [],
    lock: null,
    bad: new Set(),
    history: [],
    appliedMigrations: null,
  }
  for (const line of r.stdout.split('\n')) {
    const space = line.indexOf(' ')
    const key = line.slice(0, space)
    const value = line.slice(space + 1)
    if (key === 'current') state.current = value === '-' || value === '' ? null : value
    else if (key === 'release') state.releases.push(value)
    else if (key === 'lock') {
      const [expires, now, ...owner] = value.split(' ')
      state.lock = {
        owner: owner.join(' ') || 'unknown',
        expiresAt: new Date(Number(expires) * 1000).toISOString(),
        expired: Number(now) >= Number(expires),
      }
    } else if (key === 'history') {
      const entry = historyEntrySchema.safeParse(safeJson(value))
      if (entry.success) {
        state.history.push(entry.data)
        for (const bad of entry.data.bad) state.bad.add(bad)
      }
    }
  }
  state.releases.sort()
  if (service.migrationsDir && options.pgEnv !== undefined)
    state.appliedMigrations = await appliedMigrations(target, options.pgEnv, options.signal)
  return state
}

async function appliedMigrations(target: Target, pgEnv: string, signal?: AbortSignal): Promise<Set<string>> {
  const query = `select name from ${MIGRATIONS_TABLE} order by name`
  const r = await target.exec(
    [
      ...script(WITH_PG, 'with-pg'),
      'psql',
      '-X',
      '-q',
      '-At',
      '--no-password',
      '-v',
      'ON_ERROR_STOP=1',
      '-c',
      query,
    ],
    { input: pgEnv, timeoutMs: 60_000, signal },
  )
  if (r.exitCode === 0) return new Set(r.stdout.split('\n').filter(Boolean))
  // The first deploy creates the table.
  if (/relation "dstack_migrations" does not exist/.test(r.stderr)) return new Set()
  throw new Error(
    `cannot read the applied migrations on ${target.name}: ${r.stderr.trim() || r.startError || `exit ${r.exitCode}`}`,
  )
}

/** Whether the service runs on the target now: `running <pid>`, `active`, `stopped`, or `unknown`. */
export async function serviceStatus(target: Target, service: Service): Promise<string> {
  if (service.process) {
    const r = await target.exec(script(PROCESS_STATUS, 'proc-status', service.root, service.name), {
      timeoutMs: 30_000,
    })
    return r.exitCode === 0 ? r.stdout.trim() : 'unknown'
  }
  if (service.systemd) {
    const sudo = service.systemd.sudo ? ['sudo', '-n'] : []
    const r = await target.exec([...sudo, 'systemctl', 'is-active', service.systemd.unit], {
      timeoutMs: 30_000,
    })
    return r.stdout.trim() || 'unknown'
  }
  return 'unknown'
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return null
  }
}

/**
 * Removes the deploy lock whoever holds it (an operator's explicit takeover after checking nobody deploys), and
 * says whose it was.
 *
 * @example
 * await forceUnlock(target, service) // 'removed the lock of ci@runner-3 pid 4242 at 2026-11-23T15:30:12Z'
 */
export async function forceUnlock(target: Target, service: Service): Promise<string> {
  const r = await target.exec(script(FORCE_UNLOCK, 'force-unlock', `${service.root}/.dstack/lock`), {
    timeoutMs: 30_000,
  })
  if (r.exitCode !== 0)
    throw new Error(`cannot unlock on ${target.name}: ${(r.startError ?? r.stderr).trim()}`)
  return r.stdout.trim()
}

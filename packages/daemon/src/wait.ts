import { setTimeout as sleep } from 'node:timers/promises'

export interface WaitForOptions {
  timeoutMs: number
  /** Delay between attempts; default 20 ms, doubling up to `maxIntervalMs`. */
  intervalMs?: number
  /** Longest delay between attempts; default 250 ms. Lower it when the caller is waiting on the result. */
  maxIntervalMs?: number
  /** What we were waiting for, for the timeout message. */
  what: string
}

/**
 * Polls `probe` until it returns a value other than undefined, with backoff, or throws after `timeoutMs`.
 * A probe that throws ends the wait with that error (use it for "the child died, stop waiting").
 *
 * @example
 * const socket = await waitFor(() => tryConnect(path), { timeoutMs: 30_000, what: 'the brain server' })
 */
export async function waitFor<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  options: WaitForOptions,
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs
  let interval = options.intervalMs ?? 20
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() >= deadline)
      throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${options.what}`)
    await sleep(Math.min(interval, Math.max(1, deadline - Date.now())))
    interval = Math.min(interval * 2, options.maxIntervalMs ?? 250)
  }
}

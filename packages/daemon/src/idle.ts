/**
 * Fires `onIdle` once nothing has been in use for `idleMs`. Work is counted with `begin()`/the returned `end()`, so a
 * daemon with a long request in flight is busy, not idle: busy is never mistaken for dead.
 *
 * @example
 * const idle = new IdleTimer(15 * 60_000, () => shutdown('idle'))
 * server.on('connection', (socket) => { const end = idle.begin(); socket.on('close', end) })
 */
export class IdleTimer {
  readonly idleMs: number
  #onIdle: () => void
  #active = 0
  #timer: NodeJS.Timeout | undefined
  #lastActivity = Date.now()
  #stopped = false

  constructor(idleMs: number, onIdle: () => void) {
    this.idleMs = idleMs
    this.#onIdle = onIdle
    this.#arm()
  }

  /** Marks one unit of work as started; call the returned function when it ends (extra calls are ignored). */
  begin(): () => void {
    this.#active++
    this.#lastActivity = Date.now()
    this.#disarm()
    let ended = false
    return () => {
      if (ended) return
      ended = true
      this.#active--
      this.#lastActivity = Date.now()
      this.#arm()
    }
  }

  /** Notes activity without holding the daemon busy. */
  touch(): void {
    this.#lastActivity = Date.now()
    this.#arm()
  }

  get active(): number {
    return this.#active
  }

  get idleForMs(): number {
    return this.#active > 0 ? 0 : Date.now() - this.#lastActivity
  }

  stop(): void {
    this.#stopped = true
    this.#disarm()
  }

  #disarm(): void {
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = undefined
  }

  #arm(): void {
    this.#disarm()
    if (this.#stopped || this.#active > 0 || this.idleMs <= 0) return
    this.#timer = setTimeout(() => {
      if (this.#stopped || this.#active > 0) return
      this.#stopped = true
      this.#onIdle()
    }, this.idleMs)
    this.#timer.unref()
  }
}

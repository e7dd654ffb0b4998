/** Something the browser layer refuses or cannot do; `code` lets callers (and exit codes) tell the cases apart. */
export class BrowserError extends Error {
  readonly code: string
  /** What to do about it, for people and agents. */
  readonly hint: string | null

  constructor(code: string, message: string, hint: string | null = null) {
    super(message)
    this.name = new.target.name
    this.code = code
    this.hint = hint
  }
}

/** Chromium or the daemon cannot be started or reached. */
export class BrowserUnavailableError extends BrowserError {}

/** The daemon is alive but does not answer: it is busy, and is never killed unasked. */
export class BrowserBusyError extends BrowserError {}

/** A command, its arguments or a page target is wrong (unknown command, stale ref, disallowed domain…). */
export class CommandError extends BrowserError {}

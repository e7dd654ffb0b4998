import type { CommandResult } from '@dstack/daemon'

export interface ExecOptions {
  /** Text or a stream for the command's stdin (secrets travel here, never in argv). */
  input?: string | NodeJS.ReadableStream
  timeoutMs?: number
  signal?: AbortSignal
  /** Not killed when this process gets Ctrl-C (a rollback or unlock must finish once started). */
  uninterruptible?: boolean
}

/**
 * Where releases live: this machine, or one SSH host. Both run the same argv the same way, so a plan behaves the same
 * on either; only `describe` differs.
 */
export interface Target {
  /** `local` or `ssh://user@host:port`. */
  readonly name: string
  /** Runs argv on the target (over ssh, every argument is quoted; nothing is pasted into a shell line raw). */
  exec(argv: readonly string[], options?: ExecOptions): Promise<CommandResult>
  /** The command line that `exec(argv)` really runs on this machine, for plans and reports. */
  describe(argv: readonly string[]): string[]
  /** Ends the connection (ssh's shared master); a no-op for local. */
  close(): Promise<void>
}

import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCommand } from '@dstack/daemon'
import { shellLine } from './quote.ts'
import type { ExecOptions, Target } from './target.ts'

export interface SshTargetOptions {
  /** `ssh://[user@]host[:port]`. */
  url: string
  identityFile?: string
  /** Host keys are always checked; this file replaces ~/.ssh/known_hosts. */
  knownHosts?: string
  connectTimeoutS?: number
}

/** ssh's exit status when the connection failed or dropped (the remote command's own codes are passed through). */
export const SSH_CONNECTION_FAILED = 255

/**
 * A host reached over OpenSSH with one shared connection (ControlMaster): the first command opens it, later ones
 * reuse it, `close` ends it. Each argv is sent as one line of individually quoted arguments, so no value from the
 * config or a file name can change the command the remote shell runs.
 *
 * @example
 * const target = new SshTarget({ url: 'ssh://deploy@vps1:22', identityFile: '~/.ssh/deploy' })
 * await target.exec(['readlink', '/srv/api/current'])
 * await target.close()
 */
export class SshTarget implements Target {
  readonly name: string
  readonly #destination: string[]
  readonly #options: string[]
  readonly #controlDir: string
  #closed = false
  readonly #onExit = () => this.#closeSync()

  constructor(options: SshTargetOptions) {
    const url = new URL(options.url)
    const host = url.hostname.replace(/^\[|\]$/g, '')
    const port = url.port || '22'
    // Without a user in the URL, ssh picks it (its config, else the local user name).
    const user = decodeURIComponent(url.username)
    this.name = `ssh://${user ? `${user}@` : ''}${url.hostname}:${port}`
    // Short: a control socket path must fit in 104 bytes.
    this.#controlDir = mkdtempSync(join(tmpdir(), 'dstack-ssh-'))
    this.#options = [
      ...['-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes'],
      ...(options.knownHosts ? ['-o', `UserKnownHostsFile=${options.knownHosts}`] : []),
      ...(options.identityFile ? ['-o', 'IdentitiesOnly=yes', '-i', options.identityFile] : []),
      ...['-o', `ConnectTimeout=${options.connectTimeoutS ?? 10}`],
      // A dead peer is noticed in ~10 s instead of the TCP timeout.
      ...['-o', 'ServerAliveInterval=5', '-o', 'ServerAliveCountMax=2'],
      ...['-o', 'ControlMaster=auto', '-o', `ControlPath=${this.#controlDir}/%C`, '-o', 'ControlPersist=60'],
      ...['-p', port, ...(user ? ['-l', user] : [])],
    ]
    this.#destination = [host]
    process.once('exit', this.#onExit)
  }

  exec(argv: readonly string[], options: ExecOptions = {}) {
    // The shared master outlives this call on purpose (it is ended by close, or by ControlPersist when idle).
    const { uninterruptible, ...rest } = options
    return runCommand(this.describe(argv), { ...rest, killLeftovers: false, killOnSignal: !uninterruptible })
  }

  describe(argv: readonly string[]): string[] {
    return ['ssh', ...this.#options, ...this.#destination, '--', shellLine(argv)]
  }

  async close(): Promise<void> {
    if (this.#closed) return
    await runCommand(['ssh', ...this.#options, '-O', 'exit', ...this.#destination], { timeoutMs: 5000 })
    this.#cleanup()
  }

  #closeSync(): void {
    if (this.#closed) return
    spawnSync('ssh', [...this.#options, '-O', 'exit', ...this.#destination], {
      stdio: 'ignore',
      timeout: 2000,
    })
    this.#cleanup()
  }

  #cleanup(): void {
    this.#closed = true
    process.off('exit', this.#onExit)
    rmSync(this.#controlDir, { recursive: true, force: true })
  }
}

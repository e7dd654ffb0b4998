// A real OpenSSH server on a free loopback port, for deploy tests that go over SSH: its own host key, one client
// key, a log that shows every accepted login, and ways to drop live connections or tear it all down. Needs
// /usr/sbin/sshd (scripts/toolchain.sh's toolchain_deploy installs it) and, for the privilege-separation dir, root.
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import {
  chmodSync,
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import {
  alive,
  descendants,
  exited,
  freePort,
  killNow,
  processesWithEnv,
  terminate,
  until,
} from './processes.ts'

/** The server binary; `DSTACK_SSHD` points at another one. */
export const SSHD_BIN = process.env.DSTACK_SSHD ?? '/usr/sbin/sshd'

/**
 * Set in every session's environment (sshd_config `SetEnv`), with a value unique to one server: `stop()` finds what
 * sessions started by it, even processes that daemonised or were orphaned by `dropConnections()`.
 */
export const SESSION_MARKER = 'DSTACK_TEST_SSHD'

/** A running test sshd. */
export interface Sshd {
  host: '127.0.0.1'
  port: number
  /** The user to log in as: whoever runs the tests (root here). */
  user: string
  /** The client's ed25519 private key (mode 0600), the only key in the server's authorized_keys. */
  identityFile: string
  /** A known_hosts file holding the server's host key as `[127.0.0.1]:<port>`, for StrictHostKeyChecking=yes. */
  knownHostsFile: string
  /** sshd's own log (`-e`, LogLevel VERBOSE). */
  logFile: string
  /** The directory holding the keys, config, pid file and log. */
  dir: string
  /** How many public-key logins the log shows so far: one per SSH connection, however many commands it carried. */
  sessions(): number
  /**
   * SIGKILLs every per-connection sshd process, leaving the listener up: each client (and ControlMaster) sees its
   * connection die, as on a network drop. Commands those sessions were running are left to `stop()`.
   */
  dropConnections(): Promise<void>
  /** Stops the listener, every connection and everything the sessions started; removes `dir` if it made it. */
  stop(): Promise<void>
}

/**
 * Starts `sshd -D -e` on a free 127.0.0.1 port with generated host and client keys, and waits until it listens.
 * Files go to `dir` (created if missing) or to a fresh temp dir that `stop()` removes.
 *
 * @example
 * const sshd = await startSshd()
 * execFileSync('ssh', [...sshOptions(sshd), `${sshd.user}@${sshd.host}`, '--', 'echo', 'hi'])
 * await sshd.stop()
 */
export async function startSshd(options: { dir?: string } = {}): Promise<Sshd> {
  const owned = options.dir === undefined
  const dir = options.dir ?? realpathSync(mkdtempSync(join(tmpdir(), 'dstack-sshd-')))
  mkdirSync(join(dir, 'home'), { recursive: true })
  // sshd refuses to start as root without its privilege-separation directory (normally made by systemd's unit).
  if (!existsSync('/run/sshd')) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 })

  const hostKey = join(dir, 'ssh_host_ed25519_key')
  const identityFile = join(dir, 'id_ed25519')
  const authorizedKeys = join(dir, 'authorized_keys')
  const knownHostsFile = join(dir, 'known_hosts')
  const logFile = join(dir, 'sshd.log')
  const configFile = join(dir, 'sshd_config')
  keygen(hostKey, 'dstack-test-host')
  keygen(identityFile, 'dstack-test-client')
  chmodSync(identityFile, 0o600)
  copyFileSync(`${identityFile}.pub`, authorizedKeys)
  const marker = randomUUID()

  // Another process may take the port between freePort() and sshd's bind: try a few.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort()
    writeFileSync(configFile, sshdConfig({ dir, port, hostKey, authorizedKeys, marker }))
    const log = openSync(logFile, 'w')
    // stderr straight into the file: the log stays complete even while this process is busy.
    const child = spawn(SSHD_BIN, ['-D', '-e', '-f', configFile], { stdio: ['ignore', log, log] })
    closeSync(log)
    const readLog = () => readFileSync(logFile, 'utf8')
    const outcome = await until(() => {
      if (child.exitCode !== null || child.signalCode !== null) return 'exited'
      return readLog().includes('Server listening on') ? 'listening' : undefined
    }, `sshd to listen on 127.0.0.1:${port} (log: ${logFile})`).catch(async (error: unknown) => {
      await terminate([child.pid!])
      throw error
    })
    if (outcome === 'exited') {
      const text = readLog()
      if (attempt < 5 && /Address already in use/.test(text)) continue
      throw new Error(`sshd exited with ${child.exitCode ?? child.signalCode} before listening:\n${text}`)
    }
    writeFileSync(knownHostsFile, `[127.0.0.1]:${port} ${readFileSync(`${hostKey}.pub`, 'utf8').trim()}\n`)

    const listener = child.pid!
    // Everything this server is responsible for: its tree, plus whatever left the tree but carries the marker.
    const everything = () => [
      listener,
      ...descendants(listener).map((p) => p.pid),
      ...processesWithEnv(SESSION_MARKER, marker),
    ]
    const onExit = () => killNow(everything())
    process.once('exit', onExit)
    let stopped: Promise<void> | undefined

    return {
      host: '127.0.0.1',
      port,
      user: userInfo().username,
      identityFile,
      knownHostsFile,
      logFile,
      dir,
      sessions: () => readLog().match(/^Accepted publickey for /gm)?.length ?? 0,
      async dropConnections() {
        const connections = descendants(listener).filter((p) => p.comm === 'sshd' && p.state !== 'Z')
        killNow(connections.map((p) => p.pid))
        await until(
          () => (connections.some((p) => alive(p.pid)) ? undefined : true),
          'dropped sshd connections to exit',
        )
      },
      stop() {
        stopped ??= (async () => {
          process.removeListener('exit', onExit)
          await terminate(everything())
          await exited(child)
          // A session may have forked between the scan and the kill: sweep once more.
          await terminate(processesWithEnv(SESSION_MARKER, marker))
          if (owned) rmSync(dir, { recursive: true, force: true })
        })()
        return stopped
      },
    }
  }
}

/**
 * The ssh client options that reach `sshd` with its key and host key, and nothing from the machine's own ssh
 * configuration (`-F /dev/null`, no agent keys). Add ControlMaster options and the destination yourself; ssh keeps
 * the first value it sees for an option, so an override goes before these, not after.
 *
 * @example
 * spawn('ssh', [...sshOptions(sshd), 'root@127.0.0.1', '--', 'uptime'])
 */
export function sshOptions(sshd: Sshd): string[] {
  return [
    '-F',
    '/dev/null',
    '-i',
    sshd.identityFile,
    '-p',
    String(sshd.port),
    '-o',
    `UserKnownHostsFile=${sshd.knownHostsFile}`,
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'LogLevel=ERROR',
  ]
}

function keygen(file: string, comment: string): void {
  // ssh-keygen asks before overwriting: a reused dir gets fresh keys.
  rmSync(file, { force: true })
  rmSync(`${file}.pub`, { force: true })
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file], {
    stdio: 'ignore',
  })
}

function sshdConfig(c: {
  dir: string
  port: number
  hostKey: string
  authorizedKeys: string
  marker: string
}): string {
  return `# Generated by packages/deploy/test/support/sshd.ts
ListenAddress 127.0.0.1:${c.port}
HostKey ${c.hostKey}
PidFile ${join(c.dir, 'sshd.pid')}
AuthorizedKeysFile ${c.authorizedKeys}
# The key files live in a temp dir with whatever modes and owners it has.
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
LogLevel VERBOSE
UseDNS no
PrintMotd no
PrintLastLog no
X11Forwarding no
AllowTcpForwarding yes
AllowStreamLocalForwarding yes
# A ControlMaster multiplexes every command of a deploy over one connection: allow many channels at once.
MaxSessions 64
MaxStartups 64:30:128
Subsystem sftp internal-sftp
# A clean HOME: sessions skip the machine user's ~/.bashrc (here it runs pyenv init, ~1 s per command).
SetEnv ${SESSION_MARKER}=${c.marker} HOME=${join(c.dir, 'home')}
${penaltiesSupported() ? '# 9.8+ would refuse 127.0.0.1 for a while after dropConnections() "crashes" its children.\nPerSourcePenalties no\n' : ''}`
}

let penalties: boolean | undefined

/** Whether this sshd knows PerSourcePenalties (OpenSSH 9.8+); older ones reject the option. */
function penaltiesSupported(): boolean {
  if (penalties === undefined) {
    // -V prints to stderr; older versions exit non-zero after printing usage that still names the version.
    const run = spawnSync(SSHD_BIN, ['-V'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
    const match = /OpenSSH_(\d+)\.(\d+)/.exec(`${run.stdout}${run.stderr}`)
    penalties = match !== null && Number(match[1]) * 100 + Number(match[2]) >= 908
  }
  return penalties
}

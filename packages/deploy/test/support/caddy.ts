// A real Caddy for deploy tests: admin API on a free loopback port, no HTTP app until the deploy under test POSTs
// /load, all state (autosave, certificates, locks) inside a temp dir. Needs `caddy` (Debian's 2.6.2 here; see
// scripts/toolchain.sh's toolchain_deploy).
import { spawn } from 'node:child_process'
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { exited, freePort, killNow, terminate, until } from './processes.ts'

/** The caddy binary: `DSTACK_CADDY`, else Debian's /usr/bin/caddy, else whatever `caddy` is on PATH. */
export const CADDY_BIN =
  process.env.DSTACK_CADDY ?? (existsSync('/usr/bin/caddy') ? '/usr/bin/caddy' : 'caddy')

/** A running test Caddy. */
export interface Caddy {
  /** `http://127.0.0.1:<adminPort>`, no trailing slash. */
  adminUrl: string
  adminPort: number
  /** A port that was free at start, for the site the test loads (nothing listens on it until then). */
  httpPort: number
  /** Caddy's own log (JSON lines). */
  logFile: string
  /** The directory holding the initial config, the log and Caddy's HOME/XDG dirs. */
  dir: string
  /** The running config, from GET /config/ (`null` when empty). */
  config(): Promise<unknown>
  /** Stops Caddy (SIGTERM, then SIGKILL) and removes `dir` if it made it. */
  stop(): Promise<void>
}

/**
 * Starts `caddy run` with only an admin endpoint on a free 127.0.0.1 port (config persistence off, no HTTP app, so
 * no automatic HTTPS and nothing on :80/:443) and waits until the admin API answers.
 *
 * @example
 * const caddy = await startCaddy()
 * await fetch(`${caddy.adminUrl}/load`, {
 *   method: 'POST',
 *   headers: { 'content-type': 'text/caddyfile' },
 *   body: caddyfileFor(caddy.httpPort, 3000, caddy.adminPort),
 * })
 */
export async function startCaddy(options: { dir?: string } = {}): Promise<Caddy> {
  const owned = options.dir === undefined
  const dir = options.dir ?? realpathSync(mkdtempSync(join(tmpdir(), 'dstack-caddy-')))
  const home = join(dir, 'home')
  for (const sub of ['home', 'data', 'config']) mkdirSync(join(dir, sub), { recursive: true })
  const configFile = join(dir, 'caddy.json')
  const logFile = join(dir, 'caddy.log')
  const httpPort = await freePort()

  for (let attempt = 1; ; attempt++) {
    const adminPort = await freePort()
    const adminUrl = `http://127.0.0.1:${adminPort}`
    writeFileSync(
      configFile,
      `${JSON.stringify({ admin: { listen: `127.0.0.1:${adminPort}`, config: { persist: false } } }, null, 2)}\n`,
    )
    const log = openSync(logFile, 'w')
    const child = spawn(CADDY_BIN, ['run', '--config', configFile], {
      cwd: dir,
      stdio: ['ignore', log, log],
      env: {
        ...process.env,
        HOME: home,
        XDG_DATA_HOME: join(dir, 'data'),
        XDG_CONFIG_HOME: join(dir, 'config'),
      },
    })
    closeSync(log)
    const outcome = await until(async () => {
      if (child.exitCode !== null || child.signalCode !== null) return 'exited'
      const response = await fetch(`${adminUrl}/config/`).catch(() => undefined)
      return response?.ok ? 'ready' : undefined
    }, `caddy's admin API at ${adminUrl} (log: ${logFile})`).catch(async (error: unknown) => {
      await terminate([child.pid!])
      throw error
    })
    if (outcome === 'exited') {
      const text = readFileSync(logFile, 'utf8')
      if (attempt < 5 && /address already in use/.test(text)) continue
      throw new Error(
        `caddy exited with ${child.exitCode ?? child.signalCode} before its admin API answered:\n${text}`,
      )
    }

    const onExit = () => killNow([child.pid!])
    process.once('exit', onExit)
    let stopped: Promise<void> | undefined
    return {
      adminUrl,
      adminPort,
      httpPort,
      logFile,
      dir,
      async config() {
        const response = await fetch(`${adminUrl}/config/`)
        if (!response.ok) throw new Error(`GET /config/: ${response.status} ${await response.text()}`)
        return response.json()
      },
      stop() {
        stopped ??= (async () => {
          process.removeListener('exit', onExit)
          await terminate([child.pid!])
          await exited(child)
          if (owned) rmSync(dir, { recursive: true, force: true })
        })()
        return stopped
      },
    }
  }
}

/**
 * A Caddyfile serving `http://127.0.0.1:<httpPort>` (bound to loopback only) as a reverse proxy to
 * 127.0.0.1:<upstreamPort> that retries for up to 5 s, so requests wait out an upstream restart instead of failing.
 * POST /load replaces the whole config, admin endpoint included, so the global block keeps `admin
 * 127.0.0.1:<adminPort>`; without it Caddy would move its admin API to localhost:2019. Caddy 2.6 has no
 * `persist_config` option (2.7 added it), so a loaded Caddyfile autosaves to $XDG_CONFIG_HOME/caddy/autosave.json:
 * inside the fixture's dir.
 *
 * @example
 * caddyfileFor(caddy.httpPort, 3000, caddy.adminPort)
 */
export function caddyfileFor(httpPort: number, upstreamPort: number, adminPort: number): string {
  return `{
	admin 127.0.0.1:${adminPort}
	auto_https off
}

http://127.0.0.1:${httpPort} {
	bind 127.0.0.1
	reverse_proxy 127.0.0.1:${upstreamPort} {
		lb_try_duration 5s
		lb_try_interval 50ms
	}
}
`
}

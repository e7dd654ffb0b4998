import { existsSync } from 'node:fs'
import { type Browser, chromium } from 'playwright-core'
import { BrowserUnavailableError } from './errors.ts'

/**
 * Flags for a headless Chromium that stays quiet on a machine with no network beyond loopback: no background
 * networking, component updates, sync or first-run work (each would try, fail and retry), and no sandbox when root.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--disable-dev-shm-usage',
]

/**
 * The Chromium binary to drive: `DSTACK_CHROMIUM`, else Debian's `/usr/bin/chromium` (installed by the project's
 * scripts/toolchain.sh). Throws with the fix when it is not there.
 *
 * @example
 * chromiumPath() // '/usr/bin/chromium'
 */
export function chromiumPath(env: NodeJS.ProcessEnv = process.env): string {
  const path = env.DSTACK_CHROMIUM || '/usr/bin/chromium'
  if (!existsSync(path))
    throw new BrowserUnavailableError(
      'no-chromium',
      `Chromium not found at ${path}`,
      "install Debian's chromium (`apt-get install chromium`, or scripts/toolchain.sh's toolchain_chromium) or set DSTACK_CHROMIUM",
    )
  return path
}

/** Sandboxing needs user namespaces that root in a container does not get; as root it must be off. */
export function sandboxArgs(): string[] {
  return process.getuid?.() === 0 ? ['--no-sandbox'] : []
}

/**
 * Launches the headless Chromium dstack drives, with the flags above. Signals are left to the caller (the daemon
 * closes its sessions and state first).
 *
 * @example
 * const browser = await launchChromium()
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: [...CHROMIUM_ARGS, ...sandboxArgs()],
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
  })
}

import { runCommand } from '@dstack/daemon'
import type { ExecOptions, Target } from './target.ts'

/**
 * Runs a plan's target commands on this machine: the same argv an SSH target would run remotely.
 *
 * @example
 * const target = new LocalTarget()
 * await target.exec(['readlink', '/srv/api/current'])
 */
export class LocalTarget implements Target {
  readonly name = 'local'

  exec(argv: readonly string[], options: ExecOptions = {}) {
    // A service started by a step detaches with setsid, so killing what the step left in its group is safe.
    const { uninterruptible, ...rest } = options
    return runCommand(argv, { ...rest, cwd: '/', killOnSignal: !uninterruptible })
  }

  describe(argv: readonly string[]): string[] {
    return [...argv]
  }

  async close(): Promise<void> {}
}

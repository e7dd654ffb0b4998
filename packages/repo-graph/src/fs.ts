// File-system helpers every part of the package shares.
import { realpathSync } from 'node:fs'

/**
 * Directories that hold dependencies, build output, caches or dstack's own worktrees: never searched for
 * repositories, manifests or tests.
 */
export const GENERATED_DIRS: ReadonlySet<string> = new Set([
  'node_modules',
  'target',
  'dist',
  'build',
  'out',
  'vendor',
  'venv',
  '.venv',
  '__pycache__',
  'coverage',
  '.cache',
  '.git',
  '.dstack',
])

/**
 * `path` with every symlink resolved, or null when it does not exist or cannot be read.
 *
 * @example
 * realpathOrNull('/opt/ares-link') // '/opt/ares'
 */
export function realpathOrNull(path: string): string | null {
  try {
    return realpathSync(path)
  } catch {
    return null
  }
}

import { randomBytes } from 'node:crypto'
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'

export interface WriteFileAtomicOptions {
  /** File mode; defaults to 0600 because state files tend to hold tokens. */
  mode?: number
  /** Mode for directories created on the way; defaults to 0700. */
  dirMode?: number
  /**
   * Flush to disk before the rename (default true). Without it the write is still atomic and survives a crash of
   * the process, but not of the machine; hooks that must return in milliseconds turn it off (an fsync is ~3 ms).
   */
  fsync?: boolean
}

/**
 * Writes a file so readers see either the old content or the new, never a torn mix: the data goes to a temporary
 * file in the same directory, is fsynced, then renamed over the target (rename is atomic on POSIX).
 *
 * @example
 * writeFileAtomic('/home/me/.dstack/brain/server.json', JSON.stringify(state))
 */
export function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: WriteFileAtomicOptions = {},
): void {
  const dir = dirname(path)
  mkdirSync(dir, { recursive: true, mode: options.dirMode ?? 0o700 })
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
  const fd = openSync(tmp, 'wx', options.mode ?? 0o600)
  try {
    writeFileSync(fd, data)
    if (options.fsync !== false) fsyncSync(fd)
  } catch (error) {
    closeSync(fd)
    rmSync(tmp, { force: true })
    throw error
  }
  closeSync(fd)
  try {
    renameSync(tmp, path)
  } catch (error) {
    rmSync(tmp, { force: true })
    throw error
  }
}

import { chmodSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir as fleetTempDir, git as gitArgs, write } from '../support/fleet.ts'

export { cleanup, write } from '../support/fleet.ts'

/** Runs git with a fixed identity and default branch; returns trimmed stdout. */
export function git(cwd: string, ...args: string[]): string {
  return gitArgs(cwd, args)
}

/** A fresh directory under the OS temp dir, symlinks resolved, removed by `cleanup()`. */
export function tempDir(prefix = 'dstack-waves-'): string {
  return fleetTempDir(prefix)
}

/** A new repository on `main` with one commit holding `files`. */
export function initRepo(files: Record<string, string> = { 'README.md': '# test\n' }): string {
  const dir = tempDir()
  git(dir, 'init', '-q')
  write(dir, files)
  git(dir, 'add', '-A')
  git(dir, 'commit', '-q', '-m', 'initial')
  return dir
}

/** `git status --porcelain` including untracked and ignored-directory noise: '' means clean. */
export function status(repo: string): string {
  return git(repo, 'status', '--porcelain', '--untracked-files=all')
}

/** Writes an executable script into `dir` and returns its path. */
export function script(dir: string, name: string, body: string): string {
  const path = join(dir, name)
  writeFileSync(path, body)
  chmodSync(path, 0o755)
  return path
}

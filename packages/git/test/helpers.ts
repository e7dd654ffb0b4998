import { mkdirSync } from 'node:fs'
import { git, tempDir, write } from '../src/testing.ts'

export { cleanup, git, tempDir, write } from '../src/testing.ts'

/** A new repository on `main` in a fresh temp dir (or `dir`). */
export function initRepo(dir: string = tempDir()): string {
  mkdirSync(dir, { recursive: true })
  git(dir, 'init', '-q')
  return dir
}

/** Writes files, stages everything and commits; returns the new commit's sha. */
export function commit(root: string, message: string, files: Record<string, string> = {}): string {
  write(root, files)
  git(root, 'add', '-A')
  git(root, 'commit', '-q', '--allow-empty', '-m', message)
  return git(root, 'rev-parse', 'HEAD')
}

/** `n` numbered lines, `line 1` … `line n`, newline-terminated. */
export function lines(n: number, edit: Record<number, string> = {}): string {
  const text = Array.from({ length: n }, (_, i) => edit[i + 1] ?? `line ${i + 1}`)
  return `${text.join('\n')}\n`
}

import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'

// The library's own git calls inherit process.env: keep the machine's git config out of them as well.
process.env.GIT_CONFIG_GLOBAL = '/dev/null'
process.env.GIT_CONFIG_NOSYSTEM = '1'
for (const name of ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_COMMON_DIR']) delete process.env[name]

/** Runs git with a fixed identity and default branch; returns trimmed stdout. */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync(
    'git',
    [
      '-c',
      'user.name=t',
      '-c',
      'user.email=t@t',
      '-c',
      'init.defaultBranch=main',
      '-c',
      'protocol.file.allow=always',
      ...args,
    ],
    { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  ).trim()
}

const created: string[] = []

/** A fresh directory under the OS temp dir, symlinks resolved, removed by `cleanup()`. */
export function tempDir(prefix = 'dstack-git-'): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), prefix)))
  created.push(dir)
  return dir
}

export function cleanup(): void {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true })
}

/** A new repository on `main` in a fresh temp dir (or `dir`). */
export function initRepo(dir: string = tempDir()): string {
  mkdirSync(dir, { recursive: true })
  git(dir, 'init', '-q')
  return dir
}

/** Writes files (creating directories) relative to `root`. */
export function write(root: string, files: Record<string, string>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true })
    writeFileSync(join(root, path), content)
  }
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

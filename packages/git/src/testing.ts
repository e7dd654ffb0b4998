// Real git repositories for tests, in any package: a fixed identity and default branch, the machine's own git
// configuration kept out, temp directories cleaned up. Importing this module isolates git for the whole process.
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { GIT_REPO_ENV } from './exec.ts'

// The code under test inherits process.env: keep the machine's git config (identity, hooks, signing) out of it too.
process.env.GIT_CONFIG_GLOBAL = '/dev/null'
process.env.GIT_CONFIG_NOSYSTEM = '1'
for (const name of GIT_REPO_ENV) delete process.env[name]

/**
 * Runs git in `cwd` with a fixed identity, `main` as the default branch and local file remotes allowed, with `env`
 * added (dates, say); returns trimmed stdout and throws on failure.
 *
 * @example
 * gitWith({ GIT_COMMITTER_DATE: '@0 +0000' }, root, 'commit', '-q', '-m', 'old')
 */
export function gitWith(env: Record<string, string>, cwd: string, ...args: string[]): string {
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
    { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } },
  ).trim()
}

/**
 * `gitWith` with no extra environment.
 *
 * @example
 * git(root, 'rev-parse', 'HEAD') // '3f2a…'
 */
export function git(cwd: string, ...args: string[]): string {
  return gitWith({}, cwd, ...args)
}

const created: string[] = []

/**
 * A fresh directory under the OS temp dir, symlinks resolved, removed by `cleanup()`.
 *
 * @example
 * const dir = tempDir('dstack-x-')
 */
export function tempDir(prefix = 'dstack-test-'): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), prefix)))
  created.push(dir)
  return dir
}

/** Removes every directory `tempDir` made. */
export function cleanup(): void {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true })
}

/**
 * Writes files (creating directories) relative to `root`.
 *
 * @example
 * write(root, { 'src/a.ts': 'export {}\n' })
 */
export function write(root: string, files: Record<string, string>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true })
    writeFileSync(join(root, path), content)
  }
}

import { existsSync } from 'node:fs'

export interface RunGitOptions {
  /** Kill git after this long; default 30 s. */
  timeoutMs?: number
  /** Exit codes that count as an answer rather than a failure (e.g. 1 for `rev-parse --verify -q`); default [0]. */
  okExitCodes?: readonly number[]
}

export interface GitResult {
  stdout: string
  exitCode: number
}

/** A git command that could not run, timed out or exited with an unexpected code. */
export class GitError extends Error {
  /** The full command line: `['git', ...args]`. */
  readonly command: readonly string[]
  readonly cwd: string
  /** Exit code; null when git did not start or was killed. */
  readonly exitCode: number | null
  readonly stderr: string

  constructor(
    message: string,
    command: readonly string[],
    cwd: string,
    exitCode: number | null,
    stderr: string,
  ) {
    super(message)
    this.name = 'GitError'
    this.command = command
    this.cwd = cwd
    this.exitCode = exitCode
    this.stderr = stderr
  }
}

const DEFAULT_TIMEOUT_MS = 30_000
// A 100k-line diff of long lines is tens of megabytes; the default 1 MB would fail it.
const MAX_BUFFER = 512 * 1024 * 1024
// Set by git when it runs hooks; they would point our commands at a different repository than `cwd`.
export const GIT_REPO_ENV: readonly string[] = [
  'GIT_DIR',
  'GIT_WORK_TREE',
  'GIT_INDEX_FILE',
  'GIT_COMMON_DIR',
  'GIT_PREFIX',
  'GIT_OBJECT_DIRECTORY',
  'GIT_ALTERNATE_OBJECT_DIRECTORIES',
  'GIT_NAMESPACE',
]

/**
 * A copy of `env` without the variables git sets when it runs hooks (GIT_DIR, GIT_WORK_TREE, GIT_INDEX_FILE, …), so
 * a process started from a hook runs its git commands against its own working directory.
 *
 * @example
 * spawn('cargo', ['test'], { cwd: worktree, env: withoutRepoEnv(process.env) })
 */
export function withoutRepoEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const copy = { ...env }
  for (const name of GIT_REPO_ENV) delete copy[name]
  return copy
}

function gitEnv(): NodeJS.ProcessEnv {
  return { ...withoutRepoEnv(process.env), LC_ALL: 'C', GIT_OPTIONAL_LOCKS: '0', GIT_TERMINAL_PROMPT: '0' }
}

/**
 * Runs `git <args>` in `cwd` and returns its stdout. The C locale keeps messages parseable, and optional locks are
 * off so reading never contends with the user's own git commands. Rejects with a `GitError` on a failure to start,
 * a timeout, or an exit code outside `okExitCodes`.
 *
 * @example
 * const { stdout } = await runGit('/home/me/app', ['rev-parse', 'HEAD']) // '3f2a…\n'
 */
export function runGit(
  cwd: string,
  args: readonly string[],
  options: RunGitOptions = {},
): Promise<GitResult> {
  const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const ok = options.okExitCodes ?? [0]
  const command = ['git', ...args]
  const shown = command.join(' ')
  return new Promise((resolve, reject) => {
    // Loaded on first use: hooks import this package for its file-reading half and never run git on most events.
    const { execFile } = process.getBuiltinModule('node:child_process')
    execFile(
      'git',
      args,
      { cwd, env: gitEnv(), timeout, maxBuffer: MAX_BUFFER, encoding: 'utf8', windowsHide: true },
      (error, stdout, stderr) => {
        if (!error) return resolve({ stdout, exitCode: 0 })
        const code = (error as NodeJS.ErrnoException & { code?: unknown }).code
        if (typeof code === 'number') {
          if (ok.includes(code)) return resolve({ stdout, exitCode: code })
          const detail = stderr.trim() || `exit code ${code}`
          const reason = /not a git repository/i.test(stderr) ? `${cwd} is not inside a git repository: ` : ''
          return reject(
            new GitError(`${shown} failed in ${cwd}: ${reason}${detail}`, command, cwd, code, stderr),
          )
        }
        let message: string
        if (code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER')
          message = `${shown} printed more than ${MAX_BUFFER} bytes`
        else if (error.killed && error.signal) message = `${shown} timed out after ${timeout} ms in ${cwd}`
        else if (code === 'ENOENT' && !existsSync(cwd)) message = `${shown} cannot run: ${cwd} does not exist`
        else if (code === 'ENOENT') message = `${shown} cannot run: git is not installed or not on PATH`
        else message = `${shown} failed in ${cwd}: ${error.message}`
        reject(new GitError(message, command, cwd, null, stderr))
      },
    )
  })
}

import { readFileSync, realpathSync, type Stats, statSync } from 'node:fs'
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path'
import { parseGitConfig } from './config.ts'
import { canonicalRemote } from './remote.ts'

/** Where a working tree and its git data live; all paths absolute. */
export interface RepoLocation {
  /** The working tree root: the directory holding `.git`. */
  root: string
  /** This working tree's git dir: `<root>/.git`, or where a `.git` file points (worktree, submodule). */
  gitDir: string
  /** The git dir shared by all worktrees (holds config, refs, objects); equals gitDir outside linked worktrees. */
  commonDir: string
}

/** What a repository is and where it stands, read straight from `.git`. */
export interface RepoIdentity {
  root: string
  /** `host/org/repo` from the origin (else first) remote, or `local:<root>` when there is no remote. */
  canonical: string
  /** The remote URL the canonical name came from, as configured. */
  remoteUrl: string | null
  /** The checked-out branch; null when HEAD is detached. */
  branch: string | null
  /** The commit HEAD points at; null in an empty repository or when the ref cannot be read from files. */
  head: string | null
  /** The remote's default branch from `refs/remotes/<remote>/HEAD`, else `main` or `master` if fetched, else `main`. */
  defaultBranch: string
}

const SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/

function stat(path: string): Stats | undefined {
  try {
    return statSync(path, { throwIfNoEntry: false })
  } catch {
    // ENOTDIR, EACCES, ELOOP: not usable, same as absent.
    return undefined
  }
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return null
  }
}

function isGitDir(dir: string): boolean {
  return stat(join(dir, 'HEAD'))?.isFile() === true
}

function locate(root: string, gitDir: string): RepoLocation {
  const commondir = readText(join(gitDir, 'commondir'))?.trim()
  return { root, gitDir, commonDir: commondir ? resolve(gitDir, commondir) : gitDir }
}

/**
 * Finds the working tree that contains `path` by walking up from it, reading only the file system. The path need
 * not exist yet (a file about to be created): the walk starts at its nearest existing ancestor. Understands `.git`
 * directories and `.git` files (`gitdir: <path>`, as worktrees and submodules use). A `.git` file that points
 * nowhere yields null, as git itself refuses such a tree.
 *
 * @example
 * findRepo('/home/me/app/src/new-file.ts')
 * // { root: '/home/me/app', gitDir: '/home/me/app/.git', commonDir: '/home/me/app/.git' }
 */
export function findRepo(path: string): RepoLocation | null {
  let dir = resolve(path)
  for (;;) {
    const st = stat(dir)
    if (st) {
      if (!st.isDirectory()) dir = dirname(dir)
      break
    }
    const parent = dirname(dir)
    if (parent === dir) return null
    dir = parent
  }
  for (;;) {
    const dotGit = join(dir, '.git')
    const st = stat(dotGit)
    if (st?.isDirectory()) {
      if (isGitDir(dotGit)) return locate(dir, dotGit)
    } else if (st?.isFile()) {
      const match = /^gitdir:\s*(.+?)\s*$/m.exec(readText(dotGit) ?? '')
      if (!match) return null
      const gitDir = resolve(dir, match[1]!)
      return isGitDir(gitDir) ? locate(dir, gitDir) : null
    }
    const parent = dirname(dir)
    if (parent === dir) return null
    dir = parent
  }
}

/** The sha a ref names, from its loose file or packed-refs; follows symbolic refs a few levels deep. */
function resolveRef(location: RepoLocation, ref: string, depth = 0): string | null {
  if (!ref.startsWith('refs/') || ref.includes('..') || depth > 5) return null
  for (const dir of new Set([location.gitDir, location.commonDir])) {
    const loose = readText(join(dir, ref))?.trim()
    if (loose === undefined) continue
    if (loose.startsWith('ref:')) return resolveRef(location, loose.slice(4).trim(), depth + 1)
    if (SHA.test(loose)) return loose
  }
  return packedRef(location.commonDir, ref)
}

function packedRef(commonDir: string, ref: string): string | null {
  const packed = readText(join(commonDir, 'packed-refs'))
  if (packed === null) return null
  // packed-refs can be megabytes in big repositories: search for the line instead of splitting the file.
  const needle = ` ${ref}`
  for (let at = packed.indexOf(needle); at !== -1; at = packed.indexOf(needle, at + 1)) {
    const after = packed[at + needle.length]
    if (after !== undefined && after !== '\n' && after !== '\r') continue
    const sha = packed.slice(packed.lastIndexOf('\n', at - 1) + 1, at)
    if (SHA.test(sha)) return sha
  }
  return null
}

function remoteDefaultBranch(location: RepoLocation, remote: string): string {
  const prefix = `refs/remotes/${remote}/`
  const head = readText(join(location.commonDir, prefix, 'HEAD'))?.trim()
  if (head?.startsWith('ref:')) {
    const target = head.slice(4).trim()
    if (target.startsWith(prefix) && target.length > prefix.length) return target.slice(prefix.length)
  }
  // `git remote add` + fetch never creates <remote>/HEAD; the usual names are the best guess then.
  if (resolveRef(location, `${prefix}main`) === null && resolveRef(location, `${prefix}master`) !== null) {
    return 'master'
  }
  return 'main'
}

/**
 * Reads what a repository is and where it stands without running git: canonical remote name, current branch, HEAD
 * commit and the remote's default branch. Cheap enough to call from a hook on every edit. Null outside a repository.
 *
 * @example
 * readRepoIdentity('/home/me/app/src/index.ts')
 * // { root: '/home/me/app', canonical: 'github.com/acme/app', remoteUrl: 'git@github.com:acme/app.git',
 * //   branch: 'feature/x', head: '3f2a…', defaultBranch: 'main' }
 */
export function readRepoIdentity(path: string): RepoIdentity | null {
  const location = findRepo(path)
  if (location === null) return null
  const { root } = location

  const urls = new Map<string, string>()
  for (const entry of parseGitConfig(readText(join(location.commonDir, 'config')) ?? '')) {
    const name = entry.subsection
    if (entry.section === 'remote' && entry.key === 'url' && name !== null && entry.value !== null) {
      // The first url of a remote is the one git fetches from.
      if (!urls.has(name)) urls.set(name, entry.value)
    }
  }
  const remote = urls.has('origin') ? 'origin' : (urls.keys().next().value ?? null)
  const remoteUrl = remote === null ? null : urls.get(remote)!

  let branch: string | null = null
  let head: string | null = null
  const headText = readText(join(location.gitDir, 'HEAD'))?.trim() ?? ''
  if (headText.startsWith('ref:')) {
    const ref = headText.slice(4).trim()
    // reftable repositories keep this placeholder in HEAD; the real refs are not plain files.
    if (ref !== 'refs/heads/.invalid') {
      branch = ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : ref
      head = resolveRef(location, ref)
    }
  } else if (SHA.test(headText)) {
    head = headText
  }

  return {
    root,
    canonical: remoteUrl === null ? `local:${root}` : canonicalRemote(remoteUrl, root),
    remoteUrl,
    branch,
    head,
    defaultBranch: remote === null ? 'main' : remoteDefaultBranch(location, remote),
  }
}

function inside(root: string, target: string): string | null {
  const rel = relative(root, target)
  if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return null
  return sep === '/' ? rel : rel.split(sep).join('/')
}

/**
 * The POSIX-style path of `path` relative to the working tree root, or null when it lies outside (`..` is resolved
 * first). A relative `path` is taken relative to `root`. If the plain comparison fails, the root's symlinks are
 * resolved once and the comparison retried, so `/tmp/x` and `/private/tmp/x` (macOS) match. The root itself is `''`.
 *
 * @example
 * repoRelativePath('/home/me/app', '/home/me/app/src/../lib/a.ts') // 'lib/a.ts'
 * repoRelativePath('/home/me/app', '/home/me/other/a.ts') // null
 */
export function repoRelativePath(root: string, path: string): string | null {
  const base = resolve(root)
  const target = resolve(base, path)
  const rel = inside(base, target)
  if (rel !== null) return rel
  let real: string
  try {
    real = realpathSync.native(base)
  } catch {
    return null
  }
  return real === base ? null : inside(real, target)
}

import { type ChangedFile, parseUnifiedDiff } from './diff.ts'
import { GitError, runGit } from './exec.ts'

export interface HeadState {
  /** The commit HEAD points at; null in a repository with no commits yet. */
  sha: string | null
  /** The checked-out branch (also an unborn one); null when HEAD is detached. */
  branch: string | null
}

export interface OutgoingOptions {
  /** Compare against this commit-ish instead of working one out. Must resolve, or the call fails. */
  base?: string
  /** The remote pushed to; default `origin`. */
  remote?: string
  /** Per git command; default 30 s. */
  timeoutMs?: number
}

export interface OutgoingCommit {
  sha: string
  subject: string
}

export interface OutgoingChanges {
  /** What the changes were measured against, for people: `origin/main`, an explicit base, or the empty tree. */
  base: string
  /** The merge-base of that base and HEAD; null when comparing against the empty tree. */
  mergeBase: string | null
  /** Commits a push would send, newest first. */
  commits: OutgoingCommit[]
  /** Files changed between mergeBase (or the empty tree) and HEAD, with line ranges. */
  files: ChangedFile[]
}

/** Hash of the empty tree, SHA-1 and SHA-256 object formats. */
const EMPTY_TREE_SHA1 = '4b825dc642cb6eb9a060e54bf8d69288fbee4904'
const EMPTY_TREE_SHA256 = '6ef19b41225c5369f1c104d45d8d85efa9b057b53b14b4b9b939dd74decc5321'

/**
 * The commit and branch HEAD points at. Works in a repository with no commits (sha null, branch set) and on a
 * detached HEAD (branch null).
 *
 * @example
 * await currentHead('/home/me/app') // { sha: '3f2a…', branch: 'main' }
 */
export async function currentHead(root: string, options: { timeoutMs?: number } = {}): Promise<HeadState> {
  const opts = { timeoutMs: options.timeoutMs, okExitCodes: [0, 1] }
  const [sha, ref] = await Promise.all([
    runGit(root, ['rev-parse', '--verify', '-q', 'HEAD'], opts),
    runGit(root, ['symbolic-ref', '-q', 'HEAD'], opts),
  ])
  const name = ref.stdout.trim()
  return {
    sha: sha.stdout.trim() || null,
    branch: name === '' ? null : name.startsWith('refs/heads/') ? name.slice('refs/heads/'.length) : name,
  }
}

interface Base {
  label: string
  sha: string
  /** Came from the remote: commits on any of its branches are already there and are not sent again. */
  fromRemote: boolean
}

async function resolveCommit(root: string, rev: string, timeoutMs?: number): Promise<string | null> {
  const { stdout } = await runGit(root, ['rev-parse', '--verify', '-q', `${rev}^{commit}`], {
    timeoutMs,
    okExitCodes: [0, 1],
  })
  return stdout.trim() || null
}

function shortRef(ref: string): string {
  return ref.replace(/^refs\/(?:remotes|heads)\//, '')
}

async function findBase(root: string, branch: string | null, options: OutgoingOptions): Promise<Base | null> {
  const { timeoutMs } = options
  if (options.base !== undefined) {
    const sha = options.base.startsWith('-') ? null : await resolveCommit(root, options.base, timeoutMs)
    if (sha === null) {
      const command = ['git', 'rev-parse', '--verify', options.base]
      throw new GitError(
        `base ${JSON.stringify(options.base)} is not a commit in ${root}`,
        command,
        root,
        1,
        '',
      )
    }
    return { label: options.base, sha, fromRemote: false }
  }

  const remote = options.remote ?? 'origin'
  const prefix = `refs/remotes/${remote}/`
  // One call lists the branch's upstream and every ref of the remote (with <remote>/HEAD's target).
  const patterns = branch === null ? [prefix.slice(0, -1)] : [`refs/heads/${branch}`, prefix.slice(0, -1)]
  const { stdout } = await runGit(
    root,
    ['for-each-ref', '--format=%(refname)%00%(objectname)%00%(symref)%00%(upstream)', ...patterns],
    { timeoutMs },
  )
  const refs = new Map<string, { sha: string; symref: string; upstream: string }>()
  for (const line of stdout.split('\n')) {
    const [name, sha, symref, upstream] = line.split('\0')
    if (name && sha) refs.set(name, { sha, symref: symref ?? '', upstream: upstream ?? '' })
  }

  if (branch !== null) {
    const upstream = refs.get(`refs/heads/${branch}`)?.upstream ?? ''
    // With an explicit remote, an upstream elsewhere says nothing about what that remote has.
    if (upstream !== '' && (options.remote === undefined || upstream.startsWith(prefix))) {
      const sha = refs.get(upstream)?.sha ?? (await resolveCommit(root, upstream, timeoutMs))
      if (sha) return { label: shortRef(upstream), sha, fromRemote: true }
    }
  }
  const defaultRef = refs.get(`${prefix}HEAD`)?.symref ?? ''
  const candidates = [
    branch === null ? '' : `${prefix}${branch}`,
    defaultRef.startsWith(prefix) ? defaultRef : '',
    `${prefix}main`,
    `${prefix}master`,
  ]
  for (const ref of candidates) {
    const sha = ref === '' ? undefined : refs.get(ref)?.sha
    if (sha) return { label: shortRef(ref), sha, fromRemote: true }
  }
  return null
}

/**
 * What `git push` of the current branch would send: the outgoing commits and the changed files with their line
 * ranges. The base is the first of: `options.base`; the branch's upstream; `<remote>/<branch>`; the remote's
 * default branch (`<remote>/HEAD`, else `main`, else `master`); else the empty tree (nothing pushed yet, so all of
 * HEAD). Changes are measured from the merge-base of that base and HEAD, so commits already upstream never count;
 * with a remote base, commits reachable from any of the remote's branches are left out of `commits` too.
 *
 * @example
 * const out = await outgoingChanges('/home/me/app')
 * // { base: 'origin/feature', mergeBase: '9c1e…', commits: [{ sha: '3f2a…', subject: 'Fix parser' }],
 * //   files: [{ path: 'src/parse.ts', oldPath: null, status: 'modified', added: [[12, 14]], removed: [[12, 12]],
 * //             binary: false }] }
 */
export async function outgoingChanges(root: string, options: OutgoingOptions = {}): Promise<OutgoingChanges> {
  const { timeoutMs } = options
  const head = await currentHead(root, { timeoutMs })
  if (head.sha === null) return { base: 'nothing (no commits yet)', mergeBase: null, commits: [], files: [] }

  const base = await findBase(root, head.branch, options)
  let mergeBase: string | null = null
  if (base !== null) {
    const result = await runGit(root, ['merge-base', base.sha, head.sha], { timeoutMs, okExitCodes: [0, 1] })
    // Exit 1: unrelated histories; then everything in HEAD is new to the base.
    mergeBase = result.stdout.trim() || null
  }
  const emptyTree = head.sha.length === 64 ? EMPTY_TREE_SHA256 : EMPTY_TREE_SHA1

  const exclude = mergeBase === null ? [] : ['--not', mergeBase]
  if (mergeBase !== null && base?.fromRemote) exclude.push(`--remotes=${options.remote ?? 'origin'}`)
  const [log, diff] = await Promise.all([
    runGit(
      root,
      ['log', '--no-color', '--no-show-signature', '--format=%H%x00%s', head.sha, ...exclude, '--'],
      {
        timeoutMs,
      },
    ),
    runGit(
      root,
      [
        'diff',
        '-U0',
        '--no-color',
        '--no-ext-diff',
        '--no-textconv',
        '-M',
        // Pin what user config could change about the output format.
        '--inter-hunk-context=0',
        '--src-prefix=a/',
        '--dst-prefix=b/',
        '--no-relative',
        '--submodule=short',
        mergeBase ?? emptyTree,
        head.sha,
        '--',
      ],
      { timeoutMs },
    ),
  ])
  const commits: OutgoingCommit[] = []
  for (const line of log.stdout.split('\n')) {
    const at = line.indexOf('\0')
    if (at !== -1) commits.push({ sha: line.slice(0, at), subject: line.slice(at + 1) })
  }
  const label =
    base === null
      ? 'empty tree (no remote branch to compare with)'
      : mergeBase === null
        ? `empty tree (${base.label} shares no history with HEAD)`
        : base.label
  return { base: label, mergeBase, commits, files: parseUnifiedDiff(diff.stdout) }
}

/**
 * Files with uncommitted changes (staged, unstaged or untracked, not ignored), repo-relative, sorted, each once. A
 * rename counts as its new path.
 *
 * @example
 * await uncommittedFiles('/home/me/app') // ['README.md', 'src/new.ts']
 */
export async function uncommittedFiles(
  root: string,
  options: { timeoutMs?: number } = {},
): Promise<string[]> {
  const { stdout } = await runGit(root, ['status', '--porcelain=v1', '-z', '--untracked-files=all'], options)
  const paths = new Set<string>()
  const fields = stdout.split('\0')
  for (let i = 0; i < fields.length; i++) {
    const entry = fields[i]!
    if (entry.length < 4) continue
    paths.add(entry.slice(3))
    // A rename or copy is `XY new\0old\0`: skip the old path.
    if (/[RC]/.test(entry.slice(0, 2))) i++
  }
  return [...paths].sort()
}

/**
 * The files of the commits a push would send, as `outgoingChanges` finds them — except that with nothing to compare
 * with (no upstream, no remote branch, no `base`: the empty tree) there are none, rather than every file of the
 * repository: "what have I not pushed" is then answered by the commits, not by the whole tree.
 *
 * @example
 * await unpushedFiles('/home/me/app') // [{ path: 'src/api.ts', status: 'modified', … }]
 */
export async function unpushedFiles(root: string, options: OutgoingOptions = {}): Promise<ChangedFile[]> {
  const outgoing = await outgoingChanges(root, options)
  return outgoing.mergeBase === null && options.base === undefined ? [] : outgoing.files
}

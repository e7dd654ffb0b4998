// Where every repository of the fleet stands in git: branch, upstream, ahead/behind, dirtiness, stashes, stale and
// unpushed branches. Built on @dstack/git's runGit; about two git processes per repository.

import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { findRepo, GitError, runGit } from '@dstack/git'
import { z } from 'zod'
import { callback, DAY_MS, parseOptions } from './options.ts'
import { mapPool } from './pool.ts'
import type { Repo } from './types.ts'

/** One local branch. */
export interface BranchState {
  name: string
  /** The commit the branch points at. */
  head: string
  /** Checked out in this working tree. */
  current: boolean
  /** Its upstream as git shows it (`origin/main`); null when none is configured. */
  upstream: string | null
  /** Commits on the branch not on its upstream; null without a live upstream. */
  ahead: number | null
  /** Commits on the upstream not on the branch; null without a live upstream. */
  behind: number | null
  /**
   * Commits a push would still have to send: `ahead` when the upstream is live, else commits not reachable from any
   * remote-tracking ref.
   */
  unpushed: number
  /** Committer date of its last commit, ISO 8601. */
  lastCommitAt: string
  /** The last commit is older than `staleDays`. */
  stale: boolean
  /** An upstream is configured but its remote branch no longer exists. */
  gone: boolean
}

/** Where one repository stands. When `error` is set the other fields are empty (null, 0, false, []). */
export interface RepoState {
  /** Repo.id. */
  repo: string
  root: string
  /** The checked-out branch (also an unborn one in an empty repository); null when HEAD is detached. */
  branch: string | null
  detached: boolean
  /** The commit HEAD points at; null in a repository with no commits. */
  head: string | null
  /** The current branch's upstream (`origin/main`); null when none is configured. */
  upstream: string | null
  /** The upstream is configured but its remote branch was deleted. */
  upstreamGone: boolean
  /** Against the upstream; null when there is no live upstream. */
  ahead: number | null
  behind: number | null
  /** Any staged, unstaged, untracked or conflicted file. */
  dirty: boolean
  /** Files with staged changes. */
  staged: number
  /** Tracked files with changes not staged. */
  unstaged: number
  /** Untracked files (not ignored), each file of an untracked directory counted. */
  untracked: number
  /** Unmerged files of a merge, rebase or cherry-pick in progress. */
  conflicted: number
  stashes: number
  /** Committer date of HEAD, ISO 8601; null with no commits. */
  lastCommitAt: string | null
  /** Local branches by name. */
  branches: BranchState[]
  /** Local branches other than the current one whose last commit is older than `staleDays`. */
  staleBranches: string[]
  /**
   * Commits of HEAD a push would still have to send: on a branch with a live upstream, those not on it (`ahead`);
   * otherwise those not reachable from any remote-tracking ref.
   */
  unpushed: number
  /** Set when `fetch` was asked for and failed; the rest is then the state as of the last successful fetch. */
  fetchError: string | null
  /** Why this repository could not be read (gone, not a repository any more, git failed or timed out). */
  error: string | null
}

export interface RepoStatesOptions {
  /** Repositories read at once; default 8. */
  concurrency?: number
  /** A branch whose last commit is older than this is stale; default 30. */
  staleDays?: number
  /** The present, for staleness; default the current time. */
  now?: Date
  /** Run `git fetch --quiet` in each repository first; default false. */
  fetch?: boolean
  /** Per git command; default 30 s for reading and 120 s for fetching. */
  timeoutMs?: number
  /** Called as each repository finishes, in completion order. */
  onProgress?: (done: number, total: number, state: RepoState) => void
}

const FETCH_TIMEOUT_MS = 120_000

const statesOptionsSchema = z.object({
  concurrency: z.int().min(1).max(256).default(8),
  staleDays: z.number().min(0).default(30),
  now: z.date().optional(),
  fetch: z.boolean().default(false),
  timeoutMs: z.int().positive().optional(),
  onProgress: callback<RepoStatesOptions['onProgress']>().optional(),
})

/**
 * Why `root` cannot be read as the working tree it was when discovered, or null when it still is one. Reads only
 * the file system; checked first so git never walks up into an enclosing repository.
 *
 * @example
 * unusableRoot('/home/me/deleted') // '/home/me/deleted no longer exists'
 */
export function unusableRoot(root: string): string | null {
  if (!existsSync(root)) return `${root} no longer exists`
  if (findRepo(root)?.root !== resolve(root)) return `${root} is no longer a git repository`
  return null
}

/**
 * A failure as one line for a report: git's own words when it said something, else the GitError's message.
 *
 * @example
 * failureMessage(error) // "fatal: '/srv/gone.git' does not appear to be a git repository; …"
 */
export function failureMessage(error: unknown): string {
  if (error instanceof GitError) {
    const said = error.stderr
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '')
      .join('; ')
    return error.exitCode !== null && said !== '' ? said : error.message
  }
  return error instanceof Error ? error.message : String(error)
}

/** What `git status --porcelain=v2 --branch --show-stash` says. */
export interface StatusSummary {
  head: string | null
  /** Null when detached. */
  branch: string | null
  upstream: string | null
  /** Null when there is no upstream or it is gone. */
  ahead: number | null
  behind: number | null
  staged: number
  unstaged: number
  untracked: number
  conflicted: number
  stashes: number
  /** Distinct paths with any change: what "N changed files" counts. */
  changed: number
}

/**
 * Parses `git status --porcelain=v2 --branch --show-stash -z` output.
 *
 * @example
 * parseStatus('# branch.oid 3f2a…\0# branch.head main\0? notes.txt\0').untracked // 1
 */
export function parseStatus(stdout: string): StatusSummary {
  const summary: StatusSummary = {
    head: null,
    branch: null,
    upstream: null,
    ahead: null,
    behind: null,
    staged: 0,
    unstaged: 0,
    untracked: 0,
    conflicted: 0,
    stashes: 0,
    changed: 0,
  }
  const fields = stdout.split('\0')
  for (let i = 0; i < fields.length; i++) {
    const entry = fields[i]!
    if (entry.startsWith('# ')) {
      const [key = '', ...rest] = entry.slice(2).split(' ')
      const value = rest.join(' ')
      if (key === 'branch.oid') summary.head = value === '(initial)' ? null : value
      else if (key === 'branch.head') summary.branch = value === '(detached)' ? null : value
      else if (key === 'branch.upstream') summary.upstream = value
      else if (key === 'branch.ab') {
        const match = /^\+(\d+) -(\d+)$/.exec(value)
        if (match) [summary.ahead, summary.behind] = [Number(match[1]), Number(match[2])]
      } else if (key === 'stash') summary.stashes = Number(value)
      continue
    }
    const kind = entry[0]
    if (kind === '1' || kind === '2') {
      if (entry[2] !== '.') summary.staged++
      if (entry[3] !== '.') summary.unstaged++
      summary.changed++
      // A rename or copy is followed by its original path as a field of its own.
      if (kind === '2') i++
    } else if (kind === 'u') {
      summary.conflicted++
      summary.changed++
    } else if (kind === '?') {
      summary.untracked++
      summary.changed++
    }
  }
  return summary
}

/**
 * Runs and parses `git status` for one repository: branch, upstream, ahead/behind, change counts and stashes in
 * one process. Every untracked file counts, as in @dstack/git `uncommittedFiles`.
 *
 * @example
 * const status = await readStatus('/home/me/app') // { branch: 'main', ahead: 0, behind: 2, staged: 1, … }
 */
export async function readStatus(root: string, options: { timeoutMs?: number } = {}): Promise<StatusSummary> {
  const { stdout } = await runGit(
    root,
    ['status', '--porcelain=v2', '--branch', '--show-stash', '-z', '--untracked-files=all'],
    { timeoutMs: options.timeoutMs },
  )
  return parseStatus(stdout)
}

interface RefLine {
  name: string
  head: string
  committedAt: number
  upstream: string | null
  track: string
  current: boolean
}

const REF_FORMAT = [
  '%(refname)',
  '%(objectname)',
  '%(committerdate:unix)',
  '%(upstream:short)',
  '%(upstream:track,nobracket)',
  '%(HEAD)',
].join('%00')

function parseRefs(stdout: string): RefLine[] {
  const refs: RefLine[] = []
  for (const line of stdout.split('\n')) {
    const [ref, head, date, upstream, track, current] = line.split('\0')
    // refname:short would disambiguate a branch named like a tag as `heads/x`: strip the prefix ourselves.
    if (!ref?.startsWith('refs/heads/') || !head) continue
    refs.push({
      name: ref.slice('refs/heads/'.length),
      head,
      committedAt: Number(date) * 1000,
      upstream: upstream || null,
      track: track ?? '',
      current: current === '*',
    })
  }
  return refs
}

/** `ahead 1, behind 2` / `ahead 1` / `behind 2` / `gone` / `` (in sync, or no upstream). */
function parseTrack(ref: RefLine): { ahead: number | null; behind: number | null; gone: boolean } {
  if (ref.upstream === null) return { ahead: null, behind: null, gone: false }
  if (ref.track === 'gone') return { ahead: null, behind: null, gone: true }
  const ahead = /ahead (\d+)/.exec(ref.track)
  const behind = /behind (\d+)/.exec(ref.track)
  return { ahead: ahead ? Number(ahead[1]) : 0, behind: behind ? Number(behind[1]) : 0, gone: false }
}

/**
 * Counts, for each tip, the commits reachable from it that no remote-tracking ref reaches, with one `git rev-list`.
 * Every commit between such a commit and the tip is unreachable from the remotes too, so a walk through the
 * listed commits alone finds them all.
 */
async function unpushedCounts(
  root: string,
  tips: readonly string[],
  timeoutMs: number | undefined,
): Promise<Map<string, number>> {
  const counts = new Map<string, number>()
  if (tips.length === 0) return counts
  const { stdout } = await runGit(root, ['rev-list', '--parents', ...new Set(tips), '--not', '--remotes'], {
    timeoutMs,
  })
  const parents = new Map<string, string[]>()
  for (const line of stdout.split('\n')) {
    const [sha, ...rest] = line.trim().split(' ')
    if (sha) parents.set(sha, rest)
  }
  for (const tip of tips) {
    if (counts.has(tip)) continue
    const seen = new Set<string>()
    const stack = parents.has(tip) ? [tip] : []
    while (stack.length > 0) {
      const sha = stack.pop()!
      if (seen.has(sha)) continue
      seen.add(sha)
      for (const parent of parents.get(sha) ?? []) if (parents.has(parent)) stack.push(parent)
    }
    counts.set(tip, seen.size)
  }
  return counts
}

function emptyState(repo: Repo, error: string): RepoState {
  return {
    repo: repo.id,
    root: repo.root,
    branch: null,
    detached: false,
    head: null,
    upstream: null,
    upstreamGone: false,
    ahead: null,
    behind: null,
    dirty: false,
    staged: 0,
    unstaged: 0,
    untracked: 0,
    conflicted: 0,
    stashes: 0,
    lastCommitAt: null,
    branches: [],
    staleBranches: [],
    unpushed: 0,
    fetchError: null,
    error,
  }
}

interface StateSettings {
  staleBefore: number
  fetch: boolean
  timeoutMs: number | undefined
}

async function readState(repo: Repo, settings: StateSettings): Promise<RepoState> {
  const { root } = repo
  const unusable = unusableRoot(root)
  if (unusable !== null) return emptyState(repo, unusable)
  const { timeoutMs } = settings
  let fetchError: string | null = null
  try {
    if (settings.fetch) {
      try {
        await runGit(root, ['fetch', '--quiet'], { timeoutMs: timeoutMs ?? FETCH_TIMEOUT_MS })
      } catch (error) {
        fetchError = `git fetch failed: ${failureMessage(error)}`
      }
    }
    const [status, refs] = await Promise.all([
      readStatus(root, { timeoutMs }),
      runGit(root, ['for-each-ref', `--format=${REF_FORMAT}`, 'refs/heads'], { timeoutMs }).then((result) =>
        parseRefs(result.stdout),
      ),
    ])
    const detached = status.branch === null
    const tracks = refs.map(parseTrack)
    // Only tips without a live upstream need the extra rev-list; `ahead` answers for the others.
    const needCount = refs.filter((_, i) => tracks[i]!.ahead === null).map((ref) => ref.head)
    if (detached && status.head !== null) needCount.push(status.head)
    const [counts, detachedAt] = await Promise.all([
      unpushedCounts(root, needCount, timeoutMs),
      detached && status.head !== null
        ? runGit(root, ['log', '-1', '--format=%ct', status.head], { timeoutMs }).then(
            (r) => Number(r.stdout) * 1000,
          )
        : Promise.resolve(null),
    ])
    const branches = refs.map((ref, i): BranchState => {
      const track = tracks[i]!
      return {
        name: ref.name,
        head: ref.head,
        current: ref.current,
        upstream: ref.upstream,
        ahead: track.ahead,
        behind: track.behind,
        unpushed: track.ahead ?? counts.get(ref.head) ?? 0,
        lastCommitAt: new Date(ref.committedAt).toISOString(),
        stale: ref.committedAt < settings.staleBefore,
        gone: track.gone,
      }
    })
    const current = branches.find((branch) => branch.current)
    const lastCommitMs = detached ? detachedAt : (refs.find((ref) => ref.current)?.committedAt ?? null)
    const dirty = status.changed > 0
    return {
      repo: repo.id,
      root,
      branch: status.branch,
      detached,
      head: status.head,
      upstream: status.upstream,
      upstreamGone: current?.gone ?? false,
      ahead: status.ahead,
      behind: status.behind,
      dirty,
      staged: status.staged,
      unstaged: status.unstaged,
      untracked: status.untracked,
      conflicted: status.conflicted,
      stashes: status.stashes,
      lastCommitAt: lastCommitMs === null ? null : new Date(lastCommitMs).toISOString(),
      branches,
      staleBranches: branches
        .filter((branch) => branch.stale && !branch.current)
        .map((branch) => branch.name),
      unpushed: detached
        ? status.head === null
          ? 0
          : (counts.get(status.head) ?? 0)
        : (current?.unpushed ?? 0),
      fetchError,
      error: null,
    }
  } catch (error) {
    return { ...emptyState(repo, failureMessage(error)), fetchError }
  }
}

/**
 * Reads where each repository stands in git, a few repositories at a time, in input order. A repository that cannot
 * be read (deleted, no longer a repository, git failing or timing out) comes back with `error` set; the call itself
 * only rejects on invalid options.
 *
 * @example
 * const states = await repoStates(graph.repos, { staleDays: 14 })
 * for (const s of states) if (s.dirty || s.unpushed > 0) console.log(s.repo, s.branch, s.unpushed)
 */
export async function repoStates(repos: Repo[], options: RepoStatesOptions = {}): Promise<RepoState[]> {
  const opts = parseOptions(statesOptionsSchema, options, 'repoStates')
  const now = (opts.now ?? new Date()).getTime()
  const settings: StateSettings = {
    staleBefore: now - opts.staleDays * DAY_MS,
    fetch: opts.fetch,
    timeoutMs: opts.timeoutMs,
  }
  let done = 0
  return mapPool(repos, opts.concurrency, async (repo) => {
    const state = await readState(repo, settings)
    done++
    opts.onProgress?.(done, repos.length, state)
    return state
  })
}

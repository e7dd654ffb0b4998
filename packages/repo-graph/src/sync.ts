// `git pull --ff-only` across the fleet, made safe to run on everything at once: a repository is only ever fetched
// and fast-forwarded. Dirty trees, detached HEADs, branches without upstream and diverged branches are left as they
// are and reported; nothing is pushed, forced, rebased, merged with a merge commit, or checked out.

import { runGit } from '@dstack/git'
import { z } from 'zod'
import { failureMessage, readStatus, unusableRoot } from './git-state.ts'
import { callback, parseOptions, plural } from './options.ts'
import { mapPool } from './pool.ts'
import type { Repo } from './types.ts'

export type SyncAction = 'updated' | 'up-to-date' | 'skipped' | 'failed' | 'would-update'

/** What syncing one repository did. */
export interface SyncResult {
  /** Repo.id. */
  repo: string
  root: string
  action: SyncAction
  /** Why it was skipped or failed (git's own message for a failure), or a note such as `ahead 2, not pushed`. */
  reason: string | null
  /** HEAD before; null when unknown (no commits, unreadable). */
  before: string | null
  /** HEAD after: the new commit when updated, the commit it would move to on a dry run, else `before`. */
  after: string | null
  /** Commits fast-forwarded (or that would be, on a dry run). */
  pulled: number
  /** Against the upstream after fetching; as last known when the repository was skipped before fetching. */
  ahead: number | null
  behind: number | null
}

export interface SyncOptions {
  /**
   * Repositories synced at once; default 4. Most repositories of a fleet share one or two hosts, and sshd drops
   * connections beyond its MaxStartups (10 by default) while they authenticate, so mr-style tools keep this low.
   */
  concurrency?: number
  /** Fetch and report what would be fast-forwarded (`would-update`) without moving any branch or file. */
  dryRun?: boolean
  /** Fetch before comparing; default true. Off, only what was fetched before counts (nothing touches the network). */
  fetch?: boolean
  /** Per git command; default 120 s for fetch and merge, 30 s for reading. */
  timeoutMs?: number
  /** Called as each repository finishes, in completion order. */
  onProgress?: (done: number, total: number, result: SyncResult) => void
}

const NETWORK_TIMEOUT_MS = 120_000

const syncOptionsSchema = z.object({
  concurrency: z.int().min(1).max(64).default(4),
  dryRun: z.boolean().default(false),
  fetch: z.boolean().default(true),
  timeoutMs: z.int().positive().optional(),
  onProgress: callback<SyncOptions['onProgress']>().optional(),
})

type SyncSettings = Omit<z.output<typeof syncOptionsSchema>, 'concurrency' | 'onProgress'>

async function syncOne(repo: Repo, settings: SyncSettings): Promise<SyncResult> {
  const { root } = repo
  const result: SyncResult = {
    repo: repo.id,
    root,
    action: 'skipped',
    reason: null,
    before: null,
    after: null,
    pulled: 0,
    ahead: null,
    behind: null,
  }
  const fail = (reason: string): SyncResult => ({ ...result, action: 'failed', reason })
  const skip = (reason: string): SyncResult => ({ ...result, action: 'skipped', reason })
  const unusable = unusableRoot(root)
  if (unusable !== null) return fail(unusable)

  const readTimeout = settings.timeoutMs
  const networkTimeout = settings.timeoutMs ?? NETWORK_TIMEOUT_MS
  try {
    const status = await readStatus(root, { timeoutMs: readTimeout })
    Object.assign(result, {
      before: status.head,
      after: status.head,
      ahead: status.ahead,
      behind: status.behind,
    })
    if (status.changed > 0) return skip(`dirty: ${plural(status.changed, 'changed file')}`)
    if (status.head === null) return skip('no commits yet')
    if (status.branch === null) return skip('detached HEAD')
    if (status.upstream === null) return skip(`no upstream for ${status.branch}`)

    if (settings.fetch) {
      try {
        // Without arguments git fetches the remote of the current branch's upstream, as `git pull` would.
        await runGit(root, ['fetch', '--quiet'], { timeoutMs: networkTimeout })
      } catch (error) {
        return fail(failureMessage(error))
      }
    }
    const upstream = await runGit(root, ['rev-parse', '--verify', '-q', '@{upstream}^{commit}'], {
      timeoutMs: readTimeout,
      okExitCodes: [0, 1, 128],
    })
    const target = upstream.stdout.trim()
    if (target === '') {
      Object.assign(result, { ahead: null, behind: null })
      return skip(`upstream ${status.upstream} is gone`)
    }
    const counts = await runGit(root, ['rev-list', '--left-right', '--count', `${status.head}...${target}`], {
      timeoutMs: readTimeout,
    })
    const [ahead = 0, behind = 0] = counts.stdout.trim().split(/\s+/).map(Number)
    Object.assign(result, { ahead, behind })

    if (behind === 0) {
      return { ...result, action: 'up-to-date', reason: ahead > 0 ? `ahead ${ahead}, not pushed` : null }
    }
    if (ahead > 0) return skip(`diverged: ahead ${ahead}, behind ${behind}`)
    if (settings.dryRun) return { ...result, action: 'would-update', after: target, pulled: behind }
    // The exact commit counted above, so what is reported is what was merged; --ff-only refuses anything else.
    await runGit(root, ['merge', '--ff-only', '--quiet', '--no-stat', target], { timeoutMs: networkTimeout })
    return { ...result, action: 'updated', after: target, pulled: behind, behind: 0 }
  } catch (error) {
    return fail(failureMessage(error))
  }
}

/**
 * Fetches and fast-forwards each repository's current branch to its upstream, `git pull --ff-only` style, a few
 * repositories at a time; results in input order. Skips (untouched) dirty trees, detached HEADs, branches without
 * an upstream and diverged branches; never pushes, forces or switches branches. A repository whose fetch or merge
 * fails comes back `failed` with git's message while the others go on; the call only rejects on invalid options.
 *
 * @example
 * const results = await syncRepos(graph.repos, { onProgress: (done, total, r) => log(formatSyncLine(r)) })
 * results.filter((r) => r.action === 'failed') // [{ repo: 'infra', reason: "fatal: unable to access …", … }]
 */
export async function syncRepos(repos: Repo[], options: SyncOptions = {}): Promise<SyncResult[]> {
  const { concurrency, onProgress, ...settings } = parseOptions(syncOptionsSchema, options, 'syncRepos')
  let done = 0
  return mapPool(repos, concurrency, async (repo) => {
    const result = await syncOne(repo, settings)
    done++
    onProgress?.(done, repos.length, result)
    return result
  })
}

const short = (sha: string | null) => (sha === null ? '?' : sha.slice(0, 7))

/**
 * One human line for a sync result: the repository (padded to `width` to line up a table), what happened, and how
 * many commits or why not.
 *
 * @example
 * formatSyncLine(result) // 'ares  updated  3 commits (a1b2c3d → d4e5f6a)'
 * formatSyncLine(skipped, 8) // 'web       skipped  dirty: 2 changed files'
 */
export function formatSyncLine(result: SyncResult, width = 0): string {
  const head = `${result.repo.padEnd(width)}  ${result.action}`
  if (result.action === 'updated' || result.action === 'would-update') {
    return `${head}  ${plural(result.pulled, 'commit')} (${short(result.before)} → ${short(result.after)})`
  }
  return result.reason === null ? head : `${head}  ${result.reason}`
}

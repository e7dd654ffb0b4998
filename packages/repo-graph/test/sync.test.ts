import { readFileSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { formatSyncLine, type SyncResult, syncRepos } from '../src/sync.ts'
import { cleanup, commit, type Fixture, Fleet, git, head, refs, write } from './support/fleet.ts'

afterEach(cleanup)

/** Local branch refs, HEAD and the files' status: everything a sync that leaves a repo alone must not change. */
const snapshot = (f: Fixture) => ({
  head: head(f.root),
  branches: git(f.root, ['for-each-ref', '--format=%(objectname) %(refname)', 'refs/heads']),
  symbolic: git(f.root, ['rev-parse', '--abbrev-ref', 'HEAD']),
  status: git(f.root, ['status', '--porcelain=v1', '--untracked-files=all']),
})

describe('syncRepos', () => {
  it('fast-forwards a repository that is behind, and one that is current stays put', async () => {
    const fleet = new Fleet()
    const behind = fleet.cloned('behind')
    const current = fleet.cloned('current')
    const before = head(behind.root)
    const target = fleet.advanceRemote(behind, 3)
    const remoteRefs = refs(behind.remote!)

    const progress: string[] = []
    const results = await syncRepos([behind.repo, current.repo], {
      onProgress: (done, total, r) => progress.push(`${done}/${total} ${r.repo}`),
    })
    expect(results).toEqual<SyncResult[]>([
      {
        repo: 'behind',
        root: behind.root,
        action: 'updated',
        reason: null,
        before,
        after: target,
        pulled: 3,
        ahead: 0,
        behind: 0,
      },
      {
        repo: 'current',
        root: current.root,
        action: 'up-to-date',
        reason: null,
        before: head(current.root),
        after: head(current.root),
        pulled: 0,
        ahead: 0,
        behind: 0,
      },
    ])
    expect(head(behind.root)).toBe(target)
    expect(git(behind.root, ['rev-parse', '--abbrev-ref', 'HEAD'])).toBe('main')
    expect(readFileSync(join(behind.root, 'upstream-2.txt'), 'utf8')).toBe('2\n')
    expect(git(behind.root, ['status', '--porcelain'])).toBe('')
    expect(refs(behind.remote!)).toBe(remoteRefs)
    // Completion order is not fixed: each repository once, the count rising.
    expect(progress.map((p) => p.slice(0, 3))).toEqual(['1/2', '2/2'])
    expect(progress.map((p) => p.slice(4)).sort()).toEqual(['behind', 'current'])
  })

  it('skips a dirty repository without fetching or touching a file', async () => {
    const fleet = new Fleet()
    const dirty = fleet.cloned('dirty', { 'a.txt': 'a\n' })
    fleet.advanceRemote(dirty, 2)
    write(dirty.root, { 'a.txt': 'my edit\n', 'notes.txt': 'mine\n' })
    const before = snapshot(dirty)
    const tracking = git(dirty.root, ['rev-parse', 'origin/main'])

    const [result] = await syncRepos([dirty.repo])
    expect(result).toMatchObject({ action: 'skipped', reason: 'dirty: 2 changed files', pulled: 0 })
    expect(result!.after).toBe(result!.before)
    expect(snapshot(dirty)).toEqual(before)
    expect(readFileSync(join(dirty.root, 'a.txt'), 'utf8')).toBe('my edit\n')
    expect(git(dirty.root, ['rev-parse', 'origin/main'])).toBe(tracking)
  })

  it('reports a diverged branch and leaves it as it is', async () => {
    const fleet = new Fleet()
    const app = fleet.cloned('app')
    fleet.advanceRemote(app, 2)
    commit(app.root, 'mine', { 'mine.txt': 'm\n' })
    const before = snapshot(app)
    const remoteRefs = refs(app.remote!)

    const [result] = await syncRepos([app.repo])
    expect(result).toMatchObject({
      action: 'skipped',
      reason: 'diverged: ahead 1, behind 2',
      ahead: 1,
      behind: 2,
      pulled: 0,
    })
    expect(snapshot(app)).toEqual(before)
    // Never pushed: the remote still lacks the local commit.
    expect(refs(app.remote!)).toBe(remoteRefs)
  })

  it('fails the repository whose remote is unreachable while the others update', async () => {
    const fleet = new Fleet()
    const a = fleet.cloned('a')
    const broken = fleet.cloned('broken')
    const c = fleet.cloned('c')
    const targetA = fleet.advanceRemote(a, 1)
    const targetC = fleet.advanceRemote(c, 2)
    renameSync(broken.remote!, `${broken.remote!}.moved`)
    const brokenBefore = snapshot(broken)

    const results = await syncRepos([a.repo, broken.repo, c.repo], { concurrency: 2 })
    expect(results.map((r) => [r.repo, r.action, r.pulled])).toEqual([
      ['a', 'updated', 1],
      ['broken', 'failed', 0],
      ['c', 'updated', 2],
    ])
    expect(results[1]!.reason).toMatch(/does not appear to be a git repository/)
    expect(head(a.root)).toBe(targetA)
    expect(head(c.root)).toBe(targetC)
    expect(snapshot(broken)).toEqual(brokenBefore)
  })

  it('changes nothing on a dry run but says what it would do', async () => {
    const fleet = new Fleet()
    const app = fleet.cloned('app')
    const target = fleet.advanceRemote(app, 2)
    const before = snapshot(app)
    const remoteRefs = refs(app.remote!)

    const [result] = await syncRepos([app.repo], { dryRun: true })
    expect(result).toMatchObject({
      action: 'would-update',
      before: before.head,
      after: target,
      pulled: 2,
      behind: 2,
    })
    expect(snapshot(app)).toEqual(before)
    expect(refs(app.remote!)).toBe(remoteRefs)
  })

  it('without fetch only knows what was fetched before', async () => {
    const fleet = new Fleet()
    const app = fleet.cloned('app')
    fleet.advanceRemote(app, 2)
    const [result] = await syncRepos([app.repo], { fetch: false })
    expect(result).toMatchObject({ action: 'up-to-date', behind: 0 })
  })

  it('skips detached HEADs, branches without or with a deleted upstream, and empty repositories', async () => {
    const fleet = new Fleet()
    const detached = fleet.cloned('detached')
    git(detached.root, ['checkout', '-q', '--detach'])
    const solo = fleet.local('solo')
    const gone = fleet.cloned('gone')
    git(gone.root, ['checkout', '-q', '-b', 'feature'])
    git(gone.root, ['push', '-q', '-u', 'origin', 'feature'])
    git(gone.root, ['push', '-q', 'origin', '--delete', 'feature'])
    const empty = fleet.init('empty')
    const deleted = fleet.local('deleted')
    rmSync(deleted.root, { recursive: true, force: true })
    const ahead = fleet.cloned('ahead')
    commit(ahead.root, 'local', { 'l.txt': 'l\n' })
    const remoteRefs = refs(ahead.remote!)

    const results = await syncRepos([
      detached.repo,
      solo.repo,
      gone.repo,
      empty.repo,
      deleted.repo,
      ahead.repo,
    ])
    expect(results.map((r) => [r.repo, r.action, r.reason])).toEqual([
      ['detached', 'skipped', 'detached HEAD'],
      ['solo', 'skipped', 'no upstream for main'],
      ['gone', 'skipped', 'upstream origin/feature is gone'],
      ['empty', 'skipped', 'no commits yet'],
      ['deleted', 'failed', `${deleted.root} no longer exists`],
      ['ahead', 'up-to-date', 'ahead 1, not pushed'],
    ])
    expect(refs(ahead.remote!)).toBe(remoteRefs)
  })

  it('rejects invalid options', async () => {
    await expect(syncRepos([], { concurrency: 1.5 })).rejects.toThrow(
      /invalid syncRepos options: concurrency/,
    )
  })
})

describe('formatSyncLine', () => {
  const base: SyncResult = {
    repo: 'ares',
    root: '/fleet/ares',
    action: 'updated',
    reason: null,
    before: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
    after: 'd4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3',
    pulled: 3,
    ahead: 0,
    behind: 0,
  }

  it('says what happened in one line', () => {
    expect(formatSyncLine(base)).toBe('ares  updated  3 commits (a1b2c3d → d4e5f6a)')
    expect(formatSyncLine({ ...base, action: 'would-update', pulled: 1 })).toBe(
      'ares  would-update  1 commit (a1b2c3d → d4e5f6a)',
    )
    expect(formatSyncLine({ ...base, action: 'up-to-date', pulled: 0 })).toBe('ares  up-to-date')
    expect(
      formatSyncLine({ ...base, repo: 'web', action: 'skipped', reason: 'dirty: 2 changed files' }, 6),
    ).toBe('web     skipped  dirty: 2 changed files')
  })
})

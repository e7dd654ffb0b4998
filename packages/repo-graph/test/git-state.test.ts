import { mkdirSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { type RepoState, repoStates } from '../src/git-state.ts'
import { mapPool } from '../src/pool.ts'
import { cleanup, commit, type Fixture, Fleet, git, head, write } from './support/fleet.ts'

afterEach(cleanup)

const DAY = 86_400_000

async function stateOf(fixture: Fixture, options: Parameters<typeof repoStates>[1] = {}): Promise<RepoState> {
  const [state] = await repoStates([fixture.repo], options)
  return state!
}

const iso = (root: string, rev = 'HEAD') =>
  new Date(Number(git(root, ['log', '-1', '--format=%ct', rev])) * 1000).toISOString()

describe('repoStates', () => {
  it('reads a clean clone completely', async () => {
    const fleet = new Fleet()
    const app = fleet.cloned('app')
    const sha = head(app.root)
    expect(await stateOf(app)).toEqual({
      repo: 'app',
      root: app.root,
      branch: 'main',
      detached: false,
      head: sha,
      upstream: 'origin/main',
      upstreamGone: false,
      ahead: 0,
      behind: 0,
      dirty: false,
      staged: 0,
      unstaged: 0,
      untracked: 0,
      conflicted: 0,
      stashes: 0,
      lastCommitAt: iso(app.root),
      branches: [
        {
          name: 'main',
          head: sha,
          current: true,
          upstream: 'origin/main',
          ahead: 0,
          behind: 0,
          unpushed: 0,
          lastCommitAt: iso(app.root),
          stale: false,
          gone: false,
        },
      ],
      staleBranches: [],
      unpushed: 0,
      fetchError: null,
      error: null,
    })
  })

  it('counts staged, unstaged, untracked files and stashes', async () => {
    const fleet = new Fleet()
    const app = fleet.cloned('app', { 'a.txt': 'a\n', 'b.txt': 'b\n', 'c.txt': 'c\n' })
    write(app.root, { 'stash.txt': 'x\n' })
    git(app.root, ['add', 'stash.txt'])
    git(app.root, ['stash', '-q'])
    write(app.root, { 'a.txt': 'A\n', 'b.txt': 'B\n' })
    git(app.root, ['add', 'a.txt', 'b.txt'])
    write(app.root, { 'b.txt': 'BB\n', 'c.txt': 'C\n', 'new/one.txt': '1\n', 'new/two.txt': '2\n' })

    const state = await stateOf(app)
    // a: staged; b: staged and unstaged; c: unstaged; new/*: untracked, one each.
    expect(state).toMatchObject({
      dirty: true,
      staged: 2,
      unstaged: 2,
      untracked: 2,
      conflicted: 0,
      stashes: 1,
    })
    expect(state.error).toBeNull()
  })

  it('counts conflicted files of a merge in progress', async () => {
    const fleet = new Fleet()
    const app = fleet.local('app', { 'a.txt': 'base\n', 'b.txt': 'base\n' })
    git(app.root, ['checkout', '-q', '-b', 'other'])
    commit(app.root, 'other', { 'a.txt': 'other\n', 'b.txt': 'other\n' })
    git(app.root, ['checkout', '-q', 'main'])
    commit(app.root, 'mine', { 'a.txt': 'mine\n', 'b.txt': 'mine\n' })
    expect(() => git(app.root, ['merge', '-q', 'other'])).toThrow()

    expect(await stateOf(app)).toMatchObject({ dirty: true, conflicted: 2, staged: 0, unstaged: 0 })
  })

  it('reports ahead, behind and diverged against the upstream', async () => {
    const fleet = new Fleet()
    const ahead = fleet.cloned('ahead')
    commit(ahead.root, 'one', { 'x.txt': '1\n' })
    commit(ahead.root, 'two', { 'x.txt': '2\n' })

    const behind = fleet.cloned('behind')
    fleet.advanceRemote(behind, 3)
    git(behind.root, ['fetch', '-q'])

    const diverged = fleet.cloned('diverged')
    fleet.advanceRemote(diverged, 2)
    git(diverged.root, ['fetch', '-q'])
    commit(diverged.root, 'mine', { 'mine.txt': 'm\n' })

    const [a, b, d] = await repoStates([ahead.repo, behind.repo, diverged.repo])
    expect(a).toMatchObject({ ahead: 2, behind: 0, unpushed: 2, dirty: false })
    expect(b).toMatchObject({ ahead: 0, behind: 3, unpushed: 0 })
    expect(d).toMatchObject({ ahead: 1, behind: 2, unpushed: 1 })
    expect(d!.branches[0]).toMatchObject({ name: 'main', ahead: 1, behind: 2, unpushed: 1 })
  })

  it('fetches first only when asked, and reports a failed fetch without losing the state', async () => {
    const fleet = new Fleet()
    const app = fleet.cloned('app')
    fleet.advanceRemote(app, 2)
    expect(await stateOf(app)).toMatchObject({ behind: 0, fetchError: null })
    expect(await stateOf(app, { fetch: true })).toMatchObject({ behind: 2, fetchError: null, error: null })

    renameSync(app.remote!, `${app.remote!}.moved`)
    const state = await stateOf(app, { fetch: true })
    expect(state.error).toBeNull()
    expect(state.fetchError).toMatch(/^git fetch failed: .*does not appear to be a git repository/)
    expect(state).toMatchObject({ branch: 'main', behind: 2 })
  })

  it('handles a detached HEAD: no branch, no upstream, unpushed against every remote', async () => {
    const fleet = new Fleet()
    const app = fleet.cloned('app')
    const sha = commit(app.root, 'local only', { 'x.txt': 'x\n' })
    git(app.root, ['checkout', '-q', '--detach', 'HEAD'])

    expect(await stateOf(app)).toMatchObject({
      branch: null,
      detached: true,
      head: sha,
      upstream: null,
      ahead: null,
      behind: null,
      unpushed: 1,
      lastCommitAt: iso(app.root),
      error: null,
    })
  })

  it('counts commits not on any remote when there is no upstream', async () => {
    const fleet = new Fleet()
    const solo = fleet.local('solo')
    commit(solo.root, 'second', { 'x.txt': 'x\n' })

    const clone = fleet.cloned('clone')
    git(clone.root, ['checkout', '-q', '-b', 'feature'])
    commit(clone.root, 'feature work', { 'f.txt': 'f\n' })

    const [s, c] = await repoStates([solo.repo, clone.repo])
    expect(s).toMatchObject({ branch: 'main', upstream: null, ahead: null, behind: null, unpushed: 2 })
    // The clone's first commit is on origin/main: only the feature commit is unpushed.
    expect(c).toMatchObject({ branch: 'feature', upstream: null, ahead: null, unpushed: 1 })
    expect(c!.branches.map((b) => [b.name, b.unpushed, b.current])).toEqual([
      ['feature', 1, true],
      ['main', 0, false],
    ])
  })

  it('notices an upstream that was deleted on the remote', async () => {
    const fleet = new Fleet()
    const app = fleet.cloned('app')
    git(app.root, ['checkout', '-q', '-b', 'feature'])
    commit(app.root, 'feature', { 'f.txt': 'f\n' })
    git(app.root, ['push', '-q', '-u', 'origin', 'feature'])
    git(app.root, ['push', '-q', 'origin', '--delete', 'feature'])

    const state = await stateOf(app)
    expect(state).toMatchObject({
      branch: 'feature',
      upstream: 'origin/feature',
      upstreamGone: true,
      ahead: null,
      behind: null,
      unpushed: 1,
    })
    expect(state.branches.find((b) => b.name === 'feature')).toMatchObject({ gone: true, ahead: null })
    expect(state.branches.find((b) => b.name === 'main')).toMatchObject({ gone: false, ahead: 0 })
  })

  it('reads an empty repository with no commits', async () => {
    const fleet = new Fleet()
    const empty = fleet.init('empty')
    write(empty.root, { 'draft.txt': 'd\n' })
    expect(await stateOf(empty)).toMatchObject({
      branch: 'main',
      detached: false,
      head: null,
      upstream: null,
      ahead: null,
      lastCommitAt: null,
      branches: [],
      unpushed: 0,
      dirty: true,
      untracked: 1,
      error: null,
    })
  })

  it('marks branches whose last commit is older than staleDays, never listing the current one', async () => {
    const fleet = new Fleet()
    const app = fleet.local('app')
    const old = new Date(Date.now() - 90 * DAY)
    git(app.root, ['checkout', '-q', '-b', 'old'])
    commit(app.root, 'old work', { 'old.txt': 'o\n' }, old)
    git(app.root, ['checkout', '-q', 'main'])

    const state = await stateOf(app)
    expect(state.staleBranches).toEqual(['old'])
    expect(state.branches.map((b) => [b.name, b.stale])).toEqual([
      ['main', false],
      ['old', true],
    ])
    expect(state.branches.find((b) => b.name === 'old')!.lastCommitAt).toBe(
      new Date(Math.floor(old.getTime() / 1000) * 1000).toISOString(),
    )
    // 100 days is longer than the old branch's age.
    expect((await stateOf(app, { staleDays: 100 })).staleBranches).toEqual([])

    git(app.root, ['checkout', '-q', 'old'])
    const onOld = await stateOf(app)
    expect(onOld.staleBranches).toEqual([])
    expect(onOld.branches.find((b) => b.name === 'old')!.stale).toBe(true)
  })

  it('reports a deleted or de-gitted repository on that repository only', async () => {
    const fleet = new Fleet()
    const gone = fleet.local('gone')
    const plain = fleet.local('plain')
    const fine = fleet.local('fine')
    rmSync(gone.root, { recursive: true, force: true })
    rmSync(join(plain.root, '.git'), { recursive: true, force: true })
    // A plain directory inside a repository must not be read as that repository.
    const nested = join(fine.root, 'sub')
    mkdirSync(nested)
    const inside = { id: 'fine/sub', root: nested, canonical: `local:${nested}` }

    const states = await repoStates([gone.repo, plain.repo, inside, fine.repo])
    expect(states.map((s) => s.error)).toEqual([
      `${gone.root} no longer exists`,
      `${plain.root} is no longer a git repository`,
      `${nested} is no longer a git repository`,
      null,
    ])
    expect(states[0]).toMatchObject({ repo: 'gone', head: null, branches: [], dirty: false })
    expect(states[3]).toMatchObject({ repo: 'fine', branch: 'main', head: head(fine.root) })
  })

  it('gives the same answers for 20 repositories in parallel as one at a time, reporting progress', async () => {
    const fleet = new Fleet()
    const fixtures: Fixture[] = []
    for (let i = 0; i < 20; i++) {
      const f = i % 4 === 3 ? fleet.local(`r${i}`) : fleet.cloned(`r${i}`)
      if (i % 4 === 0) commit(f.root, 'ahead', { 'a.txt': `${i}\n` })
      if (i % 4 === 1) write(f.root, { 'dirty.txt': 'd\n' })
      if (i % 4 === 2) git(f.root, ['checkout', '-q', '-b', `topic-${i}`])
      fixtures.push(f)
    }
    const repos = fixtures.map((f) => f.repo)
    const now = new Date()
    const progress: number[] = []
    const parallel = await repoStates(repos, {
      concurrency: 8,
      now,
      onProgress: (done, total, state) => {
        expect(total).toBe(20)
        expect(repos.some((r) => r.id === state.repo)).toBe(true)
        progress.push(done)
      },
    })
    const serial: RepoState[] = []
    for (const repo of repos) serial.push(...(await repoStates([repo], { concurrency: 1, now })))

    expect(parallel).toEqual(serial)
    expect(parallel.map((s) => s.repo)).toEqual(repos.map((r) => r.id))
    expect(progress).toEqual(Array.from({ length: 20 }, (_, i) => i + 1))
    expect(parallel.filter((s) => s.error !== null)).toEqual([])
    expect(parallel.filter((s) => s.dirty)).toHaveLength(5)
    expect(parallel.filter((s) => s.ahead === 1)).toHaveLength(5)
  })

  it('rejects invalid options', async () => {
    await expect(repoStates([], { concurrency: 0 })).rejects.toThrow(
      /invalid repoStates options: concurrency/,
    )
    await expect(repoStates([], { staleDays: -1 })).rejects.toThrow(TypeError)
  })
})

describe('mapPool', () => {
  it('keeps input order and never runs more than `concurrency` calls at once', async () => {
    let running = 0
    let peak = 0
    const gates: (() => void)[] = []
    const promise = mapPool([5, 1, 4, 2, 3], 2, async (n, i) => {
      running++
      peak = Math.max(peak, running)
      // Each call waits until released, so finishing order is set by the test, not by timing.
      await new Promise<void>((release) => gates.push(release))
      running--
      return `${i}:${n * 10}`
    })
    while (gates.length > 0 || running > 0) {
      await new Promise((tick) => setImmediate(tick))
      gates.pop()?.()
    }
    expect(await promise).toEqual(['0:50', '1:10', '2:40', '3:20', '4:30'])
    expect(peak).toBe(2)
  })

  it('rejects with the first failure, and on a concurrency that is not a positive integer', async () => {
    await expect(
      mapPool([1, 2, 3], 3, async (n) => {
        if (n === 2) throw new Error('two failed')
        return n
      }),
    ).rejects.toThrow('two failed')
    await expect(mapPool([1], 0, async (n) => n)).rejects.toThrow(RangeError)
    expect(await mapPool([], 4, async (n: number) => n)).toEqual([])
  })
})

import { mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { currentHead, outgoingChanges, uncommittedFiles, unpushedFiles } from '../src/changes.ts'
import { GitError, runGit } from '../src/exec.ts'
import { cleanup, commit, git, initRepo, lines, tempDir, write } from './helpers.ts'

afterEach(cleanup)

/** A bare remote seeded with `app.ts` (10 lines) on main, and a clone of it to work in. */
function cloneWithRemote(): { remote: string; work: string; seed: string } {
  const base = tempDir()
  const remote = join(base, 'remote.git')
  mkdirSync(remote)
  git(remote, 'init', '-q', '--bare', '-b', 'main')
  const seedRepo = initRepo(join(base, 'seed'))
  const seed = commit(seedRepo, 'seed', { 'app.ts': lines(10) })
  git(seedRepo, 'push', '-q', remote, 'main')
  const work = join(base, 'work')
  git(base, 'clone', '-q', remote, work)
  return { remote, work, seed }
}

const subject = (root: string, sha: string) => ({ sha, subject: git(root, 'log', '-1', '--format=%s', sha) })

describe('outgoingChanges', () => {
  it('measures against the upstream: exact commits and line ranges of two local commits', async () => {
    const { work } = cloneWithRemote()
    git(work, 'checkout', '-q', '-b', 'feature')
    const pushed = commit(work, 'already pushed', { 'lib.ts': 'export {}\n' })
    git(work, 'push', '-q', '-u', 'origin', 'feature')
    const c1 = commit(work, 'edit app', { 'app.ts': lines(10, { 3: 'three' }) })
    const edited = lines(10, { 3: 'three' }).split('\n')
    edited.splice(5, 2) // drop old lines 6 and 7
    edited.splice(-1, 0, 'eleven', 'twelve')
    const c2 = commit(work, 'trim app, add notes', { 'app.ts': edited.join('\n'), 'docs/notes.md': 'a\nb\n' })

    expect(await outgoingChanges(work)).toEqual({
      base: 'origin/feature',
      mergeBase: pushed,
      commits: [subject(work, c2), subject(work, c1)],
      files: [
        {
          path: 'app.ts',
          oldPath: null,
          status: 'modified',
          added: [
            [3, 3],
            [9, 10],
          ],
          removed: [
            [3, 3],
            [6, 7],
          ],
          binary: false,
        },
        {
          path: 'docs/notes.md',
          oldPath: null,
          status: 'added',
          added: [[1, 2]],
          removed: [],
          binary: false,
        },
      ],
    })
  })

  it('without an upstream, uses <remote>/<branch>, then the remote default branch', async () => {
    const { work, seed } = cloneWithRemote()
    git(work, 'checkout', '-q', '-b', 'topic')
    const t1 = commit(work, 'topic work', { 'app.ts': lines(11) })
    expect(await outgoingChanges(work)).toMatchObject({
      base: 'origin/main',
      mergeBase: seed,
      commits: [subject(work, t1)],
      files: [{ path: 'app.ts', status: 'modified', added: [[11, 11]], removed: [] }],
    })

    git(work, 'push', '-q', 'origin', 'topic') // no -u: still no upstream
    const t2 = commit(work, 'more', { 'app.ts': lines(11, { 1: 'first' }) })
    expect(await outgoingChanges(work)).toMatchObject({
      base: 'origin/topic',
      mergeBase: t1,
      commits: [subject(work, t2)],
      files: [{ path: 'app.ts', added: [[1, 1]], removed: [[1, 1]] }],
    })
  })

  it("follows <remote>/HEAD, and falls back to main when the remote's HEAD is unknown", async () => {
    const { work, seed } = cloneWithRemote()
    git(work, 'checkout', '-q', '-b', 'dev')
    const d1 = commit(work, 'dev 1', { 'dev.ts': 'x\n' })
    git(work, 'push', '-q', 'origin', 'dev')
    git(work, 'remote', 'set-head', 'origin', 'dev')
    git(work, 'checkout', '-q', '-b', 'topic')
    commit(work, 'topic 1', { 'topic.ts': 'y\n' })
    expect(await outgoingChanges(work)).toMatchObject({ base: 'origin/dev', mergeBase: d1 })

    git(work, 'remote', 'set-head', 'origin', '--delete')
    expect(await outgoingChanges(work)).toMatchObject({ base: 'origin/main', mergeBase: seed })
  })

  it('with no remote at all, sends everything reachable from HEAD (compared with the empty tree)', async () => {
    const root = initRepo()
    const c1 = commit(root, 'first', { 'a.txt': 'one\ntwo\n' })
    const c2 = commit(root, 'second', { 'b/c.txt': 'x\n' })
    expect(await outgoingChanges(root)).toEqual({
      base: 'empty tree (no remote branch to compare with)',
      mergeBase: null,
      commits: [subject(root, c2), subject(root, c1)],
      files: [
        { path: 'a.txt', oldPath: null, status: 'added', added: [[1, 2]], removed: [], binary: false },
        { path: 'b/c.txt', oldPath: null, status: 'added', added: [[1, 1]], removed: [], binary: false },
      ],
    })
  })

  it("does not count main's commits merged into a branch without upstream", async () => {
    const { work } = cloneWithRemote()
    git(work, 'checkout', '-q', '-b', 'topic')
    const t1 = commit(work, 'topic work', { 'topic.ts': 'mine\n' })
    // main moves on at the remote
    git(work, 'checkout', '-q', 'main')
    const m1 = commit(work, 'main work', { 'main.ts': 'theirs\n' })
    git(work, 'push', '-q', 'origin', 'main')
    git(work, 'checkout', '-q', 'topic')
    git(work, 'merge', '-q', '--no-edit', 'origin/main')
    const merge = git(work, 'rev-parse', 'HEAD')

    const out = await outgoingChanges(work)
    expect(out.base).toBe('origin/main')
    expect(out.mergeBase).toBe(m1)
    expect(out.commits).toEqual([subject(work, merge), subject(work, t1)])
    expect(out.files.map((f) => f.path)).toEqual(['topic.ts'])
  })

  it("leaves main's commits out after merging main into a branch with an upstream", async () => {
    const { work } = cloneWithRemote()
    git(work, 'checkout', '-q', '-b', 'feature')
    const f1 = commit(work, 'feature work', { 'feature.ts': 'mine\n' })
    git(work, 'push', '-q', '-u', 'origin', 'feature')
    git(work, 'checkout', '-q', 'main')
    commit(work, 'main work', { 'main.ts': 'theirs\n' })
    git(work, 'push', '-q', 'origin', 'main')
    git(work, 'checkout', '-q', 'feature')
    git(work, 'merge', '-q', '--no-edit', 'origin/main')
    const merge = git(work, 'rev-parse', 'HEAD')
    const f2 = commit(work, 'feature again', { 'feature.ts': 'mine\nmore\n' })

    const out = await outgoingChanges(work)
    expect(out.base).toBe('origin/feature')
    expect(out.mergeBase).toBe(f1)
    expect(out.commits).toEqual([subject(work, f2), subject(work, merge)])
    // Files are measured from the upstream tip, so the merged-in main.ts is part of the diff.
    expect(out.files.map((f) => [f.path, f.added])).toEqual([
      ['feature.ts', [[2, 2]]],
      ['main.ts', [[1, 1]]],
    ])
  })

  it('reports renames with unusual names, against an explicit base', async () => {
    const root = initRepo()
    const first = commit(root, 'first', { 'sp ace é.ts': lines(20), 'keep.ts': 'k\n' })
    renameSync(join(root, 'sp ace é.ts'), join(root, 'renamed "q".ts'))
    writeFileSync(join(root, 'renamed "q".ts'), lines(20, { 20: 'twenty' }))
    const second = commit(root, 'rename')
    expect(await outgoingChanges(root, { base: first })).toEqual({
      base: first,
      mergeBase: first,
      commits: [subject(root, second)],
      files: [
        {
          path: 'renamed "q".ts',
          oldPath: 'sp ace é.ts',
          status: 'renamed',
          added: [[20, 20]],
          removed: [[20, 20]],
          binary: false,
        },
      ],
    })
  })

  it('reports binary files and a file that became a symlink', async () => {
    const root = initRepo()
    const first = commit(root, 'first', { 'img.bin': '\0\x01\x02', link: 'a\nb\n' })
    writeFileSync(join(root, 'img.bin'), '\0\x03')
    rmSync(join(root, 'link'))
    symlinkSync('img.bin', join(root, 'link'))
    commit(root, 'second')
    expect((await outgoingChanges(root, { base: first })).files).toEqual([
      { path: 'img.bin', oldPath: null, status: 'modified', added: [], removed: [], binary: true },
      {
        path: 'link',
        oldPath: null,
        status: 'type-changed',
        added: [[1, 1]],
        removed: [[1, 2]],
        binary: false,
      },
    ])
  })

  it('honours an explicit remote: the upstream on another remote does not apply', async () => {
    const { work, remote } = cloneWithRemote()
    git(work, 'remote', 'add', 'fork', remote)
    git(work, 'fetch', '-q', 'fork')
    git(work, 'checkout', '-q', '-b', 'feature')
    const f1 = commit(work, 'f1', { 'f.ts': '1\n' })
    git(work, 'push', '-q', '-u', 'origin', 'feature')
    commit(work, 'f2', { 'f.ts': '2\n' })
    expect(await outgoingChanges(work)).toMatchObject({ base: 'origin/feature', mergeBase: f1 })
    const out = await outgoingChanges(work, { remote: 'fork' })
    expect(out.base).toBe('fork/main')
    expect(out.commits.map((c) => c.subject)).toEqual(['f2', 'f1'])
  })

  it('handles a diff of 100k lines', async () => {
    const root = initRepo()
    const big = Array.from({ length: 100_000 }, (_, i) => `line ${i + 1} of a rather large generated file`)
    commit(root, 'big', { 'big.txt': `${big.join('\n')}\n` })
    const out = await outgoingChanges(root)
    expect(out.files).toEqual([
      { path: 'big.txt', oldPath: null, status: 'added', added: [[1, 100_000]], removed: [], binary: false },
    ])
  })

  it('returns nothing for a repository without commits', async () => {
    const root = initRepo()
    expect(await outgoingChanges(root)).toEqual({
      base: 'nothing (no commits yet)',
      mergeBase: null,
      commits: [],
      files: [],
    })
  })

  it('fails with a clear GitError outside a repository or for a bad base', async () => {
    const dir = tempDir()
    const error = await outgoingChanges(dir).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(GitError)
    expect((error as GitError).message).toContain(`${dir} is not inside a git repository`)
    expect((error as GitError).exitCode).toBe(128)
    expect((error as GitError).stderr).toMatch(/^fatal: not a git repository/)
    expect((error as GitError).command[0]).toBe('git')

    await expect(outgoingChanges(join(dir, 'missing'))).rejects.toThrow(
      `${join(dir, 'missing')} does not exist`,
    )

    const root = initRepo()
    commit(root, 'one')
    await expect(outgoingChanges(root, { base: 'no-such-ref' })).rejects.toThrow(
      `base "no-such-ref" is not a commit in ${root}`,
    )
    await expect(outgoingChanges(root, { base: '--output=/tmp/x' })).rejects.toBeInstanceOf(GitError)
  })
})

describe('currentHead', () => {
  it('reports sha and branch, an unborn branch, and a detached HEAD', async () => {
    const root = initRepo()
    expect(await currentHead(root)).toEqual({ sha: null, branch: 'main' })
    const sha = commit(root, 'one')
    git(root, 'checkout', '-q', '-b', 'feat/x')
    expect(await currentHead(root)).toEqual({ sha, branch: 'feat/x' })
    git(root, 'checkout', '-q', '--detach')
    expect(await currentHead(root)).toEqual({ sha, branch: null })
    await expect(currentHead(tempDir())).rejects.toBeInstanceOf(GitError)
  })
})

describe('uncommittedFiles', () => {
  it('lists staged, unstaged, untracked, deleted and renamed files once, sorted, new side of renames', async () => {
    const root = initRepo()
    commit(root, 'one', {
      'a.ts': 'a\n',
      'b.ts': 'b\n',
      'gone.ts': 'g\n',
      'old name.ts': 'o\n',
      '.gitignore': 'ignored.log\n',
    })
    write(root, { 'a.ts': 'a2\n', 'b.ts': 'b2\n', 'new/deep/é x.ts': 'n\n', 'ignored.log': 'x\n' })
    git(root, 'add', 'b.ts')
    write(root, { 'b.ts': 'b3\n' }) // staged and unstaged
    rmSync(join(root, 'gone.ts'))
    mkdirSync(join(root, 'z'))
    git(root, 'mv', 'old name.ts', 'z/new name.ts')
    expect(await uncommittedFiles(root)).toEqual([
      'a.ts',
      'b.ts',
      'gone.ts',
      'new/deep/é x.ts',
      'z/new name.ts',
    ])
  })

  it('returns an empty list for a clean tree', async () => {
    const root = initRepo()
    commit(root, 'one', { 'a.ts': 'a\n' })
    expect(await uncommittedFiles(root)).toEqual([])
  })
})

describe('unpushedFiles', () => {
  it('is empty with nothing to compare with, the outgoing files with an upstream or a base', async () => {
    const root = initRepo()
    const first = commit(root, 'one', { 'a.txt': 'a\n' })
    commit(root, 'two', { 'b.txt': 'b\n' })
    // No remote at all: outgoingChanges compares with the empty tree, unpushedFiles says nothing.
    expect((await outgoingChanges(root)).files.map((f) => f.path)).toEqual(['a.txt', 'b.txt'])
    expect(await unpushedFiles(root)).toEqual([])
    expect((await unpushedFiles(root, { base: first })).map((f) => f.path)).toEqual(['b.txt'])

    const remote = tempDir()
    git(remote, 'init', '-q', '--bare')
    git(root, 'remote', 'add', 'origin', remote)
    git(root, 'push', '-q', '-u', 'origin', 'main')
    expect(await unpushedFiles(root)).toEqual([])
    commit(root, 'three', { 'c.txt': 'c\n' })
    expect((await unpushedFiles(root)).map((f) => f.path)).toEqual(['c.txt'])
  })
})

describe('runGit', () => {
  it('kills git after the timeout', async () => {
    const root = initRepo()
    // hash-object --stdin waits for input that never comes.
    const error = await runGit(root, ['hash-object', '--stdin'], { timeoutMs: 200 }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(GitError)
    expect((error as GitError).message).toBe(`git hash-object --stdin timed out after 200 ms in ${root}`)
    expect((error as GitError).exitCode).toBeNull()
  })

  it('keeps a GIT_DIR from the environment from redirecting it to another repository', async () => {
    const a = initRepo()
    const b = initRepo()
    commit(b, 'b')
    process.env.GIT_DIR = join(b, '.git')
    try {
      expect(await currentHead(a)).toEqual({ sha: null, branch: 'main' })
    } finally {
      delete process.env.GIT_DIR
    }
  })
})

import { existsSync, mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { parseGitConfig } from '../src/config.ts'
import { findRepo, readRepoIdentity, repoRelativePath } from '../src/repo.ts'
import { cleanup, commit, git, initRepo, tempDir, write } from './helpers.ts'

afterEach(cleanup)

describe('findRepo', () => {
  it('walks up from nested files, directories and paths that do not exist yet', () => {
    const root = initRepo()
    write(root, { 'a/b/c/file.ts': 'x\n' })
    const expected = { root, gitDir: join(root, '.git'), commonDir: join(root, '.git') }
    expect(findRepo(join(root, 'a/b/c/file.ts'))).toEqual(expected)
    expect(findRepo(join(root, 'a/b'))).toEqual(expected)
    expect(findRepo(root)).toEqual(expected)
    expect(findRepo(join(root, 'a/b/new/deeper/not-yet.ts'))).toEqual(expected)
    // A path "under" a regular file cannot exist; its repo is still the file's.
    expect(findRepo(join(root, 'a/b/c/file.ts/child'))).toEqual(expected)
  })

  it('returns null outside any repository', () => {
    const dir = tempDir()
    expect(findRepo(dir)).toBeNull()
    expect(findRepo(join(dir, 'missing/file.ts'))).toBeNull()
  })

  it('finds a linked worktree and its shared git dir', () => {
    const main = initRepo(join(tempDir(), 'main'))
    const sha = commit(main, 'init', { 'README.md': 'hi\n' })
    git(main, 'remote', 'add', 'origin', 'git@github.com:acme/app.git')
    const wt = join(main, '..', 'wt')
    git(main, 'worktree', 'add', '-q', '-b', 'feature', wt)
    expect(findRepo(join(wt, 'src/new.ts'))).toEqual({
      root: wt,
      gitDir: join(main, '.git/worktrees/wt'),
      commonDir: join(main, '.git'),
    })
    expect(readRepoIdentity(wt)).toEqual({
      root: wt,
      canonical: 'github.com/acme/app',
      remoteUrl: 'git@github.com:acme/app.git',
      branch: 'feature',
      head: sha,
      defaultBranch: 'main',
    })
  })

  it('follows a .git file with a relative or absolute gitdir', () => {
    const base = tempDir()
    const sub = initRepo(join(base, 'sub'))
    const sha = commit(sub, 'init')
    mkdirSync(join(base, 'store/modules'), { recursive: true })
    renameSync(join(sub, '.git'), join(base, 'store/modules/sub'))
    writeFileSync(join(sub, '.git'), 'gitdir: ../store/modules/sub\n')
    const gitDir = join(base, 'store/modules/sub')
    expect(findRepo(join(sub, 'x/y.ts'))).toEqual({ root: sub, gitDir, commonDir: gitDir })
    expect(readRepoIdentity(sub)?.head).toBe(sha)
    writeFileSync(join(sub, '.git'), `gitdir: ${gitDir}`)
    expect(findRepo(sub)).toEqual({ root: sub, gitDir, commonDir: gitDir })
  })

  it('finds a real submodule and reads its own remote', () => {
    const lib = initRepo(join(tempDir(), 'lib'))
    const libSha = commit(lib, 'lib', { 'lib.ts': 'export {}\n' })
    const app = initRepo(join(lib, '..', 'app'))
    commit(app, 'init')
    git(app, 'submodule', 'add', '-q', lib, 'vendor/lib')
    const sub = join(app, 'vendor/lib')
    const gitDir = join(app, '.git/modules/vendor/lib')
    expect(findRepo(join(sub, 'lib.ts'))).toEqual({ root: sub, gitDir, commonDir: gitDir })
    expect(readRepoIdentity(sub)).toMatchObject({ canonical: `local:${lib}`, branch: 'main', head: libSha })
    expect(findRepo(join(app, 'vendor'))?.root).toBe(app)
  })

  it('returns null, without throwing, for a .git file that points nowhere or is garbage', () => {
    const dir = tempDir()
    writeFileSync(join(dir, '.git'), 'gitdir: ../does/not/exist\n')
    expect(findRepo(join(dir, 'a.ts'))).toBeNull()
    expect(readRepoIdentity(dir)).toBeNull()
    writeFileSync(join(dir, '.git'), '\0\0 not a git file')
    expect(findRepo(dir)).toBeNull()
    writeFileSync(join(dir, '.git'), '')
    expect(findRepo(dir)).toBeNull()
  })

  it('skips a .git directory that is not a git dir, like git does', () => {
    const root = initRepo()
    mkdirSync(join(root, 'pkg/.git'), { recursive: true })
    expect(findRepo(join(root, 'pkg/file.ts'))?.root).toBe(root)
  })
})

describe('readRepoIdentity', () => {
  it('reads branch and head from a loose ref, then from packed-refs', () => {
    const root = initRepo()
    const sha = commit(root, 'one')
    expect(readRepoIdentity(join(root, 'src/a.ts'))).toEqual({
      root,
      canonical: `local:${root}`,
      remoteUrl: null,
      branch: 'main',
      head: sha,
      defaultBranch: 'main',
    })
    git(root, 'pack-refs', '--all')
    expect(existsSync(join(root, '.git/refs/heads/main'))).toBe(false)
    expect(readRepoIdentity(root)?.head).toBe(sha)
  })

  it('finds a packed branch among many refs and does not confuse prefixes', () => {
    const root = initRepo()
    const first = commit(root, 'one')
    git(root, 'branch', 'main-old')
    git(root, 'branch', 'x/main')
    const second = commit(root, 'two')
    git(root, 'pack-refs', '--all')
    expect(readRepoIdentity(root)?.head).toBe(second)
    git(root, 'checkout', '-q', 'main-old')
    expect(readRepoIdentity(root)).toMatchObject({ branch: 'main-old', head: first })
  })

  it('reports a detached HEAD as branch null with the commit', () => {
    const root = initRepo()
    const sha = commit(root, 'one')
    commit(root, 'two')
    git(root, 'checkout', '-q', '--detach', sha)
    expect(readRepoIdentity(root)).toMatchObject({ branch: null, head: sha })
  })

  it('handles an empty repository: branch known, head null', () => {
    const root = initRepo()
    expect(readRepoIdentity(root)).toMatchObject({ branch: 'main', head: null, canonical: `local:${root}` })
  })

  it('prefers origin, else the first remote in the config', () => {
    const root = initRepo()
    git(root, 'remote', 'add', 'upstream', 'https://github.com/up/stream.git')
    git(root, 'remote', 'add', 'fork', 'git@github.com:me/fork.git')
    expect(readRepoIdentity(root)).toMatchObject({
      canonical: 'github.com/up/stream',
      remoteUrl: 'https://github.com/up/stream.git',
    })
    git(root, 'remote', 'add', 'origin', 'ssh://git@GitLab.Example.com:2222/group/sub/repo.git')
    expect(readRepoIdentity(root)).toMatchObject({ canonical: 'gitlab.example.com/group/sub/repo' })
  })

  it.each([
    ['git@github.com:Org/Repo.git', 'github.com/Org/Repo'],
    ['https://user:tok@github.com/org/repo.git', 'github.com/org/repo'],
    ['ssh://git@gitlab.example.com:2222/group/sub/repo.git', 'gitlab.example.com/group/sub/repo'],
    ['git://host/x/y', 'host/x/y'],
    ['file:///srv/git/repo.git', 'local:/srv/git/repo.git'],
  ])('canonical name for origin %s', (url, canonical) => {
    const root = initRepo()
    git(root, 'remote', 'add', 'origin', url)
    expect(readRepoIdentity(root)).toMatchObject({ canonical, remoteUrl: url })
  })

  it('resolves a relative remote path against the repository root', () => {
    const root = initRepo()
    git(root, 'remote', 'add', 'origin', '../shared.git')
    expect(readRepoIdentity(root)?.canonical).toBe(`local:${join(root, '..', 'shared.git')}`)
  })

  it("takes the default branch from the remote's HEAD, packed refs included", () => {
    const bare = tempDir()
    git(bare, 'init', '-q', '--bare', '-b', 'trunk')
    const seed = initRepo()
    commit(seed, 'one')
    git(seed, 'push', '-q', bare, 'main:trunk', 'main:dev')
    const clone = join(tempDir(), 'clone')
    git(bare, 'clone', '-q', bare, clone)
    git(clone, 'pack-refs', '--all')
    expect(readRepoIdentity(clone)).toMatchObject({ branch: 'trunk', defaultBranch: 'trunk' })
  })

  it('guesses master when the remote has no HEAD ref but a master branch', () => {
    const root = initRepo()
    const sha = commit(root, 'one')
    git(root, 'remote', 'add', 'origin', 'git@github.com:o/r.git')
    git(root, 'update-ref', 'refs/remotes/origin/master', sha)
    expect(readRepoIdentity(root)?.defaultBranch).toBe('master')
    git(root, 'update-ref', 'refs/remotes/origin/main', sha)
    git(root, 'pack-refs', '--all')
    expect(readRepoIdentity(root)?.defaultBranch).toBe('main')
  })

  it('reads a hand-written config with odd formatting', () => {
    const root = initRepo()
    writeFileSync(
      join(root, '.git/config'),
      [
        '\uFEFF# leading comment',
        '[core]',
        '\trepositoryformatversion = 0',
        '  ; remote "origin" url = wrong',
        '[Remote "upstream"]  URL=git@example.com:u/up.git',
        '[REMOTE "origin"] # comment after header',
        '\t\tUrL   =   "git@github.com:Weird/Repo.git"   ; trailing comment',
        '\turl = https://github.com/second/url.git',
        '[remote "origin"]',
        '\tfetch = +refs/heads/*:refs/remotes/origin/*',
        '',
      ].join('\r\n'),
    )
    expect(readRepoIdentity(root)).toMatchObject({
      canonical: 'github.com/Weird/Repo',
      remoteUrl: 'git@github.com:Weird/Repo.git',
    })
  })

  it('is cheap enough for a hook: it reads files and never starts git (its speed is in the hooks bench)', () => {
    const root = initRepo()
    commit(root, 'one', { 'src/a.ts': 'x\n' })
    git(root, 'remote', 'add', 'origin', 'git@github.com:o/r.git')
    const path = process.env.PATH
    process.env.PATH = '' // no git to start
    try {
      expect(readRepoIdentity(join(root, 'src/a.ts'))).toMatchObject({ root, canonical: 'github.com/o/r' })
    } finally {
      process.env.PATH = path
    }
  })
})

describe('parseGitConfig', () => {
  it('resolves quotes, escapes, continuations, comments, legacy subsections and bare keys', () => {
    const text = [
      '[remote "we\\"ird"]',
      '\turl = "a b" c\\',
      'd ; gone',
      '\tpath = x\\ty\\\\z\\n "# not a comment" # a comment',
      '[branch.Main]',
      '\tRebase',
      'merge = refs/heads/main',
      '[broken',
      '\tkey = lost',
      '[core] bare = false',
    ].join('\n')
    expect(parseGitConfig(text)).toEqual([
      { section: 'remote', subsection: 'we"ird', key: 'url', value: 'a b cd' },
      { section: 'remote', subsection: 'we"ird', key: 'path', value: 'x\ty\\z\n # not a comment' },
      { section: 'branch', subsection: 'main', key: 'rebase', value: null },
      { section: 'branch', subsection: 'main', key: 'merge', value: 'refs/heads/main' },
      { section: 'core', subsection: null, key: 'bare', value: 'false' },
    ])
  })
})

describe('repoRelativePath', () => {
  it('gives POSIX paths inside the root and null outside, after resolving ..', () => {
    const root = '/work/app'
    expect(repoRelativePath(root, '/work/app/src/a.ts')).toBe('src/a.ts')
    expect(repoRelativePath(root, '/work/app/src/../lib/b.ts')).toBe('lib/b.ts')
    expect(repoRelativePath(root, '/work/app')).toBe('')
    expect(repoRelativePath(root, 'src/c.ts')).toBe('src/c.ts')
    expect(repoRelativePath(root, '/work/app/../other/a.ts')).toBeNull()
    expect(repoRelativePath(root, '/work/application/a.ts')).toBeNull()
    expect(repoRelativePath(root, '/work/app/..')).toBeNull()
    expect(repoRelativePath(root, '/work/app/..hidden/x')).toBe('..hidden/x')
  })

  it("matches a file under the root's real path when the root is a symlink", () => {
    const real = initRepo(join(tempDir(), 'real'))
    const link = join(real, '..', 'link')
    symlinkSync(real, link)
    expect(repoRelativePath(link, join(real, 'src/a.ts'))).toBe('src/a.ts')
    expect(repoRelativePath(link, join(link, 'src/a.ts'))).toBe('src/a.ts')
    expect(repoRelativePath(link, join(real, '..', 'elsewhere.ts'))).toBeNull()
  })
})

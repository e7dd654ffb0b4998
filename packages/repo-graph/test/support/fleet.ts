// Real git repositories for the git-state, sync and audit tests: working clones of bare remotes that live in the
// same temp dir, so fetch and push never leave the machine.

import { mkdirSync, rmSync } from 'node:fs'
import { basename, join } from 'node:path'
import { gitWith, tempDir as testTempDir, write } from '@dstack/git/testing'
import type { Repo } from '../../src/types.ts'

export { cleanup, write } from '@dstack/git/testing'

/** Runs git with a fixed identity and default branch; returns trimmed stdout. `env` adds variables (dates). */
export function git(cwd: string, args: string[], env: Record<string, string> = {}): string {
  return gitWith(env, cwd, ...args)
}

/** A fresh directory under the OS temp dir, symlinks resolved, removed by `cleanup()`. */
export function tempDir(prefix = 'dstack-fleet-'): string {
  return testTempDir(prefix)
}

/** `date` as git reads it from GIT_AUTHOR_DATE / GIT_COMMITTER_DATE. */
export function gitDate(date: Date): string {
  return `@${Math.floor(date.getTime() / 1000)} +0000`
}

/** Writes files, stages everything and commits (dated `at` when given); returns the new commit's sha. */
export function commit(root: string, message: string, files: Record<string, string> = {}, at?: Date): string {
  write(root, files)
  git(root, ['add', '-A'])
  const env: Record<string, string> = at
    ? { GIT_AUTHOR_DATE: gitDate(at), GIT_COMMITTER_DATE: gitDate(at) }
    : {}
  git(root, ['commit', '-q', '--allow-empty', '-m', message], env)
  return git(root, ['rev-parse', 'HEAD'])
}

export const head = (root: string): string => git(root, ['rev-parse', 'HEAD'])

/** Every ref of a (bare) repository with its sha, one `<sha> <ref>` line each: a fingerprint to compare. */
export function refs(root: string): string {
  return git(root, ['for-each-ref', '--format=%(objectname) %(refname)'])
}

/** A repository's parts: its Repo record, where it lives, and its bare remote (null for a local-only repo). */
export interface Fixture {
  repo: Repo
  root: string
  remote: string | null
}

/** A fleet of repositories under one temp dir. */
export class Fleet {
  readonly dir = tempDir()
  private clones = 0

  /** An empty repository on `main` with no remote. */
  init(id: string): Fixture {
    const root = join(this.dir, id)
    mkdirSync(root, { recursive: true })
    git(root, ['init', '-q'])
    return { repo: this.repoOf(id, root), root, remote: null }
  }

  /** A repository with one commit (`README.md`) and no remote. */
  local(id: string, files: Record<string, string> = { 'README.md': `# ${id}\n` }): Fixture {
    const fixture = this.init(id)
    commit(fixture.root, 'initial', files)
    return fixture
  }

  /** A bare remote seeded with one commit on main and a clone of it tracking origin/main. */
  cloned(id: string, files: Record<string, string> = { 'README.md': `# ${id}\n` }): Fixture {
    const remote = join(this.dir, 'remotes', `${id}.git`)
    mkdirSync(remote, { recursive: true })
    git(remote, ['init', '-q', '--bare', '-b', 'main'])
    const seed = join(this.dir, 'seeds', id)
    mkdirSync(seed, { recursive: true })
    git(seed, ['init', '-q'])
    commit(seed, 'initial', files)
    git(seed, ['push', '-q', remote, 'main'])
    const root = join(this.dir, id)
    git(this.dir, ['clone', '-q', remote, root])
    return { repo: this.repoOf(id, root), root, remote }
  }

  /** Pushes `count` new commits to the remote's `branch` from another clone, so `fixture` falls behind. */
  advanceRemote(fixture: Fixture, count: number, branch = 'main'): string {
    if (fixture.remote === null) throw new Error(`${fixture.repo.id} has no remote`)
    const other = join(this.dir, 'others', `${basename(fixture.root)}-${++this.clones}`)
    git(this.dir, ['clone', '-q', '-b', branch, fixture.remote, other])
    for (let i = 0; i < count; i++) commit(other, `upstream ${i}`, { [`upstream-${i}.txt`]: `${i}\n` })
    git(other, ['push', '-q', 'origin', branch])
    rmSync(other, { recursive: true, force: true })
    return git(fixture.remote, ['rev-parse', branch])
  }

  private repoOf(id: string, root: string): Repo {
    return { id, root, canonical: `local:${root}` }
  }
}

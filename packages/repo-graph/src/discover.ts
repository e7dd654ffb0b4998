import { type Dirent, readdirSync, statSync } from 'node:fs'
import { basename, join, relative, resolve, sep } from 'node:path'
import { findRepo, readRepoIdentity } from '@dstack/git'
import picomatch from 'picomatch'
import { z } from 'zod'
import { GENERATED_DIRS, realpathOrNull } from './fs.ts'
import type { Problem, Repo } from './types.ts'

/** Directories never searched for repositories: dependency caches and build output hold thousands of folders. */
export const DEFAULT_IGNORE = [...GENERATED_DIRS]

export const discoverOptionsSchema = z.strictObject({
  /** How many directory levels below each root to look; the root itself is level 0. Default 3. */
  depth: z.number().int().min(0).max(32).default(3),
  /** Directory names or globs (matched against the path relative to the root) not to descend into. */
  ignore: z.array(z.string().min(1)).default(DEFAULT_IGNORE),
  /** Also look inside repositories for nested ones (vendored checkouts, submodules). Default false. */
  nested: z.boolean().default(false),
})

export type DiscoverOptions = z.input<typeof discoverOptionsSchema>

export interface Discovery {
  repos: Repo[]
  /** Roots or directories that could not be read. */
  problems: Problem[]
}

/**
 * Finds the git working trees under `roots` (a directory with a `.git` directory or file), breadth first, up to
 * `depth` levels. Symlinked directories are followed, but each real directory is visited once, so a link to a
 * sibling, a link loop or two roots that overlap never list a repository twice. A repository's id is its path
 * relative to its root; a root that is itself a repository gets its directory name.
 *
 * @example
 * const { repos } = discoverRepos(['/opt'], { depth: 2 })
 * // [{ id: 'ares', root: '/opt/ares', canonical: 'github.com/dirmacs/ares' }, …]
 */
export function discoverRepos(roots: readonly string[], options: DiscoverOptions = {}): Discovery {
  const { depth, ignore, nested } = discoverOptionsSchema.parse(options)
  const ignored = picomatch(ignore, { dot: true })
  const seen = new Set<string>()
  const repos: Repo[] = []
  const problems: Problem[] = []
  const ids = new Set<string>()

  for (const given of roots) {
    const root = realpathOrNull(resolve(given))
    if (root === null || !statSync(root, { throwIfNoEntry: false })?.isDirectory()) {
      problems.push(unreadable(resolve(given), 'is not a directory'))
      continue
    }
    // Each entry is the path as reached from the root (names the repository) and its real path (visited once).
    let level: Array<{ path: string; real: string }> = [{ path: root, real: root }]
    for (let d = 0; d <= depth && level.length > 0; d++) {
      const next: typeof level = []
      // Links after real directories, so a repository reached both ways is named by its real path.
      const links: typeof level = []
      for (const { path: dir, real } of level) {
        if (seen.has(real)) continue
        seen.add(real)
        let entries: Dirent[]
        try {
          entries = readdirSync(real, { withFileTypes: true })
        } catch (error) {
          problems.push(unreadable(dir, (error as Error).message))
          continue
        }
        // A .git file must point at a git dir that exists (a moved worktree's does not): git itself refuses those.
        const isRepo =
          entries.some((e) => e.name === '.git' && (e.isDirectory() || e.isFile())) &&
          findRepo(real)?.root === real
        if (isRepo) {
          const rel = relative(root, dir)
          let id = rel === '' ? basename(dir) : rel.split(sep).join('/')
          if (ids.has(id)) id = `${basename(root)}/${id}`
          ids.add(id)
          const identity = readRepoIdentity(real)
          repos.push({ id, root: real, canonical: identity?.canonical ?? `local:${real}` })
          if (!nested) continue
        }
        if (d === depth) continue
        entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
        for (const entry of entries) {
          if (entry.name === '.git') continue
          const path = join(dir, entry.name)
          const rel = relative(root, path).split(sep).join('/')
          if (ignored(entry.name) || ignored(rel)) continue
          if (entry.isDirectory()) next.push({ path, real: join(real, entry.name) })
          else if (entry.isSymbolicLink()) {
            const target = realpathOrNull(join(real, entry.name))
            if (target !== null && statSync(target, { throwIfNoEntry: false })?.isDirectory())
              links.push({ path, real: target })
          }
        }
      }
      level = [...next, ...links]
    }
  }
  repos.sort((a, b) => a.id.localeCompare(b.id))
  return { repos, problems }
}

function unreadable(file: string, message: string): Problem {
  return { kind: 'unreadable', message: `${file}: ${message}`, source: { file, line: null } }
}

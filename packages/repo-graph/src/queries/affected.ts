import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path'
import { uncommittedFiles, unpushedFiles } from '@dstack/git'
import { realpathOrNull } from '../fs.ts'
import { mapPool } from '../pool.ts'
import type { DependencyScope, PackageNode, Repo, RepoGraph } from '../types.ts'
import { GraphIndex } from './index-graph.ts'

/** What changed: repositories (every package in them), packages (ids or names), or files (absolute paths). */
export interface ChangeSet {
  repos?: readonly string[]
  packages?: readonly string[]
  files?: readonly string[]
}

export interface AffectedPackage {
  id: string
  repo: string
  /** 0 for a changed package, 1 for its direct dependents, and so on (shortest distance). */
  depth: number
  /** Package ids from a changed package to this one, following "is depended on by"; `[id]` for a changed one. */
  via: string[]
}

export interface Affected {
  /** Ids of the packages the change set names directly. */
  changed: string[]
  /** The changed packages and everything that depends on them, transitively; nearest first. */
  packages: AffectedPackage[]
  /** Repositories holding an affected package, or a changed file outside any package. */
  repos: string[]
  /** Files under no repository of the graph, and selectors that name nothing. */
  unmatched: string[]
}

/**
 * The reverse transitive closure of a change: the changed packages and every package that depends on one of them,
 * directly or through others, each with its distance and the chain that reaches it. A file maps to the package
 * whose directory holds it most closely (every package of that directory); a file in a repository but outside all
 * of its packages marks only the repository.
 *
 * @example
 * affected(graph, { repos: ['dirmacs-core'] }).packages
 * // [{ id: 'cargo:dirmacs-core', depth: 0, via: ['cargo:dirmacs-core'] },
 * //  { id: 'cargo:ares', depth: 1, via: ['cargo:dirmacs-core', 'cargo:ares'] }, …]
 */
export function affected(
  graph: RepoGraph,
  changes: ChangeSet,
  options: { scopes?: readonly DependencyScope[] } = {},
): Affected {
  const index = new GraphIndex(graph, options.scopes)
  const unmatched: string[] = []
  const changed = new Map<string, PackageNode>()
  const repos = new Set<string>()

  const named = index.select([...(changes.repos ?? []), ...(changes.packages ?? [])])
  unmatched.push(...named.unknown)
  for (const node of named.packages) changed.set(node.id, node)
  for (const id of changes.repos ?? []) if (graph.repos.some((r) => r.id === id)) repos.add(id)

  const byRepo = new Map<string, PackageNode[]>()
  for (const node of graph.packages) byRepo.set(node.repo, [...(byRepo.get(node.repo) ?? []), node])
  for (const file of changes.files ?? []) {
    const path = realLocation(resolve(file))
    const repo = repoOf(graph.repos, path)
    if (!repo) {
      unmatched.push(file)
      continue
    }
    repos.add(repo.id)
    for (const node of owners(byRepo.get(repo.id) ?? [], path)) changed.set(node.id, node)
  }

  // Breadth first over dependents: the first visit is the shortest chain.
  const result = new Map<string, AffectedPackage>()
  let frontier = [...changed.values()].sort((a, b) => a.id.localeCompare(b.id))
  for (const node of frontier) result.set(node.id, { id: node.id, repo: node.repo, depth: 0, via: [node.id] })
  for (let depth = 1; frontier.length > 0; depth++) {
    const next: PackageNode[] = []
    for (const node of frontier) {
      const chain = result.get(node.id)!.via
      for (const edge of index.dependents.get(node.id) ?? []) {
        if (result.has(edge.from)) continue
        const dependent = index.nodes.get(edge.from)!
        result.set(dependent.id, {
          id: dependent.id,
          repo: dependent.repo,
          depth,
          via: [...chain, dependent.id],
        })
        next.push(dependent)
      }
    }
    frontier = next
  }
  for (const a of result.values()) repos.add(a.repo)
  return {
    changed: [...changed.keys()].sort(),
    packages: [...result.values()],
    repos: [...repos].sort(),
    unmatched,
  }
}

/** `path` with symlinks resolved, as repository roots are; the file itself may be gone (a deletion is a change). */
function realLocation(path: string): string {
  const real = realpathOrNull(path)
  if (real !== null) return real
  const parent = dirname(path)
  return parent === path ? path : join(realLocation(parent), basename(path))
}

function repoOf(repos: readonly Repo[], path: string): Repo | undefined {
  let best: Repo | undefined
  for (const repo of repos)
    if (inside(repo.root, path) && (!best || repo.root.length > best.root.length)) best = repo
  return best
}

function inside(dir: string, path: string): boolean {
  const rel = relative(dir, path)
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel))
}

/** The packages whose directory is the deepest one holding `path`. */
function owners(packages: readonly PackageNode[], path: string): PackageNode[] {
  const holding = packages.filter((p) => inside(p.dir, path))
  const deepest = Math.max(...holding.map((p) => p.dir.length))
  return holding.filter((p) => p.dir.length === deepest)
}

/**
 * The files changed in each repository, as absolute paths: uncommitted files plus the files of the commits a push
 * would send (or, with `base`, everything changed since that commit-ish). A repository with nothing to compare with
 * (no remote, no base) counts only its uncommitted files. Repositories run in parallel; one that
 * git cannot read, or where `base` does not resolve, is reported in `errors` and the rest still count.
 *
 * @example
 * const { files } = await changedFiles(graph.repos)
 * affected(graph, { files })
 */
export async function changedFiles(
  repos: readonly Repo[],
  options: { base?: string; concurrency?: number } = {},
): Promise<{ files: string[]; errors: Array<{ repo: string; message: string }> }> {
  const errors: Array<{ repo: string; message: string }> = []
  const perRepo = await mapPool(repos, options.concurrency ?? 8, async (repo) => {
    try {
      const [dirty, unpushed] = await Promise.all([
        uncommittedFiles(repo.root),
        unpushedFiles(repo.root, { base: options.base }),
      ])
      const rel = new Set([...dirty, ...unpushed.map((f) => f.path)])
      return [...rel].map((p) => resolve(repo.root, p))
    } catch (error) {
      errors.push({ repo: repo.id, message: (error as Error).message })
      return []
    }
  })
  return { files: perRepo.flat().sort(), errors }
}

/**
 * The change a command means: what it names (repositories, packages, files relative to `cwd`), or, when it names
 * nothing, what git says changed in every repository (`changedFiles`). Repositories git could not read are in
 * `gitErrors`; the rest still count.
 *
 * @example
 * const { changes, gitErrors } = await resolveChanges(graph, { repos: flags.repo })
 * affected(graph, changes)
 */
export async function resolveChanges(
  graph: RepoGraph,
  named: ChangeSet,
  options: { base?: string; cwd?: string } = {},
): Promise<{ changes: ChangeSet; gitErrors: Array<{ repo: string; message: string }> }> {
  const files = named.files?.map((f) => resolve(options.cwd ?? process.cwd(), f))
  if (named.repos?.length || named.packages?.length || files?.length)
    return { changes: { ...named, files }, gitErrors: [] }
  const fromGit = await changedFiles(graph.repos, { base: options.base })
  return { changes: { files: fromGit.files }, gitErrors: fromGit.errors }
}

/**
 * For each repository, the other repositories that depend on it, directly or through others: "4 repositories depend
 * on it". One pass over the repository-level graph per repository.
 *
 * @example
 * dependentRepos(graph).get('dirmacs-core') // ['ares', 'ehb', 'eruka']
 */
export function dependentRepos(graph: RepoGraph): Map<string, string[]> {
  const repoOf = new Map(graph.packages.map((p) => [p.id, p.repo]))
  const users = new Map<string, Set<string>>(graph.repos.map((r) => [r.id, new Set()]))
  for (const edge of graph.edges) {
    const from = repoOf.get(edge.from)!
    const to = repoOf.get(edge.to)!
    if (from !== to) users.get(to)?.add(from)
  }
  const result = new Map<string, string[]>()
  for (const { id } of graph.repos) {
    const seen = new Set<string>([id])
    const queue = [id]
    for (let i = 0; i < queue.length; i++)
      for (const user of users.get(queue[i]!) ?? [])
        if (!seen.has(user)) {
          seen.add(user)
          queue.push(user)
        }
    seen.delete(id)
    result.set(id, [...seen].sort())
  }
  return result
}

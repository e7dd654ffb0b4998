import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { basename, dirname, join, relative, resolve, sep } from 'node:path'
import { canonicalRemote } from '@dstack/git'
import picomatch from 'picomatch'
import { z } from 'zod'
import { discoverOptionsSchema, discoverRepos } from './discover.ts'
import { realpathOrNull } from './fs.ts'
import { findManifests, MANIFESTS, PACKAGE_MANIFEST } from './manifests/index.ts'
import type { DeclaredDep, ParsedManifest } from './manifests/types.ts'
import {
  type Ecosystem,
  type Edge,
  type EdgeKind,
  GRAPH_SCHEMA,
  type PackageNode,
  type Problem,
  type Repo,
  type RepoGraph,
} from './types.ts'

export const graphOptionsSchema = discoverOptionsSchema.extend({
  /** Directories to search for repositories. */
  roots: z.array(z.string().min(1)).min(1),
  /** How deep inside each repository to look for manifests (nested workspaces); default 6. */
  manifestDepth: z.number().int().min(0).max(32).default(6),
  /** Where parsed manifests are cached by mtime and size; null (default) reads every manifest. */
  cacheFile: z.string().min(1).nullable().default(null),
})

export type GraphOptions = z.input<typeof graphOptionsSchema>

const CACHE_VERSION = 1

interface CacheEntry {
  mtimeMs: number
  size: number
  manifest: ParsedManifest
}

/** Parsed manifests by file, reused while a file's mtime and size are unchanged. */
class ManifestCache {
  readonly #entries: Map<string, CacheEntry>
  readonly #used = new Map<string, CacheEntry>()
  #changed = false
  readonly file: string | null

  constructor(file: string | null) {
    this.file = file
    this.#entries = new Map(file ? readCache(file) : [])
  }

  read(path: string): ParsedManifest {
    const st = statSync(path, { throwIfNoEntry: false })
    const hit = this.#entries.get(path)
    if (st && hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) {
      this.#used.set(path, hit)
      return hit.manifest
    }
    let manifest: ParsedManifest
    try {
      // A byte-order mark is legal in all of these files (npm and go accept it); the parsers need not know.
      manifest = MANIFESTS[basename(path)]!.parse(readFileSync(path, 'utf8').replace(/^\uFEFF/, ''), path)
    } catch (error) {
      manifest = {
        file: path,
        ecosystem: MANIFESTS[basename(path)]!.ecosystem,
        package: null,
        workspace: null,
        inherited: {},
        problems: [
          { kind: 'unreadable', message: (error as Error).message, source: { file: path, line: null } },
        ],
      }
    }
    if (st) this.#used.set(path, { mtimeMs: st.mtimeMs, size: st.size, manifest })
    this.#changed = true
    return manifest
  }

  /** Writes the entries used by this build (so deleted manifests drop out), atomically; a failure costs only speed. */
  save(): void {
    if (!this.file || (!this.#changed && this.#used.size === this.#entries.size)) return
    try {
      mkdirSync(dirname(this.file), { recursive: true })
      const temp = `${this.file}.${process.pid}.tmp`
      writeFileSync(temp, JSON.stringify({ version: CACHE_VERSION, entries: Object.fromEntries(this.#used) }))
      renameSync(temp, this.file)
    } catch {
      // A read-only or full disk: the next build parses again.
    }
  }
}

function readCache(file: string): Array<[string, CacheEntry]> {
  try {
    const data = JSON.parse(readFileSync(file, 'utf8')) as {
      version?: number
      entries?: Record<string, CacheEntry>
    }
    return data.version === CACHE_VERSION && data.entries ? Object.entries(data.entries) : []
  } catch {
    return [] // missing or corrupt: start over
  }
}

interface Loaded {
  repo: Repo
  dir: string
  manifest: ParsedManifest
  node: PackageNode | null
}

interface Workspace {
  ecosystem: Ecosystem
  dir: string
  manifest: ParsedManifest
  members: Set<PackageNode>
}

const real = (path: string) => realpathOrNull(path) ?? path

const key = (ecosystem: Ecosystem, value: string) => `${ecosystem}\0${value}`

/**
 * Builds the dependency graph of every repository under `roots`: discovers the working trees, reads their manifests
 * statically (no network, no package manager), makes one node per package and one edge per dependency that points
 * into the fleet, each with the manifest line that creates it. Dependencies on packages outside the fleet are left
 * out; broken manifests, dangling paths and ambiguous names are listed in `problems`, never thrown.
 *
 * @example
 * const graph = await buildGraph({ roots: ['/opt'], cacheFile: '/home/me/.dstack/cache/repo-graph.json' })
 * graph.edges[0] // { from: 'cargo:ares', to: 'cargo:dirmacs-core', kind: 'path', scope: 'normal',
 *                //   spec: 'dirmacs-core = { path = "../dirmacs-core" }', source: { file: '/opt/ares/Cargo.toml', line: 9 } }
 */
export async function buildGraph(options: GraphOptions): Promise<RepoGraph> {
  const { roots, manifestDepth, cacheFile, ...discover } = graphOptionsSchema.parse(options)
  const { repos, problems } = discoverRepos(roots, discover)
  const cache = new ManifestCache(cacheFile)

  const loaded: Loaded[] = []
  for (const repo of repos)
    for (const file of findManifests(repo.root, manifestDepth)) {
      const manifest = cache.read(file)
      problems.push(...manifest.problems)
      loaded.push({ repo, dir: dirname(file), manifest, node: null })
    }
  cache.save()

  const packages = createNodes(loaded)
  const resolver = new Resolver(loaded, repos, problems)
  const edges = resolver.edges()
  return {
    schema: GRAPH_SCHEMA,
    roots: roots.map((r) => resolve(r)),
    repos,
    packages: packages.sort((a, b) => a.id.localeCompare(b.id)),
    edges,
    problems,
  }
}

/** One node per declared package; a name two repositories share gets `@<repo>` (and the directory, if needed). */
function createNodes(loaded: Loaded[]): PackageNode[] {
  const count = new Map<string, number>()
  for (const l of loaded) {
    if (!l.manifest.package) continue
    const id = `${l.manifest.ecosystem}:${l.manifest.package.name}`
    count.set(id, (count.get(id) ?? 0) + 1)
  }
  const taken = new Set<string>()
  const nodes: PackageNode[] = []
  for (const l of loaded) {
    const pkg = l.manifest.package
    if (!pkg) continue
    const base = `${l.manifest.ecosystem}:${pkg.name}`
    let id = count.get(base) === 1 ? base : `${base}@${l.repo.id}`
    if (taken.has(id)) id = `${base}@${l.repo.id}/${relative(l.repo.root, l.dir).split(sep).join('/')}`
    taken.add(id)
    l.node = {
      id,
      ecosystem: l.manifest.ecosystem,
      name: pkg.name,
      version: pkg.version,
      repo: l.repo.id,
      dir: l.dir,
      manifest: l.manifest.file,
    }
    nodes.push(l.node)
  }
  return nodes
}

/** Turns declared dependencies into edges between fleet packages. */
class Resolver {
  readonly #byDir = new Map<string, PackageNode>()
  readonly #byName = new Map<string, PackageNode[]>()
  readonly #byRemote = new Map<string, Repo[]>()
  readonly #workspaceOf = new Map<PackageNode, Workspace>()
  readonly loaded: Loaded[]
  readonly problems: Problem[]

  constructor(loaded: Loaded[], repos: Repo[], problems: Problem[]) {
    this.loaded = loaded
    this.problems = problems
    for (const { node } of loaded) {
      if (!node) continue
      this.#byDir.set(key(node.ecosystem, node.dir), node)
      const list = this.#byName.get(key(node.ecosystem, node.name)) ?? []
      list.push(node)
      this.#byName.set(key(node.ecosystem, node.name), list)
    }
    for (const repo of repos) {
      const list = this.#byRemote.get(repo.canonical) ?? []
      list.push(repo)
      this.#byRemote.set(repo.canonical, list)
    }
    for (const ws of this.#workspaces()) for (const member of ws.members) this.#workspaceOf.set(member, ws)
  }

  /** Workspace roots with their member packages; a literal member path that holds no package is a problem. */
  #workspaces(): Workspace[] {
    const list: Workspace[] = []
    for (const { manifest, dir, repo } of this.loaded) {
      const declared = manifest.workspace
      if (!declared) continue
      const rel = (p: string) => p.replace(/^\.\//, '').replace(/\/+$/, '') || '.'
      const include = picomatch(declared.members.map(rel), { dot: false })
      const exclude = declared.exclude.length > 0 ? picomatch(declared.exclude.map(rel)) : () => false
      const members = new Set<PackageNode>()
      for (const { node } of this.loaded) {
        if (!node || node.ecosystem !== manifest.ecosystem || node.repo !== repo.id) continue
        const path = relative(dir, node.dir).split(sep).join('/') || '.'
        if (path.startsWith('..')) continue
        if (path === '.' || (include(path) && !exclude(path))) members.add(node)
      }
      for (const member of declared.members) {
        if (/[*?[{]/.test(member)) continue
        if (!this.#byDir.has(key(manifest.ecosystem, real(resolve(dir, member)))))
          this.problems.push({
            kind: 'dangling',
            message: `workspace member ${member} holds no ${PACKAGE_MANIFEST[manifest.ecosystem]}`,
            source: { file: manifest.file, line: declared.line },
          })
      }
      list.push({ ecosystem: manifest.ecosystem, dir, manifest, members })
    }
    // Nested workspaces: a package belongs to the innermost one, so visit outer roots first.
    return list.sort((a, b) => a.dir.length - b.dir.length)
  }

  edges(): Edge[] {
    const seen = new Set<string>()
    const edges: Edge[] = []
    for (const { manifest, dir, node } of this.loaded) {
      if (!node || !manifest.package) continue
      for (const dep of manifest.package.deps) {
        const target = this.#resolve(node, dir, dep)
        if (!target || target.node === node) continue
        const id = `${node.id}\0${target.node.id}\0${target.kind}\0${dep.scope}`
        if (seen.has(id)) continue
        seen.add(id)
        edges.push({
          from: node.id,
          to: target.node.id,
          kind: target.kind,
          scope: dep.scope,
          spec: target.spec ?? dep.raw,
          source: { file: manifest.file, line: dep.line },
        })
      }
    }
    return edges.sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to))
  }

  #resolve(
    from: PackageNode,
    dir: string,
    dep: DeclaredDep,
  ): { node: PackageNode; kind: EdgeKind; spec?: string } | null {
    const ws = this.#workspaceOf.get(from)
    const sameWorkspace = (node: PackageNode) => ws !== undefined && this.#workspaceOf.get(node) === ws
    switch (dep.spec.type) {
      case 'path': {
        if (/\.(tgz|tar\.gz|whl|zip)$/.test(dep.spec.path)) return null // an archive, not a checkout
        const node = this.#byDir.get(key(from.ecosystem, real(resolve(dir, dep.spec.path))))
        if (node) return { node, kind: 'path' }
        this.#problem(
          from,
          dep,
          'dangling',
          `${dep.name} → ${dep.spec.path}: no ${PACKAGE_MANIFEST[from.ecosystem]} there`,
        )
        return null
      }
      case 'git': {
        const url = dep.spec.url
        for (const repo of this.#byRemote.get(canonicalRemote(url, dir)) ?? []) {
          const inRepo = this.loaded.filter((l) => l.node?.ecosystem === from.ecosystem && l.repo === repo)
          const node =
            inRepo.find((l) => l.node!.name === dep.name)?.node ??
            (inRepo.length === 1 ? inRepo[0]!.node : null)
          if (node) return { node, kind: 'git' }
        }
        return null // a repository outside the fleet
      }
      case 'workspace': {
        if (from.ecosystem === 'cargo') return this.#inherited(from, dep, ws)
        const node = this.#named(from, dep, (n) => sameWorkspace(n) || n.repo === from.repo)
        if (node) return { node, kind: 'workspace' }
        this.#problem(
          from,
          dep,
          'dangling',
          `${dep.name} is taken from the workspace, but no member has that name`,
        )
        return null
      }
      case 'registry': {
        const node = this.#named(from, dep, () => true)
        return node ? { node, kind: sameWorkspace(node) ? 'workspace' : 'registry' } : null
      }
    }
  }

  /** Cargo `x = { workspace = true }`: the spec comes from the workspace root's `[workspace.dependencies]`. */
  #inherited(from: PackageNode, dep: DeclaredDep, ws: Workspace | undefined) {
    const declared = ws?.manifest.inherited[dep.name]
    if (!ws || !declared) {
      this.#problem(
        from,
        dep,
        'invalid',
        `${dep.name} = { workspace = true }, but no [workspace.dependencies] entry declares it`,
      )
      return null
    }
    const target = this.#resolve(from, ws.dir, declared)
    return target
      ? { node: target.node, kind: 'workspace' as const, spec: `${dep.raw} → ${declared.raw}` }
      : null
  }

  /** The fleet package named like `dep`: the only one, else the one in the same repository; ambiguity is a problem. */
  #named(from: PackageNode, dep: DeclaredDep, allowed: (node: PackageNode) => boolean): PackageNode | null {
    const candidates = (this.#byName.get(key(from.ecosystem, dep.name)) ?? []).filter(allowed)
    if (candidates.length <= 1) return candidates[0] ?? null
    const local = candidates.filter((n) => n.repo === from.repo)
    if (local.length === 1) return local[0]!
    this.#problem(
      from,
      dep,
      'ambiguous',
      `${dep.name} matches ${candidates.length} packages (${candidates.map((c) => c.id).join(', ')}); no edge made`,
    )
    return null
  }

  #problem(from: PackageNode, dep: DeclaredDep, kind: Problem['kind'], message: string): void {
    this.problems.push({ kind, message, source: { file: from.manifest, line: dep.line } })
  }
}

/**
 * Where `dstack` keeps the parse cache for a set of roots: one file per set, under `<home>/cache/repo-graph/`.
 *
 * @example
 * defaultCacheFile('/home/me/.dstack', ['/opt']) // '/home/me/.dstack/cache/repo-graph/3f1c…json'
 */
export function defaultCacheFile(home: string, roots: readonly string[]): string {
  const id = createHash('sha256')
    .update(roots.map((r) => resolve(r)).join('\0'))
    .digest('hex')
    .slice(0, 16)
  return join(home, 'cache', 'repo-graph', `${id}.json`)
}

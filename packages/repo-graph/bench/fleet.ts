// A deterministic fleet of sibling git repositories for the repo-graph bench (RG-1 and RG-2 in
// shared/reference/peers-graph-deploy-browser.md §5.1), and the ground truth to score buildGraph and affected against.
//
// Mix (by repository): 40% Cargo, 30% npm, 20% Go, 10% Python.
//   - Cargo: single crates with path deps `{ path = "../x" }`, git deps `{ git = "<x's origin>" }` (the origin and the
//     dependency are written in different URL forms: scp-like, https with and without .git, ssh://), registry deps on
//     fleet crate names (`x = "0.1"`), dev and build sections; some workspaces (explicit or globbed members, a root
//     package in some) whose members use `x = { workspace = true }` / `x.workspace = true`.
//   - npm: `file:../x` and `link:../x` deps, registry ranges on fleet names, dev deps, scoped names; some pnpm
//     workspaces (pnpm-workspace.yaml, `workspace:*|^|~`) and some package.json `workspaces` (yarn `workspace:^`).
//   - Go: `require` blocks and single lines with `replace example.com/fleet/x => ../x` (block and single-line); some
//     fleet modules required without a replace (registry edges).
//   - Python: PEP 621 dependencies and optional-dependencies with `[tool.uv.sources] x = { path = "../x" }`; some uv
//     workspaces (`[tool.uv.workspace] members = ["packages/*"]`, `{ workspace = true }` sources).
// Every package also depends on a few outside libraries (serde, react, testify, requests) that must not become edges.
// Dependencies only point at earlier repositories (a DAG), plus three deliberate cycles (a Cargo 2-cycle, an npm
// 3-cycle, a Go 2-cycle) and five dangling local paths. Each repository is a real git repo with one commit and an
// origin remote; a fraction get scripted git states (dirty, untracked, upstream equal/ahead/behind, detached).

import { spawn } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { dirname, join } from 'node:path'
import { prng } from '../../../bench/harness.ts'

export type Ecosystem = 'cargo' | 'npm' | 'go' | 'python'
export type EdgeKind = 'path' | 'git' | 'workspace' | 'registry'
export type Scope = 'normal' | 'dev' | 'build' | 'peer' | 'optional'
export type GitStateScript = 'clean' | 'dirty' | 'untracked' | 'upstream' | 'ahead' | 'behind' | 'detached'

export interface FleetOptions {
  repos: number
  seed: number
  /** Parallel `git` setups; default 2 × available parallelism. */
  concurrency?: number
}

export interface FleetRepo {
  /** Directory name under the fleet root (= the Repo.id buildGraph should give it). */
  id: string
  root: string
  ecosystem: Ecosystem
  /** The URL written as `origin`. */
  remote: string
  workspace: boolean
  state: GitStateScript
}

export interface FleetPackage {
  /** `<ecosystem>:<name>`. */
  key: string
  ecosystem: Ecosystem
  name: string
  repo: string
  dir: string
  manifest: string
  /** A source file in the package's directory (for file change sets). */
  sourceFile: string
  /** Manifest carries a literal `version = "0.1.0"` / `"version": "0.1.0"` (safe to bump for the incremental run). */
  explicitVersion: boolean
}

export interface TruthEdge {
  /** FleetPackage.key of the dependent. */
  from: string
  /** FleetPackage.key of the dependency. */
  to: string
  kind: EdgeKind
  scope: Scope
  /** True for the edge that closes a deliberate cycle. */
  closesCycle: boolean
}

export interface DanglingDependency {
  from: string
  spec: string
  manifest: string
}

export interface Fleet {
  dir: string
  seed: number
  repos: FleetRepo[]
  packages: FleetPackage[]
  edges: TruthEdge[]
  /** Package keys along each deliberate cycle. */
  cycles: string[][]
  dangling: DanglingDependency[]
  /** Wall time of writing the files and of the git setup, ms. */
  timings: { files: number; git: number }
}

// ---------------------------------------------------------------------------------------------------------------
// Randomness
// ---------------------------------------------------------------------------------------------------------------

type Random = () => number
const pick = <T>(rng: Random, items: readonly T[]): T => items[Math.floor(rng() * items.length)]!
const int = (rng: Random, lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1))

function shuffle<T>(rng: Random, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1))
    ;[items[i], items[j]] = [items[j]!, items[i]!]
  }
  return items
}

const WORDS = [
  'core',
  'util',
  'net',
  'store',
  'auth',
  'cli',
  'api',
  'log',
  'cfg',
  'cache',
  'queue',
  'sched',
  'codec',
  'proto',
  'metrics',
  'trace',
  'db',
  'http',
  'fs',
  'crypto',
  'sync',
  'task',
  'mail',
  'search',
  'geo',
  'img',
]
const PREFIX: Record<Ecosystem, string> = { cargo: 'rs', npm: 'js', go: 'go', python: 'py' }

// ---------------------------------------------------------------------------------------------------------------
// The model (rendered to files afterwards, so cycle edges can be added to earlier manifests)
// ---------------------------------------------------------------------------------------------------------------

type PackageShape =
  | 'cargo-crate'
  | 'cargo-member'
  | 'cargo-root'
  | 'npm-package'
  | 'npm-member'
  | 'go-module'
  | 'py-project'
  | 'py-member'
  | 'py-root'

interface Dep {
  /** Target package (fleet) or null for a dangling local path. */
  target: ModelPackage | null
  kind: EdgeKind
  scope: Scope
  closesCycle: boolean
  /** For dangling deps: the name and the directory it points at (relative to the repo root's parent). */
  danglingName?: string
  /** Variant index for how the dependency is written. */
  style: number
}

interface ModelPackage {
  key: string
  ecosystem: Ecosystem
  name: string
  repo: ModelRepo
  /** Directory relative to the repo root ('' = the root). */
  rel: string
  shape: PackageShape
  deps: Dep[]
  /** Index in creation order within its ecosystem (the DAG order). */
  order: number
}

interface ModelRepo {
  id: string
  ecosystem: Ecosystem
  index: number
  remote: string
  workspace: 'none' | 'cargo-virtual' | 'cargo-rooted' | 'pnpm' | 'yarn' | 'uv'
  globMembers: boolean
  packages: ModelPackage[]
  state: GitStateScript
}

const GO_HOST = 'example.com/fleet'

function originUrl(id: string, variant: number): string {
  return variant % 2 === 0 ? `git@github.com:fleet/${id}.git` : `https://github.com/fleet/${id}.git`
}

/** The URL a Cargo git dependency writes for `id`: a different spelling of the same repository. */
function cargoGitUrl(id: string, style: number): string {
  switch (style % 3) {
    case 0:
      return `https://github.com/fleet/${id}`
    case 1:
      return `https://github.com/fleet/${id}.git`
    default:
      return `ssh://git@github.com/fleet/${id}.git`
  }
}

function buildModel(count: number, seed: number): { repos: ModelRepo[]; cycles: ModelPackage[][] } {
  const rng = prng(seed)
  const cargo = Math.round(count * 0.4)
  const npm = Math.round(count * 0.3)
  const go = Math.round(count * 0.2)
  const ecosystems: Ecosystem[] = shuffle(rng, [
    ...Array<Ecosystem>(cargo).fill('cargo'),
    ...Array<Ecosystem>(npm).fill('npm'),
    ...Array<Ecosystem>(go).fill('go'),
    ...Array<Ecosystem>(count - cargo - npm - go).fill('python'),
  ])
  const states: GitStateScript[] = ['dirty', 'untracked', 'upstream', 'ahead', 'behind', 'detached']
  const pools: Record<Ecosystem, ModelPackage[]> = { cargo: [], npm: [], go: [], python: [] }
  const repos: ModelRepo[] = []

  const newPackage = (repo: ModelRepo, name: string, rel: string, shape: PackageShape): ModelPackage => {
    const pool = pools[repo.ecosystem]
    const pkg: ModelPackage = {
      key: `${repo.ecosystem}:${name}`,
      ecosystem: repo.ecosystem,
      name,
      repo,
      rel,
      shape,
      deps: [],
      order: pool.length,
    }
    repo.packages.push(pkg)
    return pkg
  }

  /** Dependencies on packages of earlier repositories: mostly recent ones, some anywhere. */
  const externalTargets = (eco: Ecosystem): ModelPackage[] => {
    const pool = pools[eco]
    if (pool.length === 0) return []
    const n = pick(rng, [0, 1, 1, 2, 2, 2, 3, 3, 4])
    const chosen = new Set<ModelPackage>()
    for (let attempt = 0; chosen.size < n && attempt < n * 4; attempt++) {
      const recent = rng() < 0.7
      const lo = recent ? Math.max(0, pool.length - 40) : 0
      chosen.add(pool[int(rng, lo, pool.length - 1)]!)
    }
    return [...chosen]
  }

  const addExternalDeps = (pkg: ModelPackage) => {
    for (const target of externalTargets(pkg.ecosystem)) {
      const r = rng()
      let kind: EdgeKind
      let scope: Scope = 'normal'
      switch (pkg.ecosystem) {
        case 'cargo':
          kind = r < 0.68 ? 'path' : r < 0.92 ? 'git' : 'registry'
          if (kind === 'path')
            scope = pick(rng, ['normal', 'normal', 'normal', 'normal', 'dev', 'build'] as const)
          break
        case 'npm':
          kind = r < 0.88 ? 'path' : 'registry'
          scope = pick(rng, ['normal', 'normal', 'normal', 'dev'] as const)
          break
        case 'go':
          kind = r < 0.85 ? 'path' : 'registry'
          break
        default:
          kind = r < 0.88 ? 'path' : 'registry'
          if (kind === 'path' && rng() < 0.2) scope = 'optional'
      }
      pkg.deps.push({ target, kind, scope, closesCycle: false, style: int(rng, 0, 5) })
    }
  }

  for (let index = 0; index < count; index++) {
    const ecosystem = ecosystems[index]!
    const word = WORDS[index % WORDS.length]!
    const r = rng()
    let workspace: ModelRepo['workspace'] = 'none'
    if (ecosystem === 'cargo' && r < 0.12) workspace = rng() < 0.35 ? 'cargo-rooted' : 'cargo-virtual'
    if (ecosystem === 'npm' && r < 0.12) workspace = rng() < 0.3 ? 'yarn' : 'pnpm'
    if (ecosystem === 'python' && r < 0.12) workspace = 'uv'
    const suffix = workspace === 'none' ? word : 'ws'
    const id = `${PREFIX[ecosystem]}-${String(index).padStart(4, '0')}-${suffix}`
    const stateRoll = rng()
    const repo: ModelRepo = {
      id,
      ecosystem,
      index,
      remote: originUrl(id, index),
      workspace,
      globMembers: rng() < 0.5,
      packages: [],
      state: stateRoll < 0.5 ? 'clean' : states[Math.floor((stateRoll - 0.5) * 2 * states.length)]!,
    }
    repos.push(repo)

    if (workspace === 'none') {
      const name =
        ecosystem === 'go' ? `${GO_HOST}/${id}` : ecosystem === 'npm' && index % 3 === 0 ? `@fleet/${id}` : id
      const shape: PackageShape =
        ecosystem === 'cargo'
          ? 'cargo-crate'
          : ecosystem === 'npm'
            ? 'npm-package'
            : ecosystem === 'go'
              ? 'go-module'
              : 'py-project'
      const pkg = newPackage(repo, name, '', shape)
      addExternalDeps(pkg)
      pools[ecosystem].push(pkg)
      continue
    }

    // A workspace: 2-4 members; each may depend on earlier members (workspace edges) and on earlier repositories.
    const memberWords = shuffle(rng, [...WORDS]).slice(0, int(rng, 2, 4))
    const members: ModelPackage[] = []
    for (const w of memberWords) {
      const [name, rel, shape] =
        ecosystem === 'cargo'
          ? [`rs-${String(index).padStart(4, '0')}-${w}`, `crates/${w}`, 'cargo-member' as const]
          : ecosystem === 'npm'
            ? [`@js${String(index).padStart(4, '0')}/${w}`, `packages/${w}`, 'npm-member' as const]
            : [`py-${String(index).padStart(4, '0')}-${w}`, `packages/${w}`, 'py-member' as const]
      const pkg = newPackage(repo, name, rel, shape)
      for (const earlier of members)
        if (rng() < 0.6)
          pkg.deps.push({
            target: earlier,
            kind: 'workspace',
            scope: ecosystem === 'npm' && rng() < 0.25 ? 'dev' : 'normal',
            closesCycle: false,
            style: int(rng, 0, 5),
          })
      addExternalDeps(pkg)
      members.push(pkg)
    }
    if (workspace === 'cargo-rooted' || workspace === 'uv') {
      const shape = workspace === 'uv' ? ('py-root' as const) : ('cargo-root' as const)
      const root = newPackage(repo, id, '', shape)
      for (const member of members)
        if (rng() < 0.7)
          root.deps.push({ target: member, kind: 'workspace', scope: 'normal', closesCycle: false, style: 0 })
      addExternalDeps(root)
      members.push(root)
    }
    pools[ecosystem].push(...members)
  }

  // Deliberate cycles between single-package repositories: add the edges the cycle needs, then the closing one.
  const singles = (eco: Ecosystem) =>
    pools[eco].filter((p) => p.repo.workspace === 'none' && p.repo.index >= 4)
  const ensureEdge = (from: ModelPackage, to: ModelPackage, closesCycle: boolean) => {
    const existing = from.deps.find((d) => d.target === to)
    if (existing) {
      existing.closesCycle ||= closesCycle
      return
    }
    from.deps.push({ target: to, kind: 'path', scope: 'normal', closesCycle, style: 0 })
  }
  const cycles: ModelPackage[][] = []
  const at = (list: ModelPackage[], fraction: number) => list[Math.floor(list.length * fraction)]!
  {
    const cargoSingles = singles('cargo')
    const a = at(cargoSingles, 0.2)
    const b = at(cargoSingles, 0.3)
    ensureEdge(b, a, false)
    ensureEdge(a, b, true)
    cycles.push([a, b])
  }
  {
    const npmSingles = singles('npm')
    const a = at(npmSingles, 0.25)
    const b = at(npmSingles, 0.4)
    const c = at(npmSingles, 0.55)
    ensureEdge(b, a, false)
    ensureEdge(c, b, false)
    ensureEdge(a, c, true)
    cycles.push([a, c, b])
  }
  {
    const goSingles = singles('go')
    const a = at(goSingles, 0.3)
    const b = at(goSingles, 0.5)
    ensureEdge(b, a, false)
    ensureEdge(a, b, true)
    cycles.push([a, b])
  }

  // Dangling local paths: 2 Cargo, 1 npm, 1 Go, 1 Python.
  const dangle = (eco: Ecosystem, fraction: number, n: number) => {
    const pkg = at(singles(eco), fraction)
    pkg.deps.push({
      target: null,
      kind: 'path',
      scope: 'normal',
      closesCycle: false,
      danglingName: eco === 'go' ? `${GO_HOST}/go-gone-${n}` : `${PREFIX[eco]}-gone-${n}`,
      style: 0,
    })
  }
  dangle('cargo', 0.45, 1)
  dangle('cargo', 0.65, 2)
  dangle('npm', 0.7, 3)
  dangle('go', 0.7, 4)
  dangle('python', 0.5, 5)
  return { repos, cycles }
}

// ---------------------------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------------------------

/** Relative path from package `from`'s directory to package `to`'s directory (always via the fleet root). */
function relativeDir(from: ModelPackage, to: ModelPackage): string {
  if (from.repo === to.repo) {
    const up =
      from.rel === ''
        ? '.'
        : from.rel
            .split('/')
            .map(() => '..')
            .join('/')
    return to.rel === '' ? up : up === '.' ? `./${to.rel}` : `${up}/${to.rel}`
  }
  const up = ['..', ...(from.rel === '' ? [] : from.rel.split('/').map(() => '..'))].join('/')
  return `${up}/${to.repo.id}${to.rel === '' ? '' : `/${to.rel}`}`
}

function danglingDir(from: ModelPackage, name: string): string {
  const up = ['..', ...(from.rel === '' ? [] : from.rel.split('/').map(() => '..'))].join('/')
  return `${up}/${name.split('/').pop()}`
}

const tomlKey = (name: string) => (/^[A-Za-z0-9_-]+$/.test(name) ? name : JSON.stringify(name))

function renderCargo(pkg: ModelPackage, repo: ModelRepo): string {
  const lines: string[] = []
  const rooted = pkg.shape === 'cargo-root'
  lines.push('[package]', `name = "${pkg.name}"`)
  if (pkg.shape === 'cargo-member') lines.push('version.workspace = true', 'edition.workspace = true')
  else lines.push('version = "0.1.0"', 'edition = "2021"')
  lines.push('license = "MIT"', '')
  const sections: Record<'normal' | 'dev' | 'build', string[]> = { normal: [], dev: [], build: [] }
  const externals = ['serde = { version = "1", features = ["derive"] }', 'anyhow = "1"', 'tokio = "1.38"']
  sections.normal.push(externals[pkg.order % 3]!)
  if (pkg.order % 4 === 0) sections.dev.push('proptest = "1"')
  for (const dep of pkg.deps) {
    const section =
      dep.scope === 'dev' ? sections.dev : dep.scope === 'build' ? sections.build : sections.normal
    if (!dep.target) {
      section.push(`${dep.danglingName} = { path = "${danglingDir(pkg, dep.danglingName!)}" }`)
      continue
    }
    const key = tomlKey(dep.target.name)
    switch (dep.kind) {
      case 'workspace':
        section.push(dep.style % 2 === 0 ? `${key} = { workspace = true }` : `${key}.workspace = true`)
        break
      case 'git':
        section.push(
          dep.style % 2 === 0
            ? `${key} = { git = "${cargoGitUrl(dep.target.repo.id, dep.style)}" }`
            : `${key} = { git = "${cargoGitUrl(dep.target.repo.id, dep.style)}", branch = "main" }`,
        )
        break
      case 'registry':
        section.push(`${key} = "0.1"`)
        break
      default:
        section.push(
          dep.style % 3 === 0
            ? `${key} = { version = "0.1.0", path = "${relativeDir(pkg, dep.target)}" }`
            : `${key} = { path = "${relativeDir(pkg, dep.target)}" }`,
        )
    }
  }
  for (const [scope, header] of [
    ['normal', '[dependencies]'],
    ['dev', '[dev-dependencies]'],
    ['build', '[build-dependencies]'],
  ] as const) {
    if (sections[scope].length === 0) continue
    lines.push(header, ...sections[scope], '')
  }
  if (rooted) lines.push(...cargoWorkspaceSection(repo))
  return `${lines.join('\n').trimEnd()}\n`
}

function cargoWorkspaceSection(repo: ModelRepo): string[] {
  const members = repo.packages.filter((p) => p.shape === 'cargo-member')
  return [
    '[workspace]',
    'resolver = "2"',
    repo.globMembers
      ? 'members = ["crates/*"]'
      : `members = [${members.map((m) => `"${m.rel}"`).join(', ')}]`,
    '',
    '[workspace.package]',
    'version = "0.1.0"',
    'edition = "2021"',
    '',
    '[workspace.dependencies]',
    ...members.map((m) => `${tomlKey(m.name)} = { path = "${m.rel}" }`),
    'serde = "1"',
    '',
  ]
}

function renderNpm(pkg: ModelPackage, repo: ModelRepo): string {
  const sections: Record<'dependencies' | 'devDependencies', Record<string, string>> = {
    dependencies: {},
    devDependencies: {},
  }
  sections.dependencies[['react', 'zod', 'lodash'][pkg.order % 3]!] = '^1.0.0'
  if (pkg.order % 2 === 0) sections.devDependencies.typescript = '^5.6.0'
  for (const dep of pkg.deps) {
    const section = dep.scope === 'dev' ? sections.devDependencies : sections.dependencies
    if (!dep.target) {
      section[dep.danglingName!] = `file:${danglingDir(pkg, dep.danglingName!)}`
      continue
    }
    switch (dep.kind) {
      case 'workspace':
        section[dep.target.name] =
          repo.workspace === 'yarn'
            ? 'workspace:^'
            : ['workspace:*', 'workspace:^', 'workspace:~'][dep.style % 3]!
        break
      case 'registry':
        section[dep.target.name] = '^0.1.0'
        break
      default:
        section[dep.target.name] = `${dep.style % 5 === 4 ? 'link' : 'file'}:${relativeDir(pkg, dep.target)}`
    }
  }
  const json: Record<string, unknown> = {
    name: pkg.name,
    version: '0.1.0',
    private: true,
    main: 'index.js',
    scripts: { build: 'node index.js' },
  }
  if (Object.keys(sections.dependencies).length) json.dependencies = sections.dependencies
  if (Object.keys(sections.devDependencies).length) json.devDependencies = sections.devDependencies
  return `${JSON.stringify(json, null, 2)}\n`
}

function renderGo(pkg: ModelPackage): string {
  const requires: string[] = [`github.com/stretchr/testify v1.9.0`]
  const replaces: string[] = []
  for (const dep of pkg.deps) {
    const name = dep.target ? dep.target.name : dep.danglingName!
    requires.push(`${name} v0.0.0`)
    if (dep.kind === 'path')
      replaces.push(`${name} => ${dep.target ? relativeDir(pkg, dep.target) : danglingDir(pkg, name)}`)
  }
  const lines = [`module ${pkg.name}`, '', 'go 1.22', '']
  if (requires.length === 1 || pkg.order % 4 === 1) for (const r of requires) lines.push(`require ${r}`)
  else lines.push('require (', ...requires.map((r) => `\t${r}`), ')')
  lines.push('')
  if (replaces.length > 1 && pkg.order % 2 === 0)
    lines.push('replace (', ...replaces.map((r) => `\t${r}`), ')')
  else for (const r of replaces) lines.push(`replace ${r}`)
  return `${lines.join('\n').trimEnd()}\n`
}

function renderPython(pkg: ModelPackage): string {
  const normal: string[] = [`"${['requests>=2.31', 'pydantic>=2', 'httpx'][pkg.order % 3]}"`]
  const optional: string[] = ['"pytest>=8"']
  const sources: string[] = []
  for (const dep of pkg.deps) {
    const name = dep.target ? dep.target.name : dep.danglingName!
    const list = dep.scope === 'optional' ? optional : normal
    list.push(dep.kind === 'registry' ? `"${name}>=0.1"` : `"${name}"`)
    if (dep.kind === 'workspace') sources.push(`${name} = { workspace = true }`)
    else if (dep.kind === 'path') {
      const dir = dep.target ? relativeDir(pkg, dep.target) : danglingDir(pkg, name)
      sources.push(
        dep.style % 2 === 0
          ? `${name} = { path = "${dir}", editable = true }`
          : `${name} = { path = "${dir}" }`,
      )
    }
  }
  const lines = [
    '[project]',
    `name = "${pkg.name}"`,
    'version = "0.1.0"',
    'requires-python = ">=3.11"',
    'dependencies = [',
    ...normal.map((d) => `    ${d},`),
    ']',
    '',
    '[project.optional-dependencies]',
    'dev = [',
    ...optional.map((d) => `    ${d},`),
    ']',
    '',
    '[build-system]',
    'requires = ["hatchling"]',
    'build-backend = "hatchling.build"',
    '',
  ]
  if (pkg.shape === 'py-root') lines.push('[tool.uv.workspace]', `members = ["packages/*"]`, '')
  if (sources.length) lines.push('[tool.uv.sources]', ...sources, '')
  return `${lines.join('\n').trimEnd()}\n`
}

const MANIFEST: Record<Ecosystem, string> = {
  cargo: 'Cargo.toml',
  npm: 'package.json',
  go: 'go.mod',
  python: 'pyproject.toml',
}

function sourceFileOf(pkg: ModelPackage): [string, string] {
  switch (pkg.ecosystem) {
    case 'cargo':
      return ['src/lib.rs', `pub fn name() -> &'static str { "${pkg.name}" }\n`]
    case 'npm':
      return ['index.js', `export const name = ${JSON.stringify(pkg.name)}\n`]
    case 'go':
      return ['lib.go', `package lib\n\nconst Name = "${pkg.name}"\n`]
    default: {
      const module = pkg.name.replaceAll('-', '_')
      return [`src/${module}/__init__.py`, `NAME = "${pkg.name}"\n`]
    }
  }
}

function write(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(file, text)
}

// ---------------------------------------------------------------------------------------------------------------
// git
// ---------------------------------------------------------------------------------------------------------------

/** Environment for every bench git process: no user/system config, fixed identity and dates (stable hashes). */
export function gitEnv(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 'Fleet Bench',
    GIT_AUTHOR_EMAIL: 'bench@example.com',
    GIT_COMMITTER_NAME: 'Fleet Bench',
    GIT_COMMITTER_EMAIL: 'bench@example.com',
    GIT_AUTHOR_DATE: '2025-01-01T00:00:00Z',
    GIT_COMMITTER_DATE: '2025-01-01T00:00:00Z',
    GIT_TERMINAL_PROMPT: '0',
  }
}

function sh(script: string, cwd: string): Promise<void> {
  return new Promise((done, fail) => {
    let stderr = ''
    const child = spawn('sh', ['-ec', script], { cwd, env: gitEnv(), stdio: ['ignore', 'ignore', 'pipe'] })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk
    })
    child.once('error', fail)
    child.once('close', (code) =>
      code === 0 ? done() : fail(new Error(`git setup in ${cwd} failed (${code}): ${stderr.trim()}`)),
    )
  })
}

export async function pool<T>(
  items: T[],
  concurrency: number,
  run: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < items.length) await run(items[next++]!)
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker))
}

const INIT = (remote: string) =>
  `git init -q --template= -b main && git remote add origin '${remote}' && git add -A && git commit -q -m init`

const UPSTREAM = 'git config branch.main.remote origin && git config branch.main.merge refs/heads/main'

function stateScript(state: GitStateScript): string {
  switch (state) {
    case 'dirty':
      return 'echo "local edit" >> README.md'
    case 'untracked':
      return 'echo "scratch" > NOTES.txt'
    case 'upstream':
      return `git update-ref refs/remotes/origin/main HEAD && ${UPSTREAM}`
    case 'ahead':
      return `git update-ref refs/remotes/origin/main HEAD && ${UPSTREAM} && git commit -q --allow-empty -m ahead`
    case 'behind':
      return `git commit -q --allow-empty -m upstream && git update-ref refs/remotes/origin/main HEAD && ${UPSTREAM} && git reset -q --hard HEAD~1`
    case 'detached':
      return 'git checkout -q --detach'
    default:
      return 'true'
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------------------------------------------

/** Writes the fleet under `dir` (which must be empty or absent) and returns its ground truth. */
export async function generateFleet(dir: string, options: FleetOptions): Promise<Fleet> {
  const { repos: model, cycles } = buildModel(options.repos, options.seed)
  const filesStarted = performance.now()
  const packages: FleetPackage[] = []
  const edges: TruthEdge[] = []
  const dangling: DanglingDependency[] = []
  for (const repo of model) {
    const root = join(dir, repo.id)
    write(join(root, 'README.md'), `# ${repo.id}\n`)
    write(join(root, '.gitignore'), repo.ecosystem === 'npm' ? 'node_modules/\n' : 'target/\n')
    if (repo.workspace === 'cargo-virtual')
      write(join(root, 'Cargo.toml'), `${cargoWorkspaceSection(repo).join('\n').trimEnd()}\n`)
    if (repo.workspace === 'pnpm') {
      write(
        join(root, 'package.json'),
        `${JSON.stringify({ private: true, scripts: { build: 'pnpm -r build' } }, null, 2)}\n`,
      )
      write(join(root, 'pnpm-workspace.yaml'), "packages:\n  - 'packages/*'\n")
    }
    if (repo.workspace === 'yarn')
      write(
        join(root, 'package.json'),
        `${JSON.stringify({ private: true, workspaces: ['packages/*'], packageManager: 'yarn@4.5.0' }, null, 2)}\n`,
      )
    for (const pkg of repo.packages) {
      const pkgDir = pkg.rel === '' ? root : join(root, pkg.rel)
      const manifest = join(pkgDir, MANIFEST[pkg.ecosystem])
      const text =
        pkg.ecosystem === 'cargo'
          ? renderCargo(pkg, repo)
          : pkg.ecosystem === 'npm'
            ? renderNpm(pkg, repo)
            : pkg.ecosystem === 'go'
              ? renderGo(pkg)
              : renderPython(pkg)
      write(manifest, text)
      const [rel, source] = sourceFileOf(pkg)
      const sourceFile = join(pkgDir, rel)
      write(sourceFile, source)
      packages.push({
        key: pkg.key,
        ecosystem: pkg.ecosystem,
        name: pkg.name,
        repo: repo.id,
        dir: pkgDir,
        manifest,
        sourceFile,
        explicitVersion: pkg.shape !== 'cargo-member' && pkg.shape !== 'go-module',
      })
      for (const dep of pkg.deps) {
        if (dep.target)
          edges.push({
            from: pkg.key,
            to: dep.target.key,
            kind: dep.kind,
            scope: dep.scope,
            closesCycle: dep.closesCycle,
          })
        else dangling.push({ from: pkg.key, spec: dep.danglingName!, manifest })
      }
    }
  }
  const files = performance.now() - filesStarted

  const gitStarted = performance.now()
  const concurrency = options.concurrency ?? 2 * availableParallelism()
  await pool(model, concurrency, (repo) =>
    sh(
      repo.state === 'clean' ? INIT(repo.remote) : `${INIT(repo.remote)} && ${stateScript(repo.state)}`,
      join(dir, repo.id),
    ),
  )
  const git = performance.now() - gitStarted

  return {
    dir,
    seed: options.seed,
    repos: model.map((r) => ({
      id: r.id,
      root: join(dir, r.id),
      ecosystem: r.ecosystem,
      remote: r.remote,
      workspace: r.workspace !== 'none',
      state: r.state,
    })),
    packages,
    edges,
    cycles: cycles.map((cycle) => cycle.map((p) => p.key)),
    dangling,
    timings: { files, git },
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Ground-truth queries
// ---------------------------------------------------------------------------------------------------------------

/** The packages a change set touches: every package of a changed repo, and the deepest package holding a file. */
export function changedPackages(fleet: Fleet, changes: { repos?: string[]; files?: string[] }): Set<string> {
  const changed = new Set<string>()
  for (const repo of changes.repos ?? [])
    for (const pkg of fleet.packages) if (pkg.repo === repo) changed.add(pkg.key)
  for (const file of changes.files ?? []) {
    let best: FleetPackage | undefined
    for (const pkg of fleet.packages)
      if (file.startsWith(`${pkg.dir}/`) && (!best || pkg.dir.length > best.dir.length)) best = pkg
    if (best) changed.add(best.key)
  }
  return changed
}

/** Reverse BFS over the ground-truth edges: the changed packages and all their transitive dependents. */
export function truthAffected(fleet: Fleet, changed: Set<string>): Set<string> {
  const dependents = new Map<string, string[]>()
  for (const edge of fleet.edges) {
    const list = dependents.get(edge.to)
    if (list) list.push(edge.from)
    else dependents.set(edge.to, [edge.from])
  }
  const seen = new Set(changed)
  const queue = [...changed]
  while (queue.length) {
    const key = queue.shift()!
    for (const from of dependents.get(key) ?? [])
      if (!seen.has(from)) {
        seen.add(from)
        queue.push(from)
      }
  }
  return seen
}

// ---------------------------------------------------------------------------------------------------------------
// The equivalent single workspace for Nx and Turborepo
// ---------------------------------------------------------------------------------------------------------------

export interface EquivalentWorkspace {
  dir: string
  /** Fleet package key → npm name in the workspace. */
  names: Map<string, string>
  /** Fleet package key → its directory in the workspace. */
  dirs: Map<string, string>
  packages: number
  /** Edges written (the fleet's, without the cycle-closing ones and duplicates). */
  edges: number
}

/** The npm name a fleet package gets in the equivalent workspace. */
const equivalentName = (pkg: FleetPackage) =>
  `@eq/${pkg.name
    .replace(/^@/, '')
    .replace(/^example\.com\/fleet\//, '')
    .replace(/[^a-z0-9-]+/g, '-')}`

/**
 * One git repository holding a pnpm workspace with one npm package per fleet package and the fleet's dependency edges
 * as `workspace:*` (cycles left out: Turborepo rejects them), plus the nx.json and turbo.json the peers need. No
 * lockfile: Nx refuses a pnpm-lock.yaml without a pnpm-installed node_modules/.modules.yaml, and Turborepo only warns.
 */
export async function writeEquivalentWorkspace(dir: string, fleet: Fleet): Promise<EquivalentWorkspace> {
  const names = new Map<string, string>()
  const dirs = new Map<string, string>()
  for (const pkg of fleet.packages) {
    const name = equivalentName(pkg)
    names.set(pkg.key, name)
    dirs.set(pkg.key, join(dir, 'packages', name.slice('@eq/'.length)))
  }
  if (new Set(names.values()).size !== names.size) throw new Error('equivalent workspace names collide')
  const deps = new Map<string, Set<string>>()
  let edges = 0
  for (const edge of fleet.edges) {
    if (edge.closesCycle) continue
    const set = deps.get(edge.from) ?? new Set<string>()
    deps.set(edge.from, set)
    if (!set.has(edge.to)) {
      set.add(edge.to)
      edges++
    }
  }
  write(
    join(dir, 'package.json'),
    `${JSON.stringify({ name: 'eq-root', private: true, packageManager: 'pnpm@9.15.0' }, null, 2)}\n`,
  )
  write(join(dir, 'pnpm-workspace.yaml'), "packages:\n  - 'packages/*'\n")
  write(join(dir, '.gitignore'), 'node_modules\n.nx/\n.turbo/\n')
  write(
    join(dir, 'nx.json'),
    `${JSON.stringify({ useDaemonProcess: false, targetDefaults: { build: { dependsOn: ['^build'] } } }, null, 2)}\n`,
  )
  write(
    join(dir, 'turbo.json'),
    `${JSON.stringify({ $schema: 'https://turborepo.com/schema.json', tasks: { build: { dependsOn: ['^build'] } } }, null, 2)}\n`,
  )
  for (const pkg of fleet.packages) {
    const pkgDir = dirs.get(pkg.key)!
    const dependencies: Record<string, string> = {}
    for (const to of deps.get(pkg.key) ?? []) dependencies[names.get(to)!] = 'workspace:*'
    const json: Record<string, unknown> = {
      name: names.get(pkg.key),
      version: '0.1.0',
      private: true,
      scripts: { build: 'node index.js' },
    }
    if (Object.keys(dependencies).length) json.dependencies = dependencies
    write(join(pkgDir, 'package.json'), `${JSON.stringify(json, null, 2)}\n`)
    write(join(pkgDir, 'index.js'), `export const name = ${JSON.stringify(names.get(pkg.key))}\n`)
  }
  await sh(`${INIT('https://github.com/fleet/equivalent.git')}`, dir)
  return { dir, names, dirs, packages: fleet.packages.length, edges }
}

/** Replaces `"version": "0.1.0"` / `version = "0.1.0"` (the first occurrence) in a manifest; returns the new text. */
export function bumpVersion(manifest: string, version: string): string {
  const text = readFileSync(manifest, 'utf8')
  const next = text.replace(/("version": "|version = ")0\.1\.\d+"/, `$1${version}"`)
  if (next === text) throw new Error(`no version to bump in ${manifest}`)
  writeFileSync(manifest, next)
  return next
}

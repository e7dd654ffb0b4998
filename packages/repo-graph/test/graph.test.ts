import { readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { discoverRepos } from '../src/discover.ts'
import { buildGraph } from '../src/graph.ts'
import { affected, changedFiles } from '../src/queries/affected.ts'
import { orderPackages, orderRepos } from '../src/queries/order.ts'
import { why } from '../src/queries/why.ts'
import type { RepoGraph } from '../src/types.ts'
import { cleanup, git, tempDir, write } from './support/fleet.ts'
import { repo, sampleFleet } from './support/sample-fleet.ts'

let root: string
let graph: RepoGraph

beforeAll(async () => {
  root = sampleFleet()
  graph = await buildGraph({ roots: [root] })
})
afterAll(cleanup)

const edge = (from: string, to: string) => graph.edges.find((e) => e.from === from && e.to === to)
const problemIn = (file: string) => graph.problems.filter((p) => p.source.file === join(root, file))

describe('discovery', () => {
  it('finds every repository once, skipping ignored directories and non-repositories', () => {
    expect(graph.repos.map((r) => r.id)).toEqual([
      'ares',
      'broken',
      'dirmacs-core',
      'ehb',
      'eruka',
      'golib',
      'gosvc',
      'pyapp',
      'pylib',
    ])
    expect(graph.repos.find((r) => r.id === 'eruka')?.canonical).toBe('github.com/dirmacs/eruka')
    expect(graph.repos.find((r) => r.id === 'golib')?.canonical).toBe(`local:${join(root, 'golib')}`)
  })

  it('respects depth, and reports a root that does not exist', () => {
    const deep = tempDir('dstack-depth-')
    repo(join(deep, 'a', 'b'), 'c', { 'x.txt': 'x' })
    expect(discoverRepos([deep], { depth: 2 }).repos).toEqual([])
    expect(discoverRepos([deep], { depth: 3 }).repos.map((r) => r.id)).toEqual(['a/b/c'])
    const missing = discoverRepos([join(deep, 'nope')])
    expect(missing.repos).toEqual([])
    expect(missing.problems[0]).toMatchObject({
      kind: 'unreadable',
      message: expect.stringMatching(/not a directory/),
    })
  })

  it('survives a symlink loop', () => {
    const loop = tempDir('dstack-loop-')
    repo(loop, 'r', { 'a.txt': 'a' })
    symlinkSync(loop, join(loop, 'again'))
    expect(discoverRepos([loop], { depth: 8 }).repos.map((r) => r.id)).toEqual(['r'])
  })
})

describe('nodes and edges', () => {
  it('makes one node per package, in every ecosystem, leaving out ignored workspace members', () => {
    expect(graph.packages.map((p) => p.id)).toEqual([
      'cargo:ares',
      'cargo:core-types',
      'cargo:dirmacs-core',
      'cargo:eruka',
      'go:example.com/broken',
      'go:example.com/golib',
      'go:example.com/gosvc',
      'npm:@ehb/ignored',
      'npm:@ehb/ui',
      'npm:@ehb/web',
      'npm:ares-client',
      'npm:ehb-root',
      'python:broken-py',
      'python:py-lib',
      'python:pyapp',
    ])
  })

  it('records each edge with its kind and the manifest line that creates it', () => {
    expect(edge('cargo:ares', 'cargo:dirmacs-core')).toMatchObject({
      kind: 'path',
      scope: 'normal',
      spec: 'dirmacs-core = { path = "../dirmacs-core/crates/dirmacs-core" }',
      source: { file: join(root, 'ares/Cargo.toml'), line: 9 },
    })
    // A renamed git dependency on a sibling's remote (ssh URL vs the sibling's scp-like origin), in a target section.
    expect(edge('cargo:ares', 'cargo:eruka')).toMatchObject({
      kind: 'git',
      scope: 'dev',
      source: { line: 13 },
    })
    // workspace = true, resolved through [workspace.dependencies].
    expect(edge('cargo:dirmacs-core', 'cargo:core-types')).toMatchObject({
      kind: 'workspace',
      source: { file: join(root, 'dirmacs-core/crates/dirmacs-core/Cargo.toml'), line: 6 },
      spec: 'core-types = { workspace = true } → core-types = { path = "crates/core-types" }',
    })
    // A registry version whose name is a fleet package, in a [dependencies.x] table.
    expect(edge('cargo:eruka', 'cargo:dirmacs-core')).toMatchObject({ kind: 'registry', source: { line: 5 } })
    expect(edge('npm:@ehb/web', 'npm:@ehb/ui')).toMatchObject({ kind: 'workspace', source: { line: 4 } })
    expect(edge('npm:@ehb/web', 'npm:ares-client')).toMatchObject({ kind: 'path', source: { line: 5 } })
    expect(edge('go:example.com/gosvc', 'go:example.com/golib')).toMatchObject({
      kind: 'path',
      spec: 'replace example.com/golib => ../golib',
      source: { line: 10 },
    })
    expect(edge('python:pyapp', 'python:py-lib')).toMatchObject({ kind: 'path', source: { line: 10 } })
    expect(edge('python:py-lib', 'python:pyapp')).toMatchObject({ kind: 'path', source: { line: 7 } })
    // Registry dependencies outside the fleet make no edge.
    expect(graph.edges.some((e) => /tokio|serde|typescript|requests/.test(e.to))).toBe(false)
    expect(graph.edges).toHaveLength(11)
  })

  it('reports broken manifests with file and line, and keeps going', () => {
    expect(problemIn('broken/Cargo.toml')).toEqual([
      expect.objectContaining({ kind: 'parse', source: { file: join(root, 'broken/Cargo.toml'), line: 3 } }),
    ])
    expect(problemIn('broken/web/package.json')).toEqual([
      expect.objectContaining({ kind: 'parse', source: expect.objectContaining({ line: 4 }) }),
    ])
    expect(problemIn('broken/svc/go.mod')).toEqual([
      expect.objectContaining({
        kind: 'parse',
        message: 'unknown directive: frobnicate',
        source: expect.objectContaining({ line: 4 }),
      }),
    ])
    expect(problemIn('broken/py/pyproject.toml')).toEqual([
      expect.objectContaining({ kind: 'dangling', source: expect.objectContaining({ line: 6 }) }),
    ])
    // The parts of broken/ that did parse are still in the graph.
    expect(edge('go:example.com/broken', 'go:example.com/golib')).toMatchObject({ kind: 'registry' })
  })

  it('turns bad shapes and ambiguity into problems, never a crash', async () => {
    const fleet = tempDir('dstack-bad-')
    repo(fleet, 'a', {
      'Cargo.toml': '[package]\nname = "a"\n[dependencies]\nx = 3\ny = { workspace = true }\nshared = "1"\n',
      'pyproject.toml': '[project]\nname = 7\n',
      'package.json': '[1, 2]',
      'sub/package.json': '{"name": "sub", "dependencies": {"q": {"v": 1}}}',
      'go.mod': 'require (\n',
    })
    repo(fleet, 'b', { 'Cargo.toml': '[package]\nname = "shared"\n' })
    repo(fleet, 'c', { 'Cargo.toml': '[package]\nname = "shared"\n' })
    repo(fleet, 'e', { 'Cargo.toml': '', 'package.json': '' })
    const g = await buildGraph({ roots: [fleet] })
    const messages = g.problems.map(
      (p) => `${p.kind} ${p.source.file.slice(fleet.length)}:${p.source.line} ${p.message}`,
    )
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^invalid \/a\/Cargo.toml:4 dependency x/),
        expect.stringMatching(
          /^invalid \/a\/Cargo.toml:5 y = \{ workspace = true \}, but no \[workspace.dependencies\]/,
        ),
        expect.stringMatching(/^ambiguous \/a\/Cargo.toml:6 shared matches 2 packages/),
        expect.stringMatching(/^invalid \/a\/pyproject.toml:2 project name/),
        expect.stringMatching(/^invalid \/a\/package.json:1 package.json must be an object/),
        expect.stringMatching(/^invalid \/a\/sub\/package.json:1 dependencies.q must be a version string/),
        expect.stringMatching(/^parse \/a\/go.mod:\d+ require block is not closed/),
        expect.stringMatching(/^parse \/e\/package.json:1 invalid JSON/),
      ]),
    )
    expect(g.packages.map((p) => p.id)).toEqual(['cargo:a', 'cargo:shared@b', 'cargo:shared@c', 'npm:sub'])
  })

  it('handles renamed workspace dependencies, byte-order marks, symlinked manifests, relative file: references', async () => {
    const fleet = tempDir('dstack-odd-')
    repo(fleet, 'ws', {
      'Cargo.toml':
        '[workspace]\nmembers = ["crates/*"]\n[workspace.dependencies]\ncorealias = { package = "real-core", path = "crates/core" }\n',
      'crates/core/Cargo.toml': '[package]\nname = "real-core"\n',
      'crates/a/Cargo.toml': '[package]\nname = "a"\n[dependencies]\ncorealias = { workspace = true }\n',
    })
    repo(fleet, 'js', {
      'package.json': '\uFEFF{"name": "js", "dependencies": {"shared": "file:../shared"}}',
    })
    repo(fleet, 'py', {
      'pyproject.toml': '[project]\nname = "py"\ndependencies = ["lib @ file:../pylib"]\n',
    })
    repo(fleet, 'pylib', { 'pyproject.toml': '[project]\nname = "lib"\n' })
    repo(fleet, 'shared', { 'README.md': 'its manifest is shared from outside the fleet' })
    const outside = tempDir('dstack-outside-')
    write(outside, { 'package.json': '{"name": "shared"}' })
    symlinkSync(join(outside, 'package.json'), join(fleet, 'shared', 'package.json'))
    // A worktree whose main repository is gone: its .git file points nowhere, as git itself would refuse it.
    write(join(fleet, 'orphan'), {
      '.git': 'gitdir: /nowhere/.git/worktrees/orphan\n',
      'go.mod': 'module x\n',
    })
    const g = await buildGraph({ roots: [fleet] })
    expect(g.problems).toEqual([])
    expect(g.repos.map((r) => r.id)).toEqual(['js', 'py', 'pylib', 'shared', 'ws'])
    expect(g.edges.map((e) => `${e.from}->${e.to}:${e.kind}`)).toEqual([
      'cargo:a->cargo:real-core:workspace',
      'npm:js->npm:shared:path',
      'python:py->python:lib:path',
    ])
  })

  it('reads a huge manifest', async () => {
    const fleet = tempDir('dstack-huge-')
    const deps = Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`dep-${i}`, `^${i}.0.0`]))
    repo(fleet, 'big', {
      'package.json': JSON.stringify({ name: 'big', dependencies: { ...deps, lib: 'file:../lib' } }, null, 2),
    })
    repo(fleet, 'lib', { 'package.json': '{"name":"lib"}' })
    const g = await buildGraph({ roots: [fleet] })
    expect(g.edges).toEqual([
      expect.objectContaining({
        from: 'npm:big',
        to: 'npm:lib',
        source: expect.objectContaining({ line: 20_004 }),
      }),
    ])
  })
})

describe('queries', () => {
  it('affected: a file in a workspace crate reaches every dependent, across repositories and edge kinds', () => {
    const result = affected(graph, { files: [join(root, 'dirmacs-core/crates/core-types/src/lib.rs')] })
    expect(result.changed).toEqual(['cargo:core-types'])
    expect(result.packages.map((p) => [p.id, p.depth])).toEqual([
      ['cargo:core-types', 0],
      ['cargo:dirmacs-core', 1],
      ['cargo:ares', 2],
      ['cargo:eruka', 2],
    ])
    expect(result.packages.find((p) => p.id === 'cargo:ares')?.via).toEqual([
      'cargo:core-types',
      'cargo:dirmacs-core',
      'cargo:ares',
    ])
    expect(result.repos).toEqual(['ares', 'dirmacs-core', 'eruka'])
  })

  it('affected: by repository, through a cycle, and with unknown names and outside files reported', () => {
    // A file named through a symlink (the fleet reached by another path) still maps to its package.
    const link = join(tempDir('dstack-link-'), 'fleet')
    symlinkSync(root, link)
    expect(affected(graph, { files: [join(link, 'golib', 'lib.go')] }).changed).toEqual([
      'go:example.com/golib',
    ])
    const result = affected(graph, { repos: ['pylib', 'nope'], files: ['/elsewhere/x.py'] })
    expect(result.packages.map((p) => p.id).sort()).toEqual(['python:py-lib', 'python:pyapp'])
    expect(result.unmatched).toEqual(['nope', '/elsewhere/x.py'])
    // eruka (via ares' dev-dependency) drops out when only normal edges count.
    const normal = affected(graph, { repos: ['eruka'] }, { scopes: ['normal'] })
    expect(normal.packages.map((p) => p.id)).toEqual(['cargo:eruka'])
    expect(affected(graph, { repos: ['eruka'] }).packages.map((p) => p.id)).toEqual([
      'cargo:eruka',
      'cargo:ares',
    ])
  })

  it('affected from git: uncommitted and unpushed files in each repository', async () => {
    const fleet = tempDir('dstack-changed-')
    repo(fleet, 'lib', { 'go.mod': 'module example.com/lib\n', 'lib.go': 'package lib\n' })
    repo(fleet, 'app', {
      'go.mod': 'module example.com/app\nrequire example.com/lib v1.0.0\nreplace example.com/lib => ../lib\n',
    })
    const g = await buildGraph({ roots: [fleet] })
    expect((await changedFiles(g.repos)).files).toEqual([])
    write(join(fleet, 'lib'), { 'lib.go': 'package lib // changed\n' })
    const { files, errors } = await changedFiles(g.repos)
    expect(errors).toEqual([])
    expect(files).toEqual([join(fleet, 'lib/lib.go')])
    expect(affected(g, { files }).packages.map((p) => p.id)).toEqual([
      'go:example.com/lib',
      'go:example.com/app',
    ])

    // With a remote: a committed but unpushed change counts, a pushed one does not.
    const remote = join(fleet, 'app.git')
    git(fleet, ['init', '-q', '--bare', remote])
    git(join(fleet, 'app'), ['remote', 'add', 'origin', remote])
    git(join(fleet, 'app'), ['push', '-q', '-u', 'origin', 'main'])
    write(join(fleet, 'app'), { 'main.go': 'package main\n' })
    git(join(fleet, 'app'), ['add', '-A'])
    git(join(fleet, 'app'), ['commit', '-q', '-m', 'unpushed'])
    expect((await changedFiles(g.repos)).files).toEqual([
      join(fleet, 'app/main.go'),
      join(fleet, 'lib/lib.go'),
    ])
    git(join(fleet, 'app'), ['push', '-q'])
    expect((await changedFiles(g.repos)).files).toEqual([join(fleet, 'lib/lib.go')])
  })

  it('order: dependencies first, in levels, with the cycle and its manifest lines', () => {
    const { order, levels, cycles } = orderPackages(graph)
    const isBefore = (a: string, b: string) => expect(order.indexOf(a)).toBeLessThan(order.indexOf(b))
    isBefore('cargo:core-types', 'cargo:dirmacs-core')
    isBefore('cargo:dirmacs-core', 'cargo:eruka')
    isBefore('cargo:eruka', 'cargo:ares')
    isBefore('npm:ares-client', 'npm:@ehb/web')
    expect(levels[0]).toContain('cargo:core-types')
    expect(cycles).toHaveLength(1)
    expect(cycles[0]!.nodes).toEqual(['python:py-lib', 'python:pyapp'])
    expect(cycles[0]!.edges.map((e) => `${e.from}->${e.to}:${e.source.line}`)).toEqual([
      'python:py-lib->python:pyapp:7',
      'python:pyapp->python:py-lib:10',
    ])
    const repos = orderRepos(graph, { only: ['ares', 'dirmacs-core', 'eruka', 'ehb'] })
    expect(repos.order).toEqual(['dirmacs-core', 'eruka', 'ares', 'ehb'])
    expect(repos.levels).toEqual([['dirmacs-core'], ['eruka'], ['ares'], ['ehb']])
  })

  it('order copes with a 5,000-package chain', () => {
    const n = 5000
    const chain: RepoGraph = {
      ...graph,
      packages: Array.from({ length: n }, (_, i) => ({ ...graph.packages[0]!, id: `p${i}` })),
      edges: Array.from({ length: n - 1 }, (_, i) => ({
        ...graph.edges[0]!,
        from: `p${i + 1}`,
        to: `p${i}`,
      })),
    }
    const { order, levels } = orderPackages(chain)
    expect(levels).toHaveLength(n)
    expect(order[0]).toBe('p0')
    expect(order[n - 1]).toBe(`p${n - 1}`)
  })

  it('why: the shortest chain with every manifest line, or null', () => {
    const result = why(graph, '@ehb/web', 'ares-client')
    expect(result.path?.map((e) => `${e.from}->${e.to}@${e.source.line}`)).toEqual([
      'npm:@ehb/web->npm:ares-client@5',
    ])
    const deep = why(graph, 'ares', 'core-types')
    expect(deep.path?.map((e) => e.to)).toEqual(['cargo:dirmacs-core', 'cargo:core-types'])
    expect(why(graph, 'core-types', 'ares').path).toBeNull()
    expect(why(graph, 'ghost', 'ares').unknown).toEqual(['ghost'])
  })
})

describe('cache', () => {
  it('gives the same graph warm, sees an edited manifest, and survives a corrupt cache file', async () => {
    const cacheFile = join(tempDir('dstack-cache-'), 'graph.json')
    // Whole seconds, so the mtime can be put back exactly after an edit below.
    const golib = join(root, 'golib/go.mod')
    utimesSync(golib, 1_700_000_000, 1_700_000_000)
    const cold = await buildGraph({ roots: [root], cacheFile })
    expect(cold).toEqual(graph)
    const warm = await buildGraph({ roots: [root], cacheFile })
    expect(warm).toEqual(graph)

    // Proof the cache is read: an edit that keeps size and mtime is not seen (the trade-off every mtime cache makes).
    const text = readFileSync(golib, 'utf8')
    writeFileSync(golib, text.replace('example.com/golib', 'example.com/golix'))
    utimesSync(golib, 1_700_000_000, 1_700_000_000)
    try {
      expect(
        (await buildGraph({ roots: [root], cacheFile })).packages.some((p) => p.name === 'example.com/golix'),
      ).toBe(false)
      expect((await buildGraph({ roots: [root] })).packages.some((p) => p.name === 'example.com/golix')).toBe(
        true,
      )
    } finally {
      writeFileSync(golib, text)
    }

    const manifest = join(root, 'eruka/Cargo.toml')
    const original = readFileSync(manifest, 'utf8')
    writeFileSync(manifest, '[package]\nname = "eruka"\nversion = "0.2.0"\n')
    try {
      const edited = await buildGraph({ roots: [root], cacheFile })
      expect(edited.edges.some((e) => e.from === 'cargo:eruka')).toBe(false)
      writeFileSync(cacheFile, '{"version":1,"entries":{"oops"')
      const afterCorrupt = await buildGraph({ roots: [root], cacheFile })
      expect(afterCorrupt.edges.some((e) => e.from === 'cargo:eruka')).toBe(false)
    } finally {
      writeFileSync(manifest, original)
    }
  })
})

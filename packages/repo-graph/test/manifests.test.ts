import { describe, expect, it } from 'vitest'
import { parseCargo } from '../src/manifests/cargo.ts'
import { parseGoMod, parseGoWork } from '../src/manifests/go.ts'
import { jsonLines, tomlLines } from '../src/manifests/lines.ts'
import { npmSpec, parsePackageJson, parsePnpmWorkspace } from '../src/manifests/npm.ts'
import { normalizePythonName, parsePyproject } from '../src/manifests/python.ts'

describe('line scanners', () => {
  it('TOML: tables, dotted keys, inline tables, multi-line arrays and strings, comments', () => {
    const lines = tomlLines(
      [
        '# comment [not] = "a table"', // 1
        '[package]', // 2
        'name = "x" # trailing', // 3
        'description = """', // 4
        'core = "not a key"', // 5
        '"""', // 6
        '[dependencies]', // 7
        'core.workspace = true', // 8
        'ui = { path = "../ui", features = ["a", "b"] }', // 9
        "'quoted.key' = '1'", // 10
        '[workspace]', // 11
        'members = [', // 12
        '  "a", # first', // 13
        '', // 14
        '  "b",', // 15
        ']', // 16
        "[target.'cfg(unix)'.dependencies]", // 17
        'nix = "1"', // 18
      ].join('\n'),
    )
    expect(lines.find(['package', 'name'])).toBe(3)
    expect(lines.find(['package', 'description'])).toBe(4)
    expect(lines.find(['package', 'core'])).toBe(2) // inside the string: not a key, falls back to the table
    expect(lines.find(['dependencies', 'core'])).toBe(8)
    expect(lines.find(['dependencies', 'core', 'workspace'])).toBe(8)
    expect(lines.find(['dependencies', 'ui', 'path'])).toBe(9)
    expect(lines.find(['dependencies', 'quoted.key'])).toBe(10)
    expect(lines.find(['workspace', 'members', 0])).toBe(13)
    expect(lines.find(['workspace', 'members', 1])).toBe(15)
    expect(lines.find(['target', 'cfg(unix)', 'dependencies', 'nix'])).toBe(18)
    expect(lines.find(['nowhere'])).toBeNull()
  })

  it('JSON: keys and array elements, escapes in strings', () => {
    const lines = jsonLines(
      '{\n  "a\\"b": 1,\n  "deps": {\n    "@x/y": "1"\n  },\n  "list": [\n    "p",\n    "q"\n  ]\n}\n',
    )
    expect(lines.find(['a"b'])).toBe(2)
    expect(lines.find(['deps', '@x/y'])).toBe(4)
    expect(lines.find(['list', 1])).toBe(8)
  })
})

describe('manifest parsers', () => {
  it('Cargo: renamed, optional, dotted-key workspace deps and the [dependencies.x] form', () => {
    const m = parseCargo(
      '[package]\nname = "a"\nversion.workspace = true\n[dependencies]\nb = { package = "real-b", path = "../b", optional = true }\nc.workspace = true\n[dependencies.d]\ngit = "https://x/d"\n',
      '/r/Cargo.toml',
    )
    expect(m.package?.version).toBeNull()
    expect(m.package?.deps.map((d) => [d.name, d.scope, d.spec.type, d.line])).toEqual([
      ['real-b', 'optional', 'path', 5],
      ['c', 'normal', 'workspace', 6],
      ['d', 'normal', 'git', 7],
    ])
  })

  it('npm: every spec form', () => {
    expect(npmSpec('a', 'workspace:^')).toEqual({ name: 'a', spec: { type: 'workspace' } })
    expect(npmSpec('a', 'link:../a')).toEqual({ name: 'a', spec: { type: 'path', path: '../a' } })
    expect(npmSpec('a', '../a')).toEqual({ name: 'a', spec: { type: 'path', path: '../a' } })
    expect(npmSpec('a', 'npm:@s/real@^2')).toEqual({ name: '@s/real', spec: { type: 'registry' } })
    expect(npmSpec('a', 'git+ssh://git@github.com/o/a.git#v1')).toEqual({
      name: 'a',
      spec: { type: 'git', url: 'ssh://git@github.com/o/a.git' },
    })
    expect(npmSpec('a', 'gitlab:o/a')).toEqual({
      name: 'a',
      spec: { type: 'git', url: 'https://gitlab.com/o/a' },
    })
    expect(npmSpec('a', 'o/a#main')).toEqual({
      name: 'a',
      spec: { type: 'git', url: 'https://github.com/o/a' },
    })
    expect(npmSpec('a', '^1.2.3')).toEqual({ name: 'a', spec: { type: 'registry' } })
    expect(npmSpec('a', 'https://registry.example/a-1.0.0.tgz')).toEqual({
      name: 'a',
      spec: { type: 'registry' },
    })
  })

  it('npm: workspaces as an object, and pnpm-workspace.yaml with excludes and bad YAML', () => {
    expect(
      parsePackageJson('{"workspaces":{"packages":["a/*","!a/x"]}}', '/r/package.json').workspace,
    ).toEqual({
      members: ['a/*'],
      exclude: ['a/x'],
      line: 1,
    })
    expect(
      parsePnpmWorkspace('packages:\n  - "p/*"\n  - "!p/skip"\n', '/r/pnpm-workspace.yaml').workspace,
    ).toEqual({
      members: ['p/*'],
      exclude: ['p/skip'],
      line: 1,
    })
    const bad = parsePnpmWorkspace('packages: [\n', '/r/pnpm-workspace.yaml')
    expect(bad.problems).toEqual([
      expect.objectContaining({ kind: 'parse', message: expect.stringMatching(/^invalid YAML/) }),
    ])
  })

  it('Go: single-line and block requires and replaces, quoted paths, go.work', () => {
    const m = parseGoMod(
      'module "example.com/a"\nrequire example.com/b v1.0.0\nreplace (\n  example.com/b v1.0.0 => ../b\n  example.com/c => example.com/c2 v2.0.0\n)\nrequire example.com/c v1.0.0\n',
      '/r/go.mod',
    )
    expect(m.package?.name).toBe('example.com/a')
    expect(m.package?.deps).toEqual([
      expect.objectContaining({ name: 'example.com/b', spec: { type: 'path', path: '../b' }, line: 4 }),
      expect.objectContaining({ name: 'example.com/c', spec: { type: 'registry' }, line: 7 }),
    ])
    expect(
      parseGoWork('go 1.22\nuse ./a\nuse (\n  ./b // comment\n)\n', '/r/go.work').workspace?.members,
    ).toEqual(['./a', './b'])
    expect(parseGoMod('go 1.22\n', '/r/go.mod').problems[0]?.message).toBe('go.mod has no module line')
  })

  it('Python: PEP 508 names, direct references, groups, Poetry groups, uv sources by normalized name', () => {
    expect(normalizePythonName('Foo__Bar.baz')).toBe('foo-bar-baz')
    const m = parsePyproject(
      [
        '[project]',
        'name = "App"',
        'dependencies = ["Lib_A[extra]>=1; python_version>\'3.8\'", "b @ file:///srv/b", "c @ git+https://x/c@v1"]',
        '[project.optional-dependencies]',
        'docs = ["d"]',
        '[dependency-groups]',
        'dev = ["e", { include-group = "docs" }]',
        '[tool.uv.sources]',
        'lib-a = { workspace = true }',
      ].join('\n'),
      '/r/pyproject.toml',
    )
    expect(m.package?.deps.map((d) => [d.name, d.scope, d.spec])).toEqual([
      ['lib-a', 'normal', { type: 'workspace' }],
      ['b', 'normal', { type: 'path', path: '/srv/b' }],
      ['c', 'normal', { type: 'git', url: 'https://x/c' }],
      ['d', 'optional', { type: 'registry' }],
      ['e', 'dev', { type: 'registry' }],
    ])
    expect(m.package?.deps[0]?.line).toBe(9)
    const poetry = parsePyproject(
      '[tool.poetry]\nname = "p"\n[tool.poetry.group.test.dependencies]\nq = { git = "https://x/q" }\n',
      '/r/pyproject.toml',
    )
    expect(poetry.package?.deps).toEqual([
      expect.objectContaining({
        name: 'q',
        scope: 'dev',
        spec: { type: 'git', url: 'https://x/q' },
        line: 4,
      }),
    ])
  })
})

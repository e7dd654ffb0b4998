// A small fleet of real git repositories in four ecosystems, shaped like the /opt of the dstack design: a Cargo
// workspace, crates that depend on it by path, by git (a sibling's remote, renamed) and by name, a pnpm workspace
// that reaches into another repo, Go modules joined by replace, Python projects joined by uv and Poetry path
// sources (a cycle), and broken manifests.

import { symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { git, tempDir, write } from './fleet.ts'

/** Creates a repository at `root/name` holding `files`, committed, with `remote` as origin when given. */
export function repo(root: string, name: string, files: Record<string, string>, remote?: string): string {
  const dir = join(root, name)
  write(dir, files)
  git(dir, ['init', '-q'])
  if (remote) git(dir, ['remote', 'add', 'origin', remote])
  git(dir, ['add', '-A'])
  git(dir, ['commit', '-q', '-m', 'initial'])
  return dir
}

export function sampleFleet(): string {
  const root = tempDir('dstack-graph-')
  repo(
    root,
    'dirmacs-core',
    {
      'Cargo.toml': [
        '[workspace]',
        'members = ["crates/*"]',
        '',
        '[workspace.dependencies]',
        'core-types = { path = "crates/core-types" }',
        'serde = "1"',
        '',
      ].join('\n'),
      'crates/core-types/Cargo.toml': '[package]\nname = "core-types"\nversion = "0.3.0"\n',
      'crates/core-types/src/lib.rs': 'pub struct Id;\n',
      'crates/dirmacs-core/Cargo.toml': [
        '[package]',
        'name = "dirmacs-core"',
        'version = "0.3.0"',
        '',
        '[dependencies]',
        'core-types = { workspace = true }',
        'serde = { workspace = true }',
        '',
      ].join('\n'),
      'crates/dirmacs-core/src/lib.rs': 'pub fn core() {}\n',
    },
    'https://github.com/dirmacs/dirmacs-core.git',
  )
  repo(
    root,
    'ares',
    {
      'Cargo.toml': [
        '[package]',
        'name = "ares"',
        'version = "1.0.0"',
        'description = """',
        'A multi-line [dependencies] string',
        'that must not confuse the line scanner"""',
        '',
        '[dependencies]',
        'dirmacs-core = { path = "../dirmacs-core/crates/dirmacs-core" }',
        'tokio = { version = "1", features = ["full"] }',
        '',
        "[target.'cfg(unix)'.dev-dependencies]",
        'eruka-client = { git = "ssh://git@github.com/dirmacs/eruka.git", package = "eruka", branch = "main" }',
        '',
      ].join('\n'),
      'src/main.rs': 'fn main() {}\n',
      'clients/ts/package.json': '{\n  "name": "ares-client",\n  "version": "1.0.0"\n}\n',
    },
    'git@github.com:dirmacs/ares.git',
  )
  repo(
    root,
    'eruka',
    {
      'Cargo.toml':
        '[package]\nname = "eruka"\nversion = "0.2.0"\n\n[dependencies.dirmacs-core]\nversion = "0.3"\n',
      'src/lib.rs': '',
    },
    'git@github.com:dirmacs/eruka.git',
  )
  repo(root, 'ehb', {
    'package.json': '{\n  "name": "ehb-root",\n  "private": true\n}\n',
    'pnpm-workspace.yaml': "packages:\n  - 'packages/*'\n  - '!packages/ignored'\n",
    'packages/web/package.json': JSON.stringify(
      {
        name: '@ehb/web',
        dependencies: { '@ehb/ui': 'workspace:*', 'ares-client': 'file:../../../ares/clients/ts' },
        devDependencies: { typescript: '^5' },
      },
      null,
      2,
    ),
    'packages/ui/package.json': '{ "name": "@ehb/ui", "version": "0.0.1" }\n',
    'packages/ignored/package.json':
      '{ "name": "@ehb/ignored", "dependencies": { "@ehb/ui": "workspace:*" } }\n',
    'node_modules/left-pad/package.json': '{ "name": "left-pad" }\n',
  })
  repo(root, 'golib', { 'go.mod': 'module example.com/golib\n\ngo 1.22\n' })
  repo(root, 'gosvc', {
    'go.mod': [
      'module example.com/gosvc',
      '',
      'go 1.22',
      '',
      'require (',
      '\texample.com/golib v0.1.0',
      '\tgithub.com/pkg/errors v0.9.1 // indirect',
      ')',
      '',
      'replace example.com/golib => ../golib',
      '',
    ].join('\n'),
  })
  repo(root, 'pyapp', {
    'pyproject.toml': [
      '[project]',
      'name = "PyApp"',
      'version = "0.1.0"',
      'dependencies = [',
      '  "py-lib>=1.0",',
      '  "requests",',
      ']',
      '',
      '[tool.uv.sources]',
      'py-lib = { path = "../pylib", editable = true }',
      '',
    ].join('\n'),
  })
  repo(root, 'pylib', {
    'pyproject.toml': [
      '[tool.poetry]',
      'name = "py_lib"',
      'version = "1.0.0"',
      '',
      '[tool.poetry.dependencies]',
      'python = "^3.11"',
      'pyapp = { path = "../pyapp", develop = true }',
      '',
    ].join('\n'),
  })
  repo(root, 'broken', {
    'Cargo.toml': '[package]\nname = "broken"\nversion = = "1"\n',
    'web/package.json': '{\n  "name": "broken-web",\n  "dependencies": {\n    "a": "1",,\n  }\n}\n',
    'svc/go.mod': 'module example.com/broken\n\nrequire example.com/golib v0.1.0\nfrobnicate now\n',
    'py/pyproject.toml':
      '[project]\nname = "broken-py"\ndependencies = ["ghost"]\n\n[tool.uv.sources]\nghost = { path = "../../nowhere" }\n',
  })
  // Not repositories, or not to be searched: never part of the graph.
  write(root, { 'notrepo/Cargo.toml': '[package]\nname = "notrepo"\n' })
  repo(join(root, 'node_modules'), 'hidden', { 'Cargo.toml': '[package]\nname = "hidden"\n' })
  // A second path to ares: found once.
  symlinkSync(join(root, 'ares'), join(root, 'ares-link'))
  return root
}

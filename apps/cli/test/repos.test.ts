// `dstack repos …` and `dstack audit` as a user runs them, over a fleet of real git repositories with bare remotes.
import { spawn } from 'node:child_process'
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { git, write } from '@dstack/git/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bin, type Result, runDstack } from './support/cli.ts'

const GIT_ENV = { GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' }

/** Running, not a zombie nobody reaped yet. */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}

let base: string
let fleet: string
let home: string

/** A repository in the fleet, cloned from a bare remote in `base/remotes`, with `files` committed and pushed. */
function repo(name: string, files: Record<string, string>): string {
  const remote = join(base, 'remotes', `${name}.git`)
  mkdirSync(remote, { recursive: true })
  git(remote, 'init', '-q', '--bare')
  const dir = join(fleet, name)
  git(fleet, 'clone', '-q', remote, dir)
  write(dir, files)
  git(dir, 'add', '-A')
  git(dir, 'commit', '-q', '-m', 'initial')
  git(dir, 'push', '-q', '-u', 'origin', 'main')
  return dir
}

function dstack(args: string[], cwd = join(fleet, 'api')): Promise<Result> {
  return runDstack(args, {
    cwd,
    env: { PATH: process.env.PATH, HOME: home, DSTACK_HOME: join(home, '.dstack'), ...GIT_ENV },
  })
}

async function json<T>(args: string[], cwd?: string): Promise<T> {
  const result = await dstack([...args, '--json'], cwd)
  expect(result.stderr).toBe('')
  expect(result.code).toBe(0)
  return JSON.parse(result.stdout) as T
}

beforeAll(() => {
  base = realpathSync(mkdtempSync(join(tmpdir(), 'dstack-repos-cli-')))
  fleet = join(base, 'fleet')
  home = join(base, 'home')
  mkdirSync(fleet)
  mkdirSync(home)
  repo('core', { 'Cargo.toml': '[package]\nname = "core"\n', 'src/lib.rs': 'pub fn f() {}\n' })
  repo('api', {
    'Cargo.toml': '[package]\nname = "api"\n\n[dependencies]\ncore = { path = "../core" }\n',
    'src/main.rs': 'fn main() {}\n',
  })
  repo('web', {
    'package.json': '{\n  "name": "web",\n  "dependencies": { "api-client": "file:../api/client" }\n}\n',
  })
  write(join(fleet, 'api'), {
    'client/package.json': '{"name":"api-client","dependencies":{"core-wasm":"file:../../core/wasm"}}',
  })
  write(join(fleet, 'core'), { 'wasm/package.json': '{"name":"core-wasm"}' })
  for (const name of ['api', 'core']) {
    git(join(fleet, name), 'add', '-A')
    git(join(fleet, name), 'commit', '-q', '-m', 'npm side')
    git(join(fleet, name), 'push', '-q')
  }
  repo('broken', {
    'Cargo.toml': '[package]\nname = "broken"\n[dependencies]\nx = { path = "../nowhere" }\n',
  })
})
afterAll(() => rmSync(base, { recursive: true, force: true }))

describe('dstack repos', () => {
  it('list: finds the siblings of the current repository, with packages and located problems', async () => {
    const out = await json<{
      repos: Array<{ id: string; packages: string[] }>
      problems: Array<{ kind: string; source: { line: number } }>
    }>(['repos', 'list'])
    expect(out.repos.map((r) => [r.id, r.packages])).toEqual([
      ['api', ['cargo:api', 'npm:api-client']],
      ['broken', ['cargo:broken']],
      ['core', ['cargo:core', 'npm:core-wasm']],
      ['web', ['npm:web']],
    ])
    expect(out.problems).toEqual([
      expect.objectContaining({ kind: 'dangling', source: expect.objectContaining({ line: 4 }) }),
    ])
    const human = await dstack(['repos', 'list'])
    expect(human.stdout).toMatch(/broken\/Cargo.toml:4: dangling: x → \.\.\/nowhere/)
  })

  it('graph: every format, to stdout or a file; a wrong format is refused with exit 2', async () => {
    const dot = await dstack(['repos', 'graph'])
    expect(dot.stdout).toContain('"cargo:api" -> "cargo:core" [style=solid, label="path"];')
    const svgFile = join(base, 'fleet.svg')
    const svg = await dstack(['repos', 'graph', '--format', 'svg', '--output', svgFile])
    expect(svg.code).toBe(0)
    expect(readFileSync(svgFile, 'utf8')).toMatch(/^<svg /)
    const graph = await json<{ schema: string; edges: unknown[] }>(['repos', 'graph'])
    expect(graph.schema).toBe('dstack.repo-graph/v1')
    expect(graph.edges).toHaveLength(3)
    expect((await dstack(['repos', 'graph', '--format', 'png'])).code).toBe(2)
  })

  it('affected: from named repositories, and from what git says changed', async () => {
    const named = await json<{ packages: Array<{ id: string; depth: number }>; repos: string[] }>([
      'repos',
      'affected',
      '--repo',
      'core',
    ])
    expect(named.packages.map((p) => `${p.id}:${p.depth}`)).toEqual([
      'cargo:core:0',
      'npm:core-wasm:0',
      'cargo:api:1',
      'npm:api-client:1',
      'npm:web:2',
    ])
    expect((await json<{ packages: unknown[] }>(['repos', 'affected'])).packages).toEqual([])
    write(join(fleet, 'core'), { 'wasm/index.js': 'export {}\n' })
    try {
      const fromGit = await json<{ changed: string[]; repos: string[] }>(['repos', 'affected'])
      expect(fromGit.changed).toEqual(['npm:core-wasm'])
      expect(fromGit.repos).toEqual(['api', 'core', 'web'])
    } finally {
      rmSync(join(fleet, 'core', 'wasm', 'index.js'))
    }
  })

  it('order and why, with exit 7 when there is no chain', async () => {
    const order = await json<{ levels: string[][] }>(['repos', 'order'])
    expect(order.levels).toEqual([['broken', 'core'], ['api'], ['web']])
    const chain = await json<{ path: Array<{ from: string; to: string; source: { line: number } }> }>([
      'repos',
      'why',
      'web',
      'core-wasm',
    ])
    expect(chain.path.map((e) => `${e.from}->${e.to}:${e.source.line}`)).toEqual([
      'npm:web->npm:api-client:3',
      'npm:api-client->npm:core-wasm:1',
    ])
    const none = await dstack(['repos', 'why', 'core', 'web'])
    expect(none.code).toBe(7)
    expect(none.stdout).toMatch(/core does not depend on web/)
  })

  it('plan: builds, restarts and verifies in order with --run; a failing step exits 6; a bad dstack.yaml exits 3', async () => {
    const log = join(base, 'plan.log')
    writeFileSync(
      join(fleet, 'dstack.yaml'),
      `repos:
  core: { build: echo build-core >> ${log} }
  api:
    build: echo build-api >> ${log}
    services: [{ name: api, restart: echo restart-api >> ${log} }]
  web: { verify: echo verify-web >> ${log} }
`,
    )
    try {
      const planned = await json<{ steps: Array<{ phase: string; repo: string }> }>([
        'repos',
        'plan',
        '--repo',
        'core',
      ])
      expect(planned.steps.map((s) => `${s.phase}:${s.repo}`)).toEqual([
        'build:core',
        'build:api',
        'restart:api',
        'verify:web',
      ])
      expect(existsSync(log)).toBe(false)
      const ran = await dstack(['repos', 'plan', '--repo', 'core', '--run'])
      expect(ran.code).toBe(0)
      expect(readFileSync(log, 'utf8')).toBe('build-core\nbuild-api\nrestart-api\nverify-web\n')

      writeFileSync(join(fleet, 'dstack.yaml'), 'repos:\n  core: { build: "exit 3" }\n')
      const failed = await dstack(['repos', 'plan', '--repo', 'core', '--run'])
      expect(failed.code).toBe(6)
      expect(failed.stdout).toMatch(/failed: exit 3: exit code 3/)

      writeFileSync(join(fleet, 'dstack.yaml'), 'repos:\n  core:\n    biuld: make\n')
      const bad = await dstack(['repos', 'plan', '--repo', 'core'])
      expect(bad.code).toBe(3)
      expect(bad.stderr).toMatch(/dstack.yaml: line 3, column 12: repos.core: Unrecognized key: "biuld"/)
    } finally {
      rmSync(join(fleet, 'dstack.yaml'))
    }
  })

  it('plan --run: Ctrl-C stops the running step and its children, exits 130', async () => {
    const pidFile = join(base, 'build.pid')
    writeFileSync(
      join(fleet, 'dstack.yaml'),
      `repos:\n  core: { build: "sleep 30 & echo $! > ${pidFile}; wait" }\n`,
    )
    try {
      const child = spawn(process.execPath, [bin, 'repos', 'plan', '--repo', 'core', '--run'], {
        cwd: join(fleet, 'api'),
        env: { PATH: process.env.PATH, HOME: home, DSTACK_HOME: join(home, '.dstack'), ...GIT_ENV },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let stdout = ''
      child.stdout.on('data', (d) => {
        stdout += d
      })
      const readPid = () => (existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : 0)
      for (let i = 0; i < 400 && !(readPid() > 0); i++) await new Promise((r) => setTimeout(r, 25))
      const sleeper = readPid()
      expect(sleeper).toBeGreaterThan(0)
      const exited = new Promise<number | null>((done) => child.once('close', done))
      child.kill('SIGINT')
      expect(await exited).toBe(130)
      expect(stdout).toMatch(/✗ \[1\/1\] build core: .* interrupted|failed: .*: interrupted/)
      expect(running(sleeper)).toBe(false)
    } finally {
      rmSync(join(fleet, 'dstack.yaml'))
    }
  })

  it('status and sync: behind is seen, fast-forwarded, and dependents are counted; a dirty repository is left alone', async () => {
    // Someone else pushes to core; api gets an uncommitted change.
    const other = join(base, 'other-core')
    git(base, 'clone', '-q', join(base, 'remotes', 'core.git'), other)
    write(other, { 'src/lib.rs': 'pub fn f() {}\npub fn g() {}\n' })
    git(other, 'commit', '-q', '-am', 'g')
    git(other, 'push', '-q')
    write(join(fleet, 'api'), { 'src/main.rs': 'fn main() { println!("wip") }\n' })

    const status = await json<{
      repos: Array<{ repo: string; behind: number | null; dirty: boolean; dependents: string[] }>
    }>(['repos', 'status', '--fetch'])
    const core = status.repos.find((r) => r.repo === 'core')!
    expect(core).toMatchObject({ behind: 1, dirty: false, dependents: ['api', 'web'] })
    const human = await dstack(['repos', 'status'])
    expect(human.stdout).toMatch(/core +main · ↑0 ↓1 · clean · 2 repos depend on it/)

    const sync = await dstack(['repos', 'sync'])
    expect(sync.code).toBe(0)
    expect(sync.stdout).toMatch(/core +updated +1 commit/)
    expect(sync.stdout).toMatch(/api +skipped +dirty: 1 changed file/)
    expect(readFileSync(join(fleet, 'core', 'src', 'lib.rs'), 'utf8')).toContain('pub fn g()')
    expect(readFileSync(join(fleet, 'api', 'src', 'main.rs'), 'utf8')).toContain('wip')
    git(join(fleet, 'api'), 'checkout', '--', 'src/main.rs')
  })

  it('sync: a remote that is gone fails that repository (exit 6) and the others still sync', async () => {
    const gone = join(base, 'remotes', 'web.git')
    rmSync(gone, { recursive: true })
    try {
      const sync = await dstack(['repos', 'sync', '--json'])
      expect(sync.code).toBe(6)
      const { results } = JSON.parse(sync.stdout) as { results: Array<{ repo: string; action: string }> }
      expect(Object.fromEntries(results.map((r) => [r.repo, r.action]))).toEqual({
        api: 'up-to-date',
        broken: 'up-to-date',
        core: 'up-to-date',
        web: 'failed',
      })
    } finally {
      git(base, 'init', '-q', '--bare', gone)
      git(join(fleet, 'web'), 'push', '-q', 'origin', 'main')
    }
  })

  it('audit: findings per repository, and --strict exits 6 on a warning', async () => {
    write(join(fleet, 'api'), { 'src/new.rs': 'pub fn untested() {}\n' })
    try {
      const report = await json<{ findings: Array<{ repo: string; kind: string; files?: string[] }> }>([
        'audit',
      ])
      expect(
        report.findings
          .filter((f) => f.repo === 'api')
          .map((f) => f.kind)
          .sort(),
      ).toEqual(['missing-tests', 'uncommitted'])
      expect((await dstack(['audit', '--strict'])).code).toBe(6)
    } finally {
      rmSync(join(fleet, 'api', 'src', 'new.rs'))
    }
    expect((await dstack(['audit', '--strict'])).code).toBe(0)
  })

  it('--root points anywhere; a root that is not a directory is reported', async () => {
    const out = await json<{ repos: Array<{ id: string }>; problems: Array<{ kind: string }> }>(
      ['repos', 'list', '--root', join(fleet, 'core'), '--root', join(base, 'nope')],
      base,
    )
    expect(out.repos.map((r) => r.id)).toEqual(['core'])
    expect(out.problems.map((p) => p.kind)).toEqual(['unreadable'])
  })
})

// The hook entry points as Claude Code runs them: `dstack hook <Event>` through bin/run.js (the fast path before
// oclif) and through bin/hook.cjs (what the installed launcher runs), with the payload on stdin.
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

const BIN = join(import.meta.dirname, '..', 'bin')

let root: string
let env: NodeJS.ProcessEnv
let repo: string
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'dstack-hook-entry-'))
  repo = join(root, 'repo')
  mkdirSync(join(repo, 'src'), { recursive: true })
  execFileSync('git', ['init', '-q', '-b', 'main', repo])
  writeFileSync(join(repo, 'src', 'app.ts'), 'one\ntwo\nthree\n')
  env = { PATH: process.env.PATH, HOME: root, DSTACK_HOME: join(root, '.dstack'), DSTACK_AGENT: 'alice' }
  // A flush "started just now": the hook starts no background flusher that would empty the outbox under the test.
  mkdirSync(join(root, '.dstack', 'outbox'), { recursive: true })
  writeFileSync(join(root, '.dstack', 'outbox', '.flush-started'), '')
})
afterEach(() => rmSync(root, { recursive: true, force: true }))

const outbox = () =>
  readdirSync(join(root, '.dstack', 'outbox'))
    .filter((name) => name.endsWith('.json'))
    .map((name) => JSON.parse(readFileSync(join(root, '.dstack', 'outbox', name), 'utf8')))

const edit = () =>
  JSON.stringify({
    session_id: 's1',
    cwd: repo,
    hook_event_name: 'PostToolUse',
    tool_name: 'Edit',
    tool_input: { file_path: join(repo, 'src', 'app.ts'), old_string: 'x', new_string: 'three' },
  })

describe.each([
  ['bin/run.js', 'run.js'],
  ['bin/hook.cjs', 'hook.cjs'],
])('dstack hook through %s', (_, entry) => {
  const run = (args: string[], input: string, node = process.execPath) =>
    spawnSync(node, [join(BIN, entry), ...args], { input, env, encoding: 'utf8', timeout: 20_000 })

  it('records an edit from the payload on stdin, prints nothing, exits 0', () => {
    const child = run(['hook', 'PostToolUse'], edit())
    expect({ status: child.status, stdout: child.stdout, stderr: child.stderr }).toEqual({
      status: 0,
      stdout: '',
      stderr: '',
    })
    expect(outbox()).toMatchObject([
      {
        kind: 'edit',
        path: 'src/app.ts',
        op: 'edit',
        tool: 'Edit',
        hunks: [[3, 3]],
        session: 's1',
        agent: 'alice',
      },
    ])
  })

  it('exits 0 and records nothing for garbage, empty or huge stdin', () => {
    for (const input of ['garbage', '', 'x'.repeat(5_000_000)]) {
      const child = run(['hook', 'PostToolUse'], input)
      expect(child.status).toBe(0)
      expect(child.stdout).toBe('')
    }
    expect(outbox()).toEqual([])
  })

  it('sends help and malformed calls to the full CLI', () => {
    const help = run(['hook', '--help'], '')
    expect(help.status).toBe(0)
    expect(help.stdout).toMatch(/USAGE/)
    expect(run(['hook', 'PostToolUse', '--bogus'], '').status).toBe(2)
  })

  it('fails open on the system Node when it is older than 22.12, recording nothing', () => {
    const version =
      spawnSync('/usr/bin/node', ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout ?? ''
    const [major = 0, minor = 0] = version.trim().split('.').map(Number)
    const child = run(['hook', 'PostToolUse'], edit(), '/usr/bin/node')
    if (major < 22 || (major === 22 && minor < 12)) {
      // run.js says how to fix it (exit 1, outside hooks); hook.cjs, which hooks run, fails open.
      expect(child.status).toBe(entry === 'hook.cjs' ? 0 : 1)
      expect(child.stderr).toMatch(/Node 22\.12 or newer/)
      expect(outbox()).toEqual([])
    } else {
      expect(child.status).toBe(0)
    }
  })
})

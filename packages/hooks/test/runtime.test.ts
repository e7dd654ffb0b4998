import { execFileSync } from 'node:child_process'
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ENTRY_FILE } from '@dstack/brain-schema/outbox'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { HOOK_EVENTS } from '../src/input.ts'
import { gitPush, type HookResult, runHook } from '../src/runtime.ts'

const REMOTE = 'git@github.com:acme/api.git'
const REPO = { canonical: 'github.com/acme/api', branch: 'main', defaultBranch: 'main' }
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const OK: HookResult = { stdout: '', stderr: '', exitCode: 0 }
const NO_JSON = (event: string) => `dstack hook ${event}: no usable JSON on stdin; nothing done`

/** The environment without anything from a surrounding Claude Code session, dstack setup or git hook. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env }
  for (const key of Object.keys(env)) {
    if (key.startsWith('DSTACK_') || key.startsWith('GIT_') || key.startsWith('CLAUDE_')) delete env[key]
  }
  return env
}

const GIT_ENV = { ...cleanEnv(), GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' }

function git(cwd: string, ...args: string[]): string {
  return execFileSync(
    'git',
    ['-c', 'user.name=t', '-c', 'user.email=t@t', '-c', 'commit.gpgsign=false', ...args],
    { cwd, env: GIT_ENV, encoding: 'utf8' },
  ).trim()
}

let home: string
let work: string
let env: NodeJS.ProcessEnv
let started: number

beforeEach(() => {
  home = realpathSync(mkdtempSync(join(tmpdir(), 'dstack-hooks-home-')))
  work = realpathSync(mkdtempSync(join(tmpdir(), 'dstack-hooks-work-')))
  env = { ...cleanEnv(), DSTACK_HOME: home, DSTACK_AGENT: 'alice', DSTACK_MACHINE: 'm1' }
  started = Date.now()
})

afterEach(() => {
  rmSync(home, { recursive: true, force: true })
  rmSync(work, { recursive: true, force: true })
})

/** A repository with one commit of `files`, on main, with origin at acme/api. */
function makeRepo(files: Record<string, string> = { 'src/app.ts': 'one\ntwo\n' }, name = 'api'): string {
  const root = join(work, name)
  mkdirSync(root)
  git(root, 'init', '-q', '-b', 'main')
  git(root, 'remote', 'add', 'origin', REMOTE)
  for (const [path, content] of Object.entries(files)) write(root, path, content)
  git(root, 'add', '-A')
  git(root, 'commit', '-q', '-m', 'init')
  return root
}

function write(root: string, path: string, content: string): string {
  const full = join(root, path)
  mkdirSync(join(full, '..'), { recursive: true })
  writeFileSync(full, content)
  return full
}

/** The outbox entries, in the order they were written. */
function entries(): Array<Record<string, unknown>> {
  const dir = join(home, 'outbox')
  if (!existsSync(dir)) return []
  const names = readdirSync(dir)
    .filter((name) => !name.startsWith('.'))
    .sort()
  for (const name of names) expect(name).toMatch(ENTRY_FILE)
  return names.map((name) => JSON.parse(readFileSync(join(dir, name), 'utf8')) as Record<string, unknown>)
}

/** The fields every entry carries, for session s1 of alice on m1. */
function base(session: string | null = 's1') {
  return {
    v: 1,
    id: expect.stringMatching(UUID),
    at: expect.any(String),
    session,
    agent: 'alice',
    machine: 'm1',
  }
}

function expectRecent(entry: Record<string, unknown> | undefined): void {
  const at = Date.parse(String(entry?.at))
  expect(at).toBeGreaterThanOrEqual(started - 1)
  expect(at).toBeLessThanOrEqual(Date.now() + 1)
}

async function hook(event: string, payload: unknown): Promise<HookResult> {
  return runHook(event, JSON.stringify(payload), { env })
}

describe('PostToolUse: file edits', () => {
  it('records an Edit with the repo-relative path, hunks, tool, session, agent and repository', async () => {
    const root = makeRepo({ 'src/app.ts': 'one\ntwo\nthree\n' })
    const file = write(root, 'src/app.ts', 'one\ntwo\nTWO-B\nthree\n')
    const result = await hook('PostToolUse', {
      session_id: 's1',
      cwd: root,
      hook_event_name: 'PostToolUse',
      tool_name: 'Edit',
      tool_input: { file_path: file, old_string: 'two\n', new_string: 'two\nTWO-B\n' },
      tool_response: { filePath: file },
    })
    expect(result).toEqual(OK)
    const [entry, ...rest] = entries()
    expect(rest).toEqual([])
    expect(entry).toEqual({
      ...base(),
      kind: 'edit',
      repo: REPO,
      path: 'src/app.ts',
      op: 'edit',
      tool: 'Edit',
      hunks: [[2, 3]],
    })
    expectRecent(entry)
  })

  it('records a Write that creates a file, on the branch checked out', async () => {
    const root = makeRepo()
    git(root, 'checkout', '-q', '-b', 'feature/docs')
    const file = write(root, 'docs/new.md', '# New\n\nText\n')
    const result = await hook('PostToolUse', {
      session_id: 's1',
      cwd: root,
      tool_name: 'Write',
      tool_input: { file_path: file, content: '# New\n\nText\n' },
      tool_response: { type: 'create', filePath: file },
    })
    expect(result).toEqual(OK)
    expect(entries()).toEqual([
      {
        ...base(),
        kind: 'edit',
        repo: { ...REPO, branch: 'feature/docs' },
        path: 'docs/new.md',
        op: 'create',
        tool: 'Write',
        hunks: [[1, 3]],
      },
    ])
  })

  it('records a Write over an existing file as a write, in a repository without a remote as local:<root>', async () => {
    const root = join(work, 'plain')
    mkdirSync(root)
    git(root, 'init', '-q', '-b', 'main')
    const file = write(root, 'a.txt', 'x\n')
    // No session in the payload and no DSTACK_AGENT: both are null.
    env.DSTACK_AGENT = ''
    const result = await hook('PostToolUse', {
      cwd: root,
      tool_name: 'Write',
      tool_input: { file_path: file, content: 'x\n' },
      tool_response: { type: 'update' },
    })
    expect(result).toEqual(OK)
    expect(entries()).toEqual([
      {
        ...base(null),
        agent: null,
        kind: 'edit',
        repo: { canonical: `local:${root}`, branch: 'main', defaultBranch: 'main' },
        path: 'a.txt',
        op: 'write',
        tool: 'Write',
        hunks: [[1, 1]],
      },
    ])
  })

  it('records nothing for a file outside any repository, or a relative path', async () => {
    const root = makeRepo()
    const outside = write(work, 'loose/notes.md', 'hello\n')
    expect(
      await hook('PostToolUse', {
        session_id: 's1',
        cwd: root,
        tool_name: 'Write',
        tool_input: { file_path: outside, content: 'hello\n' },
        tool_response: { type: 'create' },
      }),
    ).toEqual(OK)
    expect(
      await hook('PostToolUse', {
        session_id: 's1',
        cwd: root,
        tool_name: 'Edit',
        tool_input: { file_path: 'src/app.ts', old_string: 'x', new_string: 'one' },
      }),
    ).toEqual(OK)
    expect(entries()).toEqual([])
  })
})

describe('PostToolUse: git push', () => {
  function push(cwd: string, command: string, tool_response: unknown = { exitCode: 0 }) {
    return hook('PostToolUse', {
      session_id: 's1',
      cwd,
      tool_name: 'Bash',
      tool_input: { command },
      tool_response,
    })
  }

  it('records a successful push with the HEAD sha', async () => {
    const root = makeRepo()
    write(root, 'src/app.ts', 'one\ntwo\nthree\n')
    git(root, 'commit', '-q', '-am', 'second')
    const head = git(root, 'rev-parse', 'HEAD')
    expect(await push(root, 'git push origin main')).toEqual(OK)
    expect(entries()).toEqual([{ ...base(), kind: 'push', repo: REPO, headSha: head }])
  })

  it('records nothing for a failed push, a command that is not a push, or a cwd outside a repository', async () => {
    const root = makeRepo()
    expect(await push(root, 'git push origin main', { exitCode: 1 })).toEqual(OK)
    expect(await push(root, 'git push origin main', { exitCode: 128, stderr: 'rejected' })).toEqual(OK)
    for (const command of ['git status', 'git stash push -m wip', 'git pushx', 'echo done', 'npm run push']) {
      expect(await push(root, command)).toEqual(OK)
    }
    expect(await push(work, 'git push origin main')).toEqual(OK)
    expect(
      await hook('PostToolUse', { session_id: 's1', tool_name: 'Bash', tool_input: { command: 'git push' } }),
    ).toEqual(OK)
    expect(entries()).toEqual([])
  })

  it('recognises a push after cd, with -C or -c, and without an exit code in the response', async () => {
    const root = makeRepo()
    mkdirSync(join(root, 'sub'))
    const head = git(root, 'rev-parse', 'HEAD')
    expect(await push(root, 'cd sub && git -C .. push')).toEqual(OK)
    expect(await push(root, 'npm test; git -c push.default=current push')).toEqual(OK)
    expect(await push(root, 'git push', { stdout: '', stderr: '', interrupted: false })).toEqual(OK)
    const pushes = entries()
    expect(pushes).toHaveLength(3)
    for (const entry of pushes) expect(entry).toEqual({ ...base(), kind: 'push', repo: REPO, headSha: head })
  })
})

describe('UserPromptSubmit, Stop, PreCompact, SessionEnd', () => {
  it('records the prompt, cut to 4000 characters', async () => {
    const root = makeRepo()
    expect(
      await hook('UserPromptSubmit', { session_id: 's1', cwd: root, prompt: 'Add Stripe invoices' }),
    ).toEqual(OK)
    const long = `${'a'.repeat(3_990)}${'b'.repeat(510)}`
    expect(await hook('UserPromptSubmit', { session_id: 's1', cwd: root, prompt: long })).toEqual(OK)
    // Nothing to record: no prompt, an empty one, no cwd, a cwd outside a repository.
    expect(await hook('UserPromptSubmit', { session_id: 's1', cwd: root })).toEqual(OK)
    expect(await hook('UserPromptSubmit', { session_id: 's1', cwd: root, prompt: '' })).toEqual(OK)
    expect(await hook('UserPromptSubmit', { session_id: 's1', prompt: 'x' })).toEqual(OK)
    expect(await hook('UserPromptSubmit', { session_id: 's1', cwd: work, prompt: 'x' })).toEqual(OK)
    expect(entries()).toEqual([
      { ...base(), kind: 'prompt', repo: REPO, prompt: 'Add Stripe invoices' },
      { ...base(), kind: 'prompt', repo: REPO, prompt: `${'a'.repeat(3_990)}${'b'.repeat(10)}` },
    ])
  })

  it('records Stop with the uncommitted files and the tail of the last message', async () => {
    const root = makeRepo({ 'src/app.ts': 'one\n', 'src/old.ts': 'old\n', 'README.md': 'r\n' })
    write(root, 'src/app.ts', 'one\ntwo\n')
    unlinkSync(join(root, 'src/old.ts'))
    write(root, 'src/new/thing.ts', 'new\n')
    write(root, 'staged.txt', 's\n')
    git(root, 'add', 'staged.txt')
    const message = `${'x'.repeat(600)}${'y'.repeat(2_000)}`
    expect(
      await hook('Stop', {
        session_id: 's1',
        cwd: join(root, 'src'),
        stop_hook_active: false,
        last_assistant_message: message,
      }),
    ).toEqual(OK)
    expect(entries()).toEqual([
      {
        ...base(),
        kind: 'stop',
        repo: REPO,
        uncommittedFiles: ['src/app.ts', 'src/new/thing.ts', 'src/old.ts', 'staged.txt'],
        lastMessage: 'y'.repeat(2_000),
      },
    ])
  })

  it('records PreCompact like Stop, with a null message when there is none', async () => {
    const root = makeRepo()
    write(root, 'src/app.ts', 'changed\n')
    expect(await hook('PreCompact', { session_id: 's1', cwd: root, trigger: 'auto' })).toEqual(OK)
    write(root, 'b.ts', 'b\n')
    expect(
      await hook('PreCompact', {
        session_id: 's1',
        cwd: root,
        trigger: 'manual',
        last_assistant_message: 'done',
      }),
    ).toEqual(OK)
    // Outside a repository, or without a cwd, there is no handoff to refresh.
    expect(await hook('Stop', { session_id: 's1', cwd: work })).toEqual(OK)
    expect(await hook('Stop', { session_id: 's1' })).toEqual(OK)
    expect(entries()).toEqual([
      { ...base(), kind: 'stop', repo: REPO, uncommittedFiles: ['src/app.ts'], lastMessage: null },
      { ...base(), kind: 'stop', repo: REPO, uncommittedFiles: ['b.ts', 'src/app.ts'], lastMessage: 'done' },
    ])
  })

  it('records SessionEnd as a leave entry', async () => {
    const root = makeRepo()
    expect(await hook('SessionEnd', { session_id: 's1', cwd: root, reason: 'logout' })).toEqual(OK)
    expect(await hook('SessionEnd', { session_id: 's1', cwd: work, reason: 'logout' })).toEqual(OK)
    expect(entries()).toEqual([{ ...base(), kind: 'leave', repo: REPO }])
  })
})

describe('bad input', () => {
  it('does nothing and exits 0 for stdin that is not a JSON object', async () => {
    const root = makeRepo()
    for (const event of HOOK_EVENTS) {
      for (const stdin of ['', 'not json', '[]', 'null', '42', '"text"', '{"cwd":']) {
        expect(await runHook(event, stdin, { env })).toEqual({
          stdout: '',
          stderr: NO_JSON(event),
          exitCode: 0,
        })
      }
    }
    // Over 64 MB: refused before parsing, even though it is a valid payload.
    const huge = JSON.stringify({ session_id: 's1', cwd: root, prompt: 'p'.repeat(70 * 1024 * 1024) })
    expect(await runHook('UserPromptSubmit', huge, { env })).toEqual({
      stdout: '',
      stderr: NO_JSON('UserPromptSubmit'),
      exitCode: 0,
    })
    expect(entries()).toEqual([])
  })

  it('names the known events for an unknown one', async () => {
    const root = makeRepo()
    const payload = JSON.stringify({ session_id: 's1', cwd: root, prompt: 'x' })
    for (const event of ['Notification', 'userPromptSubmit', '', '__proto__']) {
      expect(await runHook(event, payload, { env })).toEqual({
        stdout: '',
        stderr: `dstack hook: unknown event ${JSON.stringify(event)}; known: SessionStart, UserPromptSubmit, PreToolUse, PostToolUse, Stop, PreCompact, SessionEnd`,
        exitCode: 0,
      })
    }
    expect(entries()).toEqual([])
  })

  it('ignores fields of the wrong type', async () => {
    const root = makeRepo()
    const file = join(root, 'src/app.ts')
    // tool_input that is not an object: no file, so no edit.
    const asString = {
      session_id: 's1',
      cwd: root,
      tool_name: 'Edit',
      tool_input: JSON.stringify({ file_path: file }),
    }
    expect(await hook('PostToolUse', asString)).toEqual(OK)
    expect(await hook('PostToolUse', { ...asString, tool_input: [file] })).toEqual(OK)
    expect(await hook('UserPromptSubmit', { session_id: 's1', cwd: root, prompt: ['x'] })).toEqual(OK)
    expect(await hook('Stop', { session_id: 's1', cwd: 7 })).toEqual(OK)
    expect(entries()).toEqual([])
    // A session_id that is not a string is dropped; the edit itself is still recorded.
    expect(
      await hook('PostToolUse', {
        session_id: 12,
        cwd: root,
        tool_name: 'Edit',
        tool_input: { file_path: file, old_string: 'x', new_string: 'two' },
      }),
    ).toEqual(OK)
    expect(entries()).toEqual([
      {
        ...base(null),
        kind: 'edit',
        repo: REPO,
        path: 'src/app.ts',
        op: 'edit',
        tool: 'Edit',
        hunks: [[2, 2]],
      },
    ])
  })

  it('reports an error on stderr and still exits 0', async () => {
    const root = makeRepo()
    // A MultiEdit whose edits hold a null still logs the edit; the null item is skipped.
    const result = await hook('PostToolUse', {
      session_id: 's1',
      cwd: root,
      tool_name: 'MultiEdit',
      tool_input: { file_path: join(root, 'src/app.ts'), edits: [null] },
    })
    expect(result).toMatchObject({ exitCode: 0, stdout: '', stderr: '' })
    // An outbox that cannot be written: DSTACK_HOME is a file.
    env.DSTACK_HOME = write(work, 'not-a-dir', '')
    const blocked = await hook('UserPromptSubmit', { session_id: 's1', cwd: root, prompt: 'x' })
    expect(blocked.exitCode).toBe(0)
    expect(blocked.stdout).toBe('')
    expect(blocked.stderr).toMatch(/^dstack hook UserPromptSubmit: /)
  })
})

describe('SessionStart and PreToolUse without a brain', () => {
  // An invalid brain URL: any attempt to load the config and open the brain fails, and shows in the result.
  const trap = () => ({ ...env, DSTACK_BRAIN_URL: 'not a url' })

  it('SessionStart outside a repository prints nothing', async () => {
    expect(
      await runHook('SessionStart', JSON.stringify({ session_id: 's1', cwd: work }), { env: trap() }),
    ).toEqual(OK)
    expect(await runHook('SessionStart', JSON.stringify({ session_id: 's1' }), { env: trap() })).toEqual({
      stdout: '',
      stderr: 'dstack hook SessionStart: no cwd in the input',
      exitCode: 0,
    })
    expect(readdirSync(home)).toEqual([])
  })

  it('PreToolUse returns at once for a command that is not a push, without opening the brain', async () => {
    const root = makeRepo()
    const begin = performance.now()
    const result = await runHook(
      'PreToolUse',
      JSON.stringify({ session_id: 's1', cwd: root, tool_name: 'Bash', tool_input: { command: 'npm test' } }),
      { env: trap(), strict: true },
    )
    expect(performance.now() - begin).toBeLessThan(1_000)
    expect(result).toEqual(OK)
    for (const payload of [
      { session_id: 's1', cwd: root, tool_name: 'Bash', tool_input: { command: 'git stash push' } },
      { session_id: 's1', cwd: root, tool_name: 'Write', tool_input: { command: 'git push' } },
      { session_id: 's1', tool_name: 'Bash', tool_input: { command: 'git push' } },
    ]) {
      expect(await runHook('PreToolUse', JSON.stringify(payload), { env: trap(), strict: true })).toEqual(OK)
    }
    expect(readdirSync(home)).toEqual([])
  })

  it('PreToolUse on a push fails open when the brain cannot be opened, even in strict mode', async () => {
    const root = makeRepo()
    const payload = JSON.stringify({
      session_id: 's1',
      cwd: root,
      tool_name: 'Bash',
      tool_input: { command: 'git push origin main' },
    })
    for (const result of [
      await runHook('PreToolUse', payload, { env: trap() }),
      await runHook('PreToolUse', payload, { env: trap(), strict: true }),
      await runHook('PreToolUse', payload, { env: { ...trap(), DSTACK_PRECHECK: 'strict' } }),
    ]) {
      expect(result.exitCode).toBe(0)
      expect(result.stderr).toMatch(/^dstack pre-check skipped: .*DSTACK_BRAIN_URL/)
      expect(JSON.parse(result.stdout)).toEqual({ systemMessage: result.stderr })
    }
  })
})

describe('gitPush: which shell lines are a real push, and from where', () => {
  it.each([
    ['git push', '/w'],
    ['git push origin main', '/w'],
    ['cd api && git push -u origin feat/x', '/w/api'],
    ['git -C ../other push', '/other'],
    ['FOO=1 git -c core.x=y push --force-with-lease', '/w'],
    ['npm test; git push', '/w'],
  ])('%s → pushes from %s', (command, dir) => {
    expect(gitPush(command, '/w')).toEqual({ dir })
  })

  it.each([
    'echo git push',
    'git push --dry-run',
    'git push -n origin main',
    'git push origin --delete old',
    'git push origin :old',
    'git push --tags',
    'git status && git log',
    'gitpush',
  ])('%s → no push', (command) => {
    expect(gitPush(command, '/w')).toBeNull()
  })
})

import { execFile } from 'node:child_process'
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  type CommandHandler,
  type HookSpec,
  hooksStatus,
  installHooks,
  isDstackHandler,
  SettingsFileError,
  uninstallHooks,
} from '../src/settings/install.ts'

const run = promisify(execFile)
const DSTACK = '/usr/local/bin/dstack'
const NOW = new Date('2025-01-02T03:04:05.678Z')
const STAMP = '20250102T030405Z'

function dstack(hook: string, extra: Partial<CommandHandler> = {}): CommandHandler {
  return { type: 'command', command: DSTACK, args: ['hook', hook], timeout: 10, ...extra }
}

const post = dstack('post-tool-use')
const pre = dstack('pre-push', { if: 'Bash(git push *)', statusMessage: 'dstack: checking conflicts' })
const start = dstack('session-start')
const stop = dstack('stop', { async: true })
const SPECS: HookSpec[] = [
  { event: 'PostToolUse', matcher: 'Edit|Write', handler: post },
  { event: 'PreToolUse', matcher: 'Bash', handler: pre },
  { event: 'SessionStart', handler: start },
  { event: 'Stop', handler: stop },
]

// Other tools' handlers.
const prettier = { type: 'command', command: 'npx prettier --write', timeout: 30 }
const audit = { type: 'command', command: '/opt/other/audit.sh', args: ['--quiet'] }
const guard = { type: 'command', command: 'guard-reads' }
const hello = { type: 'prompt', prompt: 'Say hello' }
const say = { type: 'command', command: 'say done' }

/** A file other tools and the user already use: hooks on the same events and matchers as ours. */
function othersSettings() {
  return {
    permissions: { allow: ['Bash(npm test)'], deny: [] },
    hooks: {
      PostToolUse: [
        { matcher: 'Edit|Write', hooks: [prettier] },
        { matcher: 'Bash', hooks: [audit] },
      ],
      PreToolUse: [{ matcher: 'Read', hooks: [guard], note: 'kept as is' }],
      SessionStart: [{ matcher: '', hooks: [hello] }],
      Stop: [{ matcher: '*', hooks: [say] }],
      Notification: [{ matcher: 'idle', hooks: [] }],
    },
    env: { FOO: '1' },
    model: 'opus',
  }
}

/** othersSettings after installing SPECS: ours appended, theirs untouched and in order. */
function othersWithOurs() {
  return {
    permissions: { allow: ['Bash(npm test)'], deny: [] },
    hooks: {
      PostToolUse: [
        { matcher: 'Edit|Write', hooks: [prettier, post] },
        { matcher: 'Bash', hooks: [audit] },
      ],
      PreToolUse: [
        { matcher: 'Read', hooks: [guard], note: 'kept as is' },
        { matcher: 'Bash', hooks: [pre] },
      ],
      SessionStart: [{ matcher: '', hooks: [hello, start] }],
      Stop: [{ matcher: '*', hooks: [say] }, { hooks: [stop] }],
      Notification: [{ matcher: 'idle', hooks: [] }],
    },
    env: { FOO: '1' },
    model: 'opus',
  }
}

const onlyOurs = {
  hooks: {
    PostToolUse: [{ matcher: 'Edit|Write', hooks: [post] }],
    PreToolUse: [{ matcher: 'Bash', hooks: [pre] }],
    SessionStart: [{ hooks: [start] }],
    Stop: [{ hooks: [stop] }],
  },
}

function pretty(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`
}

let dir: string
let file: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dstack-settings-'))
  file = join(dir, 'settings.json')
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

function expectRefused(text: string | Buffer, problem: RegExp): void {
  writeFileSync(file, text)
  const before = readFileSync(file)
  for (const attempt of [
    () => installHooks(file, SPECS, { now: NOW }),
    () => uninstallHooks(file, { now: NOW }),
    () => hooksStatus(file, SPECS),
  ]) {
    let caught: unknown
    try {
      attempt()
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(SettingsFileError)
    expect((caught as SettingsFileError).path).toBe(file)
    expect((caught as SettingsFileError).problem).toMatch(problem)
    expect((caught as SettingsFileError).message).toContain(file)
  }
  expect(readFileSync(file).equals(before)).toBe(true)
  expect(readdirSync(dir)).toEqual(['settings.json'])
}

describe('isDstackHandler', () => {
  it.each([
    [{ type: 'command', command: '/usr/local/bin/dstack', args: ['hook', 'stop'] }, true],
    [{ type: 'command', command: 'dstack', args: ['hook'] }, true],
    [{ type: 'command', command: 'dstack hook stop' }, true],
    [{ type: 'command', command: '/home/me/.local/bin/dstack hook post-tool-use --json' }, true],
    [{ type: 'command', command: 'DSTACK_HOME=/x dstack  hook stop' }, true],
    [{ type: 'command', command: '/usr/local/bin/dstack', args: ['status'] }, false],
    [{ type: 'command', command: '/usr/local/bin/dstack-helper', args: ['hook', 'stop'] }, false],
    [{ type: 'command', command: 'mydstack hook stop' }, false],
    [{ type: 'command', command: 'dstack hooks stop' }, false],
    [{ type: 'command', command: 'echo dstack' }, false],
    [{ type: 'prompt', command: 'dstack hook stop' }, false],
    [{ type: 'command' }, false],
    ['dstack hook stop', false],
    [null, false],
  ])('%j → %s', (handler, expected) => {
    expect(isDstackHandler(handler)).toBe(expected)
  })
})

describe('installHooks', () => {
  it('creates a missing file (and its directory), 0600, with exactly our hooks', () => {
    const nested = join(dir, 'home', '.claude', 'settings.json')
    const result = installHooks(nested, SPECS, { now: NOW })
    expect(result).toEqual({
      path: nested,
      changed: true,
      backupPath: null,
      added: 4,
      updated: 0,
      removed: 0,
    })
    expect(readFileSync(nested, 'utf8')).toBe(pretty(onlyOurs))
    expect(statSync(nested).mode & 0o777).toBe(0o600)
    expect(readdirSync(join(dir, 'home', '.claude'))).toEqual(['settings.json'])
  })

  it('fills `{}` and an empty file, backing up the original first', () => {
    for (const original of ['{}', '', '  \n']) {
      rmSync(dir, { recursive: true, force: true })
      mkdirSync(dir)
      writeFileSync(file, original)
      const result = installHooks(file, SPECS, { now: NOW })
      const backup = `${file}.dstack-backup-${STAMP}`
      expect(result).toEqual({
        path: file,
        changed: true,
        backupPath: backup,
        added: 4,
        updated: 0,
        removed: 0,
      })
      expect(readFileSync(file, 'utf8')).toBe(pretty(onlyOurs))
      expect(readFileSync(backup, 'utf8')).toBe(original)
      expect(statSync(backup).mode & 0o777).toBe(0o600)
    }
  })

  it("appends ours next to other tools' hooks and keeps theirs, their order and every other key", () => {
    writeFileSync(file, JSON.stringify(othersSettings()))
    const result = installHooks(file, SPECS, { now: NOW })
    expect(result).toMatchObject({ changed: true, added: 4, updated: 0, removed: 0 })
    // Exact text: key order, group order, handler order and untouched extra keys all count.
    expect(readFileSync(file, 'utf8')).toBe(pretty(othersWithOurs()))
  })

  it('keeps numbers as written and the BOM and CRLF line endings of the original', () => {
    const original =
      '\uFEFF{\r\n    "cleanupPeriodDays": 30.0,\r\n    "big": 12345678901234567890,\r\n    "ratio": 1e3\r\n}\r\n'
    writeFileSync(file, original)
    installHooks(file, [SPECS[2]!], { now: NOW })
    const expected = pretty({
      cleanupPeriodDays: 30,
      big: 1,
      ratio: 1000,
      hooks: { SessionStart: [{ hooks: [start] }] },
    })
      .replace('"cleanupPeriodDays": 30', '"cleanupPeriodDays": 30.0')
      .replace('"big": 1', '"big": 12345678901234567890')
      .replace('"ratio": 1000', '"ratio": 1e3')
      .replaceAll('\n', '\r\n')
    expect(readFileSync(file, 'utf8')).toBe(`\uFEFF${expected}`)
  })

  it('is idempotent: a second run writes nothing, keeps the bytes and mtime and makes no backup', async () => {
    writeFileSync(file, JSON.stringify(othersSettings()))
    installHooks(file, SPECS, { now: NOW })
    const bytes = readFileSync(file)
    const { mtimeMs } = statSync(file)
    const entries = readdirSync(dir).sort()
    await sleep(30)
    const again = installHooks(file, SPECS, { now: new Date('2025-06-01T00:00:00Z') })
    expect(again).toEqual({ path: file, changed: false, backupPath: null, added: 0, updated: 0, removed: 0 })
    expect(readFileSync(file).equals(bytes)).toBe(true)
    expect(statSync(file).mtimeMs).toBe(mtimeMs)
    expect(readdirSync(dir).sort()).toEqual(entries)
  })

  it('compares handlers independent of key order and leaves a differently formatted file alone', () => {
    const reordered = {
      hooks: {
        PostToolUse: [
          {
            hooks: [{ timeout: 10, args: ['hook', 'post-tool-use'], command: DSTACK, type: 'command' }],
            matcher: 'Edit|Write',
          },
        ],
      },
    }
    const text = JSON.stringify(reordered, null, 4)
    writeFileSync(file, text)
    expect(installHooks(file, [SPECS[0]!], { now: NOW }).changed).toBe(false)
    expect(readFileSync(file, 'utf8')).toBe(text)
  })

  it('upgrades: replaces old dstack handlers (other args, moved matcher), drops retired ones, backs up the original', () => {
    const oldPost = dstack('post-tool-use', { args: ['hook', 'post-tool-use', '--v1'], timeout: 5 })
    const oldPre = dstack('pre-push')
    const retired = dstack('notification')
    const original = JSON.stringify({
      hooks: {
        PostToolUse: [{ matcher: 'Edit', hooks: [oldPost, prettier] }],
        PreToolUse: [
          { matcher: 'Bash', hooks: [oldPre] },
          { matcher: 'Read', hooks: [guard] },
        ],
        SessionStart: [{ hooks: [start] }],
        Notification: [{ hooks: [retired] }],
        Stop: [{ hooks: [stop] }],
      },
      model: 'opus',
    })
    writeFileSync(file, original)
    const result = installHooks(file, SPECS, { now: NOW })
    expect(result).toEqual({
      path: file,
      changed: true,
      backupPath: `${file}.dstack-backup-${STAMP}`,
      added: 0,
      updated: 2,
      removed: 1,
    })
    expect(readFileSync(file, 'utf8')).toBe(
      pretty({
        hooks: {
          // The matcher changed: ours left the 'Edit' group (theirs stays) for a new 'Edit|Write' group.
          PostToolUse: [
            { matcher: 'Edit', hooks: [prettier] },
            { matcher: 'Edit|Write', hooks: [post] },
          ],
          // Same matcher: the new handler takes the old one's group, in place.
          PreToolUse: [
            { matcher: 'Bash', hooks: [pre] },
            { matcher: 'Read', hooks: [guard] },
          ],
          SessionStart: [{ hooks: [start] }],
          Stop: [{ hooks: [stop] }],
        },
        model: 'opus',
      }),
    )
    expect(readFileSync(result.backupPath!, 'utf8')).toBe(original)
  })

  it('recognises an old shell-form dstack handler and replaces it', () => {
    const shellForm = { type: 'command', command: '/home/me/.local/bin/dstack hook post-tool-use --json' }
    writeFileSync(
      file,
      JSON.stringify({ hooks: { PostToolUse: [{ matcher: 'Edit|Write', hooks: [shellForm, prettier] }] } }),
    )
    const result = installHooks(file, [SPECS[0]!], { now: NOW })
    expect(result).toMatchObject({ changed: true, added: 0, updated: 1, removed: 0 })
    expect(readFileSync(file, 'utf8')).toBe(
      pretty({ hooks: { PostToolUse: [{ matcher: 'Edit|Write', hooks: [prettier, post] }] } }),
    )
  })

  it('removes a duplicate copy of one of ours', () => {
    writeFileSync(file, JSON.stringify({ hooks: { Stop: [{ hooks: [stop, say, stop] }] } }))
    expect(installHooks(file, [SPECS[3]!], { now: NOW })).toMatchObject({ changed: true, removed: 1 })
    expect(readFileSync(file, 'utf8')).toBe(pretty({ hooks: { Stop: [{ hooks: [stop, say] }] } }))
  })

  it('never overwrites an earlier backup made in the same second', () => {
    writeFileSync(file, '{"model":"opus"}')
    const first = installHooks(file, [SPECS[3]!], { now: NOW })
    const second = installHooks(file, SPECS, { now: NOW })
    expect(first.backupPath).toBe(`${file}.dstack-backup-${STAMP}`)
    expect(second.backupPath).toBe(`${file}.dstack-backup-${STAMP}-2`)
    expect(readFileSync(first.backupPath!, 'utf8')).toBe('{"model":"opus"}')
    expect(JSON.parse(readFileSync(second.backupPath!, 'utf8'))).toEqual({
      model: 'opus',
      hooks: { Stop: [{ hooks: [stop] }] },
    })
  })

  it("keeps the file's permissions", () => {
    writeFileSync(file, '{}')
    chmodSync(file, 0o664) // a bit the umask would drop
    installHooks(file, SPECS, { now: NOW })
    expect(statSync(file).mode & 0o777).toBe(0o664)
  })

  it('writes through a symlinked settings.json, keeping the link', () => {
    const real = join(dir, 'dotfiles', 'settings.json')
    mkdirSync(join(dir, 'dotfiles'))
    writeFileSync(real, '{"model":"opus"}')
    symlinkSync('dotfiles/settings.json', file)
    const result = installHooks(file, SPECS, { now: NOW })
    expect(lstatSync(file).isSymbolicLink()).toBe(true)
    expect(readFileSync(real, 'utf8')).toBe(pretty({ model: 'opus', ...onlyOurs }))
    expect(result.backupPath).toBe(`${file}.dstack-backup-${STAMP}`)
    expect(readdirSync(join(dir, 'dotfiles'))).toEqual(['settings.json'])
  })

  it('refuses specs that are not dstack command handlers', () => {
    expect(() =>
      installHooks(file, [{ event: 'Stop', handler: { type: 'command', command: 'echo hi' } }]),
    ).toThrow(TypeError)
    expect(() => installHooks(file, [{ event: '__proto__', handler: stop }])).toThrow(TypeError)
    expect(existsSync(file)).toBe(false)
  })

  it('handles a 5 MB settings file', () => {
    const original = {
      ...othersSettings(),
      projects: Object.fromEntries(
        Array.from({ length: 40_000 }, (_, i) => [
          `/home/me/src/project-${i}`,
          { history: ['x'.repeat(100)], n: i },
        ]),
      ),
    }
    const text = JSON.stringify(original, null, 2)
    expect(text.length).toBeGreaterThan(5_000_000)
    writeFileSync(file, text)
    const started = Date.now()
    expect(installHooks(file, SPECS, { now: NOW })).toMatchObject({ changed: true, added: 4 })
    expect(installHooks(file, SPECS, { now: NOW }).changed).toBe(false)
    expect(Date.now() - started).toBeLessThan(10_000)
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({
      ...othersWithOurs(),
      projects: original.projects,
    })
    expect(readFileSync(`${file}.dstack-backup-${STAMP}`, 'utf8')).toBe(text)
  })

  it('waits while another dstack process holds the settings lock', async () => {
    writeFileSync(file, '{}')
    // A separate process holds the lock for 600 ms: a live holder, so it is not broken as stale.
    const script = `import { tryLock } from '@dstack/daemon'
      const held = tryLock(process.argv[1], 'test holder')
      if (!held.acquired) process.exit(3)
      console.log('locked')
      setTimeout(() => held.lock.release(), 600)`
    const holder = execFile(process.execPath, ['--input-type=module', '-e', script, `${file}.dstack.lock`], {
      cwd: join(import.meta.dirname, '..'),
    })
    const exited = new Promise<number | null>((resolve) => holder.on('exit', resolve))
    await new Promise<void>((resolve) => holder.stdout!.once('data', () => resolve()))
    const started = Date.now()
    expect(installHooks(file, SPECS, { now: NOW }).changed).toBe(true)
    expect(Date.now() - started).toBeGreaterThan(300)
    expect(await exited).toBe(0)
    expect(readFileSync(file, 'utf8')).toBe(pretty(onlyOurs))
    expect(existsSync(`${file}.dstack.lock`)).toBe(false)
  })

  it('ends with exactly one copy of each spec when 4 processes install at once; readers never see a torn file', async () => {
    // Padding makes each write take long enough that a non-atomic one would be caught half done.
    const pad = 'x'.repeat(256 * 1024)
    writeFileSync(file, JSON.stringify({ ...othersSettings(), pad }))
    const module = join(import.meta.dirname, '../src/settings/install.ts')
    // Each process installs an older version then the current one, 8 times: the last write is always current.
    const older = SPECS.map((s) => ({ ...s, handler: { ...s.handler, args: [...s.handler.args!, '--v1'] } }))
    const script = `import { installHooks } from ${JSON.stringify(module)}
      const [file, specs, older] = [process.argv[1], JSON.parse(process.argv[2]), JSON.parse(process.argv[3])]
      for (let i = 0; i < 8; i++) { installHooks(file, older); installHooks(file, specs) }`
    const writers = Promise.all(
      [0, 1, 2, 3].map(() =>
        run(process.execPath, [
          '--input-type=module',
          '-e',
          script,
          file,
          JSON.stringify(SPECS),
          JSON.stringify(older),
        ]),
      ),
    )
    // Claude Code reads the file without our lock: every read must be a whole file.
    let done = false
    let reads = 0
    void writers.finally(() => {
      done = true
    })
    while (!done) {
      expect((JSON.parse(readFileSync(file, 'utf8')) as { pad: string }).pad).toBe(pad)
      reads++
      await new Promise((resolve) => setImmediate(resolve))
    }
    await writers
    expect(reads).toBeGreaterThan(0)
    expect(readFileSync(file, 'utf8')).toBe(pretty({ ...othersWithOurs(), pad }))
    const left = readdirSync(dir).filter((name) => name !== 'settings.json')
    expect(left.length).toBeGreaterThan(0)
    for (const name of left) {
      expect(name).toMatch(/^settings\.json\.dstack-backup-\d{8}T\d{6}Z(-\d+)?$/) // no temp or lock file left
      expect(() => JSON.parse(readFileSync(join(dir, name), 'utf8'))).not.toThrow()
    }
  })
})

describe('refusing files we cannot safely edit', () => {
  it('invalid JSON names the line and column and leaves the file alone', () => {
    expectRefused(
      '{\n  "model": "opus",\n  "hooks": }\n',
      /^not valid JSON: line 3, column 12: Unexpected token '\}'$/,
    )
    expectRefused('{\n  "model": "opus",\n}\n', /^not valid JSON: line 3, column 1: /)
    expectRefused('{"model": "opus"', /^not valid JSON: line 1, column 17: /)
    expectRefused('{\n  "a": tru\n}', /^not valid JSON: line 2, column 11: /)
  })

  it.each([
    ['{"hooks": []}', /^unexpected shape: hooks: .*expected record, received array/],
    ['{"hooks": null}', /^unexpected shape: hooks: /],
    ['{"hooks": {"PreToolUse": {}}}', /^unexpected shape: hooks\.PreToolUse: .*expected array/],
    [
      '{"hooks": {"PreToolUse": [{"matcher": 1, "hooks": []}]}}',
      /^unexpected shape: hooks\.PreToolUse\[0\]\.matcher: /,
    ],
    ['{"hooks": {"Stop": [{"hooks": "say done"}]}}', /^unexpected shape: hooks\.Stop\[0\]\.hooks: /],
    ['{"hooks": {"Stop": [{"hooks": ["say done"]}]}}', /^unexpected shape: hooks\.Stop\[0\]\.hooks\[0\]: /],
    ['[]', /^expected a JSON object at the top level, found an array$/],
    ['"text"', /^expected a JSON object at the top level, found a string$/],
    ['null', /^expected a JSON object at the top level, found null$/],
  ])('%s', (text, problem) => {
    expectRefused(text, problem)
  })

  it('refuses bytes that are not UTF-8', () => {
    expectRefused(Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]), /^not valid UTF-8 text$/)
  })
})

describe('uninstallHooks', () => {
  it("removes only ours, and the groups and events that held only ours; others' are as before", () => {
    const original = othersSettings()
    original.hooks.PreToolUse.push({
      matcher: 'Bash',
      hooks: [dstack('pre-push', { args: ['hook', 'x'] })],
      note: '',
    })
    writeFileSync(file, JSON.stringify(original))
    installHooks(file, SPECS, { now: NOW })
    const installed = readFileSync(file, 'utf8')
    const result = uninstallHooks(file, { now: new Date('2025-01-02T03:04:06Z') })
    expect(result).toEqual({
      path: file,
      changed: true,
      backupPath: `${file}.dstack-backup-20250102T030406Z`,
      added: 0,
      updated: 0,
      removed: 4,
    })
    // Their empty 'idle' group stays: we only delete what our removal emptied.
    expect(readFileSync(file, 'utf8')).toBe(pretty(othersSettings()))
    expect(readFileSync(result.backupPath!, 'utf8')).toBe(installed)
    expect(uninstallHooks(file, { now: NOW }).changed).toBe(false)
  })

  it('takes a file that held only our hooks back to {}', () => {
    writeFileSync(file, '{}')
    installHooks(file, SPECS, { now: NOW })
    expect(uninstallHooks(file, { now: NOW })).toMatchObject({ changed: true, removed: 4 })
    expect(readFileSync(file, 'utf8')).toBe('{}\n')
  })

  it('leaves a missing file missing', () => {
    expect(uninstallHooks(file, { now: NOW })).toEqual({
      path: file,
      changed: false,
      backupPath: null,
      added: 0,
      updated: 0,
      removed: 0,
    })
    expect(readdirSync(dir)).toEqual([])
  })
})

describe('hooksStatus', () => {
  it('reports installed, missing and stale hooks and counts the others', () => {
    const old = dstack('pre-push')
    writeFileSync(
      file,
      JSON.stringify({
        hooks: {
          PostToolUse: [{ matcher: 'Edit|Write', hooks: [prettier, post, post] }],
          PreToolUse: [{ matcher: 'Bash', hooks: [old, guard] }],
          Stop: [{ hooks: [say] }],
        },
      }),
    )
    const bytes = readFileSync(file)
    const status = hooksStatus(file, SPECS)
    expect(status).toEqual({
      path: file,
      exists: true,
      installed: [
        { spec: SPECS[0], state: 'installed' },
        { spec: SPECS[1], state: 'missing' },
        { spec: SPECS[2], state: 'missing' },
        { spec: SPECS[3], state: 'missing' },
      ],
      stale: [
        { event: 'PostToolUse', matcher: 'Edit|Write', handler: post },
        { event: 'PreToolUse', matcher: 'Bash', handler: old },
      ],
      foreignHandlers: 3,
    })
    expect(readFileSync(file).equals(bytes)).toBe(true)
  })

  it('reports a missing file as nothing installed', () => {
    expect(hooksStatus(file, SPECS)).toEqual({
      path: file,
      exists: false,
      installed: SPECS.map((spec) => ({ spec, state: 'missing' })),
      stale: [],
      foreignHandlers: 0,
    })
    expect(existsSync(file)).toBe(false)
  })
})

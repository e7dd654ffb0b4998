// Two simulated agents (alice and bob, each with their own clone and session) on one repository, driven the way
// Claude Code drives dstack: real-shaped hook payloads on stdin of the installed `dstack hook <Event>`, then the
// commands a person or agent runs. The brain is a fresh database on the real Postgres server.
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Result, runDstack, scratchDatabase } from './support/cli.ts'

const root = mkdtempSync(join(tmpdir(), 'dstack-team-'))
let brainUrl = ''
let dropDatabase: () => Promise<void>

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], {
    cwd,
    encoding: 'utf8',
  }).trim()
}

/** `dstack` as `agent`, in that agent's clone; `input` goes to stdin like Claude Code's hook payload. */
function dstack(agent: string, args: string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}) {
  return runDstack(args, {
    cwd: join(root, agent),
    input: options.input ?? '',
    env: {
      PATH: process.env.PATH,
      HOME: join(root, `home-${agent}`),
      DSTACK_HOME: join(root, `home-${agent}`, '.dstack'),
      DSTACK_AGENT: agent,
      DSTACK_BRAIN_URL: brainUrl,
      ...options.env,
    },
  })
}

const json = <T>(result: Result): T => {
  expect(result.code, result.stderr).toBe(0)
  return JSON.parse(result.stdout) as T
}

const session = { alice: 'sess-alice-1', bob: 'sess-bob-1' }
const payload = (agent: 'alice' | 'bob', fields: Record<string, unknown>) =>
  JSON.stringify({
    session_id: session[agent],
    transcript_path: `/tmp/${session[agent]}.jsonl`,
    cwd: join(root, agent),
    permission_mode: 'default',
    ...fields,
  })

beforeAll(async () => {
  ;({ url: brainUrl, drop: dropDatabase } = await scratchDatabase('dstack_team'))

  // One shared remote, two clones: the same canonical repository for both agents.
  const remote = join(root, 'remote.git')
  git(root, 'init', '-q', '--bare', '-b', 'main', remote)
  git(root, 'clone', '-q', remote, 'alice')
  const seed = join(root, 'alice')
  mkdirSync(join(seed, 'src', 'billing'), { recursive: true })
  writeFileSync(
    join(seed, 'src', 'billing', 'money.ts'),
    `${Array.from({ length: 40 }, (_, i) => `line ${i + 1}`).join('\n')}\n`,
  )
  git(seed, 'add', '.')
  git(seed, 'commit', '-q', '-m', 'seed')
  git(seed, 'push', '-q', 'origin', 'main')
  git(root, 'clone', '-q', remote, 'bob')
  expect((await dstack('alice', ['brain', 'migrate'])).code).toBe(0)
})

afterAll(async () => {
  rmSync(root, { recursive: true, force: true })
  await dropDatabase()
})

describe('two agents on one repository', () => {
  it("records bob's prompt and edit from hook payloads, and alice sees them", async () => {
    const money = join(root, 'bob', 'src', 'billing', 'money.ts')
    const lines = readFileSync(money, 'utf8').split('\n')
    lines[19] = 'line 20 (rounded)'
    lines[20] = 'line 21 (rounded)'
    writeFileSync(money, lines.join('\n'))

    let r = await dstack('bob', ['hook', 'UserPromptSubmit'], {
      input: payload('bob', { hook_event_name: 'UserPromptSubmit', prompt: 'Round invoice totals to cents' }),
    })
    expect(r).toMatchObject({ code: 0, stdout: '' })
    r = await dstack('bob', ['hook', 'PostToolUse'], {
      input: payload('bob', {
        hook_event_name: 'PostToolUse',
        tool_name: 'Edit',
        tool_use_id: 'toolu_01',
        tool_input: {
          file_path: money,
          old_string: 'line 20\nline 21',
          new_string: 'line 20 (rounded)\nline 21 (rounded)',
          replace_all: false,
        },
        tool_response: { filePath: money, success: true },
      }),
    })
    expect(r).toMatchObject({ code: 0, stdout: '' })
    expect(
      json<{ applied: number }>(await dstack('bob', ['outbox', 'flush', '--json'])).applied,
    ).toBeGreaterThanOrEqual(0)

    const presence = json<Array<{ agent_id: string; intent_title: string; active_files: string[] }>>(
      await dstack('alice', ['presence', '--json']),
    )
    expect(presence).toMatchObject([
      {
        agent_id: 'bob',
        intent_title: 'Round invoice totals to cents',
        active_files: ['src/billing/money.ts'],
      },
    ])
    const why = json<{ edits: Array<{ agent_id: string; hunks: number[][]; intent_title: string }> }>(
      await dstack('alice', ['why', 'src/billing/money.ts', '--json']),
    )
    expect(why.edits).toMatchObject([
      { agent_id: 'bob', hunks: [[20, 21]], intent_title: 'Round invoice totals to cents' },
    ])

    const start = await dstack('alice', ['hook', 'SessionStart'], {
      input: payload('alice', { hook_event_name: 'SessionStart', source: 'startup' }),
    })
    expect(start.code).toBe(0)
    const context = JSON.parse(start.stdout).hookSpecificOutput.additionalContext as string
    expect(context).toContain('bob: "Round invoice totals to cents"')
    expect(context).toContain('src/billing/money.ts')
  })

  it("warns alice's push about bob's overlapping lines, blocks it in strict mode, clears once bob ships and pushes", async () => {
    const money = join(root, 'alice', 'src', 'billing', 'money.ts')
    const lines = readFileSync(money, 'utf8').split('\n')
    lines[20] = 'line 21 (alice)'
    writeFileSync(money, lines.join('\n'))
    git(join(root, 'alice'), 'commit', '-q', '-am', 'alice touches line 21')

    const push = payload('alice', {
      hook_event_name: 'PreToolUse',
      tool_name: 'Bash',
      tool_input: { command: 'git push origin main', description: 'Push' },
    })
    const warn = await dstack('alice', ['hook', 'PreToolUse'], { input: push })
    expect(warn.code).toBe(0)
    const out = JSON.parse(warn.stdout)
    expect(out.systemMessage).toMatch(/src\/billing\/money\.ts: bob edited lines 20-21 \(ours 21\)/)
    expect(out.systemMessage).toContain('Round invoice totals to cents')
    expect(out.hookSpecificOutput).toMatchObject({ hookEventName: 'PreToolUse' })
    expect(out.hookSpecificOutput.permissionDecision).toBeUndefined()

    const strict = await dstack('alice', ['hook', 'PreToolUse', '--strict'], { input: push })
    expect(strict.code).toBe(2)
    expect(strict.stderr).toMatch(/blocked/)

    const cli = await dstack('alice', ['precheck', '--strict', '--json'])
    expect(cli.code).toBe(2)
    expect(JSON.parse(cli.stdout)).toMatchObject({
      hunkOverlaps: 1,
      overlaps: [{ agent_id: 'bob', level: 'hunk' }],
    })

    // Bob ships and pushes (his PostToolUse on the push records it): his work is published, the overlap clears.
    expect(
      (await dstack('bob', ['intent', 'ship'], { env: { CLAUDE_CODE_SESSION_ID: session.bob } })).code,
    ).toBe(0)
    git(join(root, 'bob'), 'commit', '-q', '-am', 'round')
    git(join(root, 'bob'), 'push', '-q', 'origin', 'main')
    const pushed = await dstack('bob', ['hook', 'PostToolUse'], {
      input: payload('bob', {
        hook_event_name: 'PostToolUse',
        tool_name: 'Bash',
        tool_input: { command: 'git push origin main' },
        tool_response: { stdout: '', stderr: '', exitCode: 0 },
      }),
    })
    expect(pushed.code).toBe(0)
    expect((await dstack('bob', ['outbox', 'flush'])).code).toBe(0)
    const clear = json<{ overlaps: unknown[] }>(await dstack('alice', ['precheck', '--json']))
    expect(clear.overlaps).toEqual([])
  })

  it("puts the repository's memories into the SessionStart digest, within its budget", async () => {
    expect(
      (await dstack('bob', ['memory', 'set', 'billing/rounding', 'Round invoice totals half-even, to cents']))
        .code,
    ).toBe(0)
    const start = await dstack('bob', ['hook', 'SessionStart'], {
      input: payload('bob', { hook_event_name: 'SessionStart', source: 'startup' }),
      env: { DSTACK_DIGEST_CHARS: '3000' },
    })
    const context = JSON.parse(start.stdout).hookSpecificOutput.additionalContext as string
    expect(context).toMatch(
      /Memories for local-.*:\n- billing\/rounding \[inferred\]: Round invoice totals half-even, to cents/,
    )
    expect(context.length).toBeLessThanOrEqual(3000)
  })

  it('hands off from alice to bob; a second taker gets exit 8', async () => {
    const written = json<{ id: string }>(
      await dstack('alice', ['handoff', 'write', '--note', 'Totals need a test', '--to', 'bob', '--json']),
    )
    const list = json<Array<{ id: string }>>(await dstack('bob', ['handoff', 'list', '--json']))
    expect(list.map((h) => h.id)).toContain(written.id)
    const picked = json<{ handoff: { status: string } }>(
      await dstack('bob', ['handoff', 'pickup', '--id', written.id, '--json']),
    )
    expect(picked.handoff.status).toBe('picked_up')
    const again = await dstack('bob', ['handoff', 'pickup', '--id', written.id])
    expect(again.code).toBe(8)
    expect(again.stderr).toMatch(/already picked up by bob/)
  })

  it('records an edit by hand for agents without hooks, and refuses bad line ranges', async () => {
    const logged = json<{ features: string[]; inserted: boolean }>(
      await dstack('alice', ['log-edit', 'src/billing/money.ts', '--lines', '3-5,9', '--json']),
    )
    expect(logged).toMatchObject({ features: ['billing'], inserted: true })
    const trail = json<Array<{ kind: string; agent_id: string; hunks?: number[][] }>>(
      await dstack('bob', ['blame', 'src/billing/money.ts', '--line', '4', '--json']),
    )
    expect(trail.filter((e) => e.kind === 'edit')).toMatchObject([
      {
        agent_id: 'alice',
        hunks: [
          [3, 5],
          [9, 9],
        ],
      },
    ])
    expect((await dstack('alice', ['log-edit', 'src/billing/money.ts', '--lines', '5-x'])).code).toBe(2)
    expect((await dstack('alice', ['log-edit', '../outside.ts'])).code).toBe(2)
  })

  it('decides, updates and finds decisions by search and by file', async () => {
    const adr = json<{ number: number }>(
      await dstack('alice', [
        'decide',
        'write',
        '--title',
        'Money is integer cents',
        '--body',
        'Never floats for currency amounts',
        '--files',
        'src/billing/money.ts',
        '--json',
      ]),
    )
    const updated = json<{ version: number }>(
      await dstack('bob', [
        'decide',
        'update',
        String(adr.number),
        '--body',
        'Integer cents; bigint above 2^53',
        '--reason',
        'large invoices',
        '--json',
      ]),
    )
    expect(updated.version).toBe(2)
    const hits = json<Array<{ number: number }>>(
      await dstack('bob', ['decide', 'search', 'currency cents', '--json']),
    )
    expect(hits.map((h) => h.number)).toEqual([adr.number])
    const why = json<{ decisions: Array<{ number: number; via: string[] }> }>(
      await dstack('bob', ['why', 'src/billing/money.ts', '--json']),
    )
    expect(why.decisions).toContainEqual({
      number: adr.number,
      title: 'Money is integer cents',
      status: 'accepted',
      via: ['file'],
    })
    expect((await dstack('bob', ['decide', 'show', '999'])).code).toBe(7)
  })

  it('installs its hooks next to another tool’s, idempotently, and removes only its own', async () => {
    const settings = join(root, 'home-alice', '.claude', 'settings.json')
    mkdirSync(join(root, 'home-alice', '.claude'), { recursive: true })
    const foreign = {
      hooks: { PostToolUse: [{ matcher: 'Edit', hooks: [{ type: 'command', command: 'prettier-hook' }] }] },
      model: 'opus',
    }
    writeFileSync(settings, JSON.stringify(foreign))
    const installed = json<{ changed: boolean; launcher: string }>(
      await dstack('alice', ['hooks', 'install', '--json']),
    )
    expect(installed.changed).toBe(true)
    expect(readFileSync(installed.launcher, 'utf8')).toContain(process.execPath)
    expect(json<{ changed: boolean }>(await dstack('alice', ['hooks', 'install', '--json'])).changed).toBe(
      false,
    )
    expect((await dstack('alice', ['hooks', 'status'])).code).toBe(0)
    const merged = JSON.parse(readFileSync(settings, 'utf8'))
    expect(merged.model).toBe('opus')
    expect(merged.hooks.PostToolUse[0]).toEqual(foreign.hooks.PostToolUse[0])
    expect(Object.keys(merged.hooks).sort()).toEqual(
      [
        'PostToolUse',
        'PreCompact',
        'PreToolUse',
        'SessionEnd',
        'SessionStart',
        'Stop',
        'UserPromptSubmit',
      ].sort(),
    )
    // The installed command, as Claude Code runs it (shell form), really runs a hook.
    const command = merged.hooks.SessionEnd[0].hooks[0].command as string
    expect(command).toBe(`'${installed.launcher}' hook SessionEnd`)
    const viaLauncher = execFileSync('sh', ['-c', command], {
      input: 'not json',
      env: { PATH: process.env.PATH, DSTACK_HOME: join(root, 'home-alice', '.dstack') },
      encoding: 'utf8',
    })
    expect(viaLauncher).toBe('')
    expect((await dstack('alice', ['hooks', 'uninstall'])).code).toBe(0)
    expect(JSON.parse(readFileSync(settings, 'utf8'))).toEqual(foreign)
    expect((await dstack('alice', ['hooks', 'status'])).code).toBe(6)
  })

  it("streams bob's changes to alice's `dstack watch --json` as NDJSON", async () => {
    const watching = dstack('alice', [
      'watch',
      '--json',
      '--count',
      '2',
      '--timeout',
      '30',
      '--tables',
      'intents,handoffs',
    ])
    // Let it subscribe before writing (it opens the brain first).
    await new Promise((resolve) => setTimeout(resolve, 1_500))
    expect((await dstack('bob', ['intent', 'write', '--title', 'Watch me'])).code).toBe(0)
    expect((await dstack('bob', ['handoff', 'write', '--note', 'watched handoff'])).code).toBe(0)
    const result = await watching
    expect(result.code, result.stderr).toBe(0)
    const lines = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
    expect(lines.map((c) => [c.table, c.op, c.agent_id])).toEqual([
      ['intents', 'insert', 'bob'],
      ['handoffs', 'insert', 'bob'],
    ])
  })

  it('installs project hooks that name no one’s home, run each teammate’s launcher, and skip without dstack', async () => {
    const repo = join(root, 'bob')
    const installed = json<{ path: string; backupPath: string | null }>(
      await dstack('bob', ['hooks', 'install', '--project', '--json']),
    )
    expect(installed.path).toBe(join(repo, '.claude', 'settings.json'))
    const text = readFileSync(installed.path, 'utf8')
    expect(text).not.toContain(root)
    const command = JSON.parse(text).hooks.SessionEnd[0].hooks[0].command as string
    const run = (home: string) =>
      execFileSync('sh', ['-c', command], {
        input: 'not json',
        env: { PATH: process.env.PATH, HOME: home },
        encoding: 'utf8',
      })
    // Bob has dstack (his launcher exists): the hook runs it and exits 0 on bad input.
    expect(run(join(root, 'home-bob'))).toBe('')
    // A teammate without dstack: skipped, exit 0, no "hook error".
    expect(run(join(root, 'home-nobody'))).toBe('')
    // Backups of a project's settings stay out of the repository.
    expect(git(repo, 'status', '--porcelain', '--untracked-files=all', '.claude')).toBe(
      '?? .claude/settings.json',
    )
    expect((await dstack('bob', ['hooks', 'uninstall', '--project'])).code).toBe(0)
  })

  it('refuses clearly outside a repository and with a broken settings.json', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'dstack-norepo-'))
    const r = await runDstack(['sync'], {
      cwd: outside,
      env: {
        PATH: process.env.PATH,
        HOME: outside,
        DSTACK_HOME: join(outside, '.d'),
        DSTACK_BRAIN_URL: brainUrl,
      },
    })
    rmSync(outside, { recursive: true, force: true })
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/not inside a git repository/)

    const settings = join(root, 'home-bob', '.claude', 'settings.json')
    mkdirSync(join(root, 'home-bob', '.claude'), { recursive: true })
    writeFileSync(settings, '{"hooks": {')
    const bad = await dstack('bob', ['hooks', 'install'])
    expect(bad.code).toBe(2)
    expect(readFileSync(settings, 'utf8')).toBe('{"hooks": {')
  })
})

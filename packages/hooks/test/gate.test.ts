// The quality gate on real git repositories: answers bind to the staged tree, a "no" keeps it shut, the hook only
// looks at `git commit`, and strict mode blocks with exit 2.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { git, tempDir } from '@dstack/git/testing'
import { describe, expect, it } from 'vitest'
import { checkGate, GATE_QUESTIONS, gateHook, recordGateAnswers } from '../src/index.ts'

const ALL_YES = { tests: true, verified: true, scope: true, docs: true, reversible: true }

function repo(): string {
  const dir = tempDir('dstack-gate-')
  git(dir, 'init', '-q')
  writeFileSync(join(dir, 'a.ts'), 'export const a = 1\n')
  git(dir, 'add', 'a.ts')
  return dir
}

const commit = (cwd: string, command = 'git commit -m "add a"') => ({
  hook_event_name: 'PreToolUse',
  session_id: 's1',
  tool_name: 'Bash',
  tool_input: { command },
  cwd,
})

describe('the quality gate', () => {
  it('asks all five until they are answered, then passes for exactly that staged tree', async () => {
    const dir = repo()
    const open = await checkGate(dir)
    expect(open.passed).toBe(false)
    expect(open.open).toEqual(GATE_QUESTIONS.map((q) => q.key))
    expect(open.message).toContain('tests: Does every changed piece of code have a test beside it')
    await recordGateAnswers(dir, ALL_YES, 'ran it against staging')
    const passed = await checkGate(dir)
    expect(passed).toMatchObject({ passed: true, open: [], answers: { note: 'ran it against staging' } })
    // Staging something else asks again.
    writeFileSync(join(dir, 'b.ts'), 'export const b = 2\n')
    git(dir, 'add', 'b.ts')
    expect((await checkGate(dir)).passed).toBe(false)
  })

  it('a "no" is recorded and keeps the gate shut, naming the question', async () => {
    const dir = repo()
    await recordGateAnswers(dir, { ...ALL_YES, verified: false })
    const check = await checkGate(dir)
    expect(check).toMatchObject({ passed: false, open: ['verified'] })
    expect(check.message).toContain('answered "no" for what is staged: verified')
  })

  it('a corrupt answers file counts as unanswered, never as passed', async () => {
    const dir = repo()
    await recordGateAnswers(dir, ALL_YES)
    writeFileSync(join(dir, '.git', 'dstack', 'gate.json'), '{"tree": "nope", "answers": {"tests": true')
    expect((await checkGate(dir)).passed).toBe(false)
  })

  it('the hook tells Claude about open questions, and lets the commit go ahead unless strict', async () => {
    const dir = repo()
    const soft = await gateHook(commit(dir), { strict: false })
    expect(soft.exitCode).toBe(0)
    expect(JSON.parse(soft.stdout).hookSpecificOutput.additionalContext).toContain('dstack gate answer')
    const strict = await gateHook(commit(dir, `cd ${dir} && git commit -am wip`), { strict: true })
    expect(strict.exitCode).toBe(2)
    expect(strict.stderr).toContain('Commit blocked by the strict gate.')
    await recordGateAnswers(dir, ALL_YES)
    expect(await gateHook(commit(dir), { strict: true })).toEqual({ stdout: '', stderr: '', exitCode: 0 })
  })

  it('a commit whose content is not the staged tree counts as unanswered, even with all-yes answers', async () => {
    const dir = repo()
    await recordGateAnswers(dir, ALL_YES)
    for (const command of [
      'git commit -am wip',
      'git commit -a -m wip',
      'git commit --all -m wip',
      'git commit -m wip a.ts',
      'git commit -m wip -- a.ts',
      'git add -A && git commit -m "add all"',
      'git stash pop; git commit -m x',
    ]) {
      const r = await gateHook(commit(dir, command), { strict: true })
      expect(r.exitCode, command).toBe(2)
      expect(r.stderr, command).toContain('dstack gate: cannot check this commit')
    }
    // Plain commits of the staged tree pass, wherever the command line says they run.
    const elsewhere = tempDir('dstack-gate-elsewhere-')
    for (const [cwd, command] of [
      [dir, 'git commit -m "fix: a; b && c"'],
      [dir, 'git commit -sm "signed"'],
      [dir, 'git commit --message=x --author "A <a@b>"'],
      [elsewhere, `git -C ${dir} commit -m x`],
      [elsewhere, `cd '${dir}' && git commit -v -m x`],
    ] as const)
      expect(await gateHook(commit(cwd, command), { strict: true }), command).toEqual({
        stdout: '',
        stderr: '',
        exitCode: 0,
      })
  })

  it('strict mode blocks when the check itself fails; the default lets the commit be', async () => {
    const input = commit('/nonexistent/dstack-gate', 'git commit -m x')
    const strict = await gateHook(input, { strict: true })
    expect(strict.exitCode).toBe(2)
    expect(strict.stderr).toContain('could not check what is staged in /nonexistent/dstack-gate')
    expect((await gateHook(input, { strict: false })).exitCode).toBe(0)
  })

  it('the hook ignores other commands, dry runs, and directories outside a repository (fails open)', async () => {
    const dir = repo()
    for (const command of ['git status', 'echo git commit', 'git commit --dry-run -m x', 'git push'])
      expect(await gateHook(commit(dir, command), { strict: true })).toEqual({
        stdout: '',
        stderr: '',
        exitCode: 0,
      })
    const outside = tempDir('dstack-gate-outside-')
    expect((await gateHook(commit(outside), { strict: true })).exitCode).toBe(0)
  })
})

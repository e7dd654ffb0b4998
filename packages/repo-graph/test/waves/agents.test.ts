// pawan and Claude Code are third-party agent CLIs that need a model backend and credentials, so they cannot run in
// tests. These tests put TEST DOUBLES named `pawan` and `claude` first on PATH: small shell scripts that record the
// arguments they were given, write a file in the worktree the way an agent would, and print the JSON each CLI is
// documented to print (pawan `run --output json`; `claude -p --output-format json`).

import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { executePlan } from '../../src/waves/execute.ts'
import { type Plan, parsePlan } from '../../src/waves/plan.ts'
import { cleanup, git, initRepo, script, status, tempDir } from './helpers.ts'

const PAWAN_DOUBLE = `#!/bin/sh
# TEST DOUBLE of the pawan CLI (not the real agent). Records its argv, NUL-separated, then acts per task id.
printf '%s\\0' "$@" > "$WAVES_DOUBLE_LOG/pawan.$DSTACK_TASK_ID"
ws=""; prev=""
for arg in "$@"; do
  if [ "$prev" = "-w" ]; then ws="$arg"; fi
  prev="$arg"
done
case "$DSTACK_TASK_ID" in
  p-fail)
    echo '{"success":false,"error":"model preflight failed"}'
    exit 1 ;;
  p-slow)
    printf '{\\n  "success": false,\\n  "error": "Timed out after 7s"\\n}\\n'
    exit 2 ;;
esac
echo "written by pawan" > "$ws/pawan-out.txt"
cat <<'JSON'
{
  "success": true,
  "content": "Wrote pawan-out.txt",
  "iterations": 3,
  "tool_calls": [{ "name": "write_file", "success": true, "duration_ms": 4 }],
  "tool_call_count": 1,
  "usage": { "prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150 }
}
JSON
`

const CLAUDE_DOUBLE = `#!/bin/sh
# TEST DOUBLE of the Claude Code CLI (not the real agent). Records its argv and cwd, then acts per task id.
printf '%s\\0' "$@" > "$WAVES_DOUBLE_LOG/claude.$DSTACK_TASK_ID"
pwd > "$WAVES_DOUBLE_LOG/claude.$DSTACK_TASK_ID.cwd"
if [ "$DSTACK_TASK_ID" = "c-err" ]; then
  echo '{"type":"result","subtype":"error_max_turns","is_error":true,"result":"","session_id":"sess-2","total_cost_usd":0.5}'
  exit 1
fi
echo "written by claude" > claude-out.txt
echo '{"type":"result","subtype":"success","is_error":false,"result":"Created claude-out.txt","session_id":"sess-1","total_cost_usd":0.0123,"num_turns":2}'
`

let log: string
const savedPath = process.env.PATH

beforeAll(() => {
  const bin = tempDir('dstack-waves-bin-')
  log = tempDir('dstack-waves-log-')
  script(bin, 'pawan', PAWAN_DOUBLE)
  script(bin, 'claude', CLAUDE_DOUBLE)
  process.env.PATH = `${bin}:${savedPath}`
  process.env.WAVES_DOUBLE_LOG = log
})

afterAll(() => {
  process.env.PATH = savedPath
  delete process.env.WAVES_DOUBLE_LOG
  cleanup()
})

function plan(yaml: string): Plan {
  return parsePlan(yaml, join(tempDir(), 'agents.yaml'))
}

function argv(name: string): string[] {
  return readFileSync(join(log, name), 'utf8').split('\0').slice(0, -1)
}

describe('agent executors (test doubles of pawan and claude)', () => {
  it('runs pawan and claude with array arguments, parses their JSON, and merges their work', async () => {
    const repo = initRepo()
    const p = plan(`name: Agents
tasks:
  - id: p-ok
    description: Write the pawan file; keep $(touch pwned) and "quotes" literal
    files: [pawan-out.txt]
    executor: { type: pawan, model: qwen-test, timeoutSeconds: 7 }
  - id: c-ok
    description: Write the claude file
    files: [claude-out.txt]
    executor: { type: claude }
`)
    const report = await executePlan(p, { repo })
    expect(report.outcome).toBe('completed')
    const [pawan, claude] = report.waves[0]!.tasks

    const worktree = join(repo, '.dstack/worktrees/agents/p-ok')
    const pawanArgs = argv('pawan.p-ok')
    const prompt = pawanArgs[5]!
    expect(pawanArgs).toEqual([
      '-w',
      worktree,
      '-m',
      'qwen-test',
      'run',
      prompt,
      '--output',
      'json',
      '--timeout',
      '7',
    ])
    expect(pawanArgs).not.toContain('-v')
    expect(pawan!.argv).toEqual(['pawan', ...pawanArgs])
    expect(prompt).toContain('Write the pawan file; keep $(touch pwned) and "quotes" literal')
    expect(prompt).toContain('- pawan-out.txt')
    expect(prompt).toContain('Change only these files')
    expect(existsSync(join(repo, 'pwned'))).toBe(false)
    expect(pawan).toMatchObject({
      status: 'succeeded',
      exitCode: 0,
      executor: 'pawan',
      actual: ['pawan-out.txt'],
      undeclared: [],
      summary: {
        type: 'pawan',
        success: true,
        content: 'Wrote pawan-out.txt',
        iterations: 3,
        toolCallCount: 1,
        usage: { promptTokens: 120, completionTokens: 30, totalTokens: 150 },
      },
    })

    const claudeArgs = argv('claude.c-ok')
    expect(claudeArgs).toEqual([
      '-p',
      claudeArgs[1],
      '--output-format',
      'json',
      '--permission-mode',
      'acceptEdits',
    ])
    expect(claudeArgs[1]).toContain('Task c-ok: Write the claude file')
    expect(claudeArgs[1]).toContain('- claude-out.txt')
    expect(readFileSync(join(log, 'claude.c-ok.cwd'), 'utf8').trim()).toBe(
      join(repo, '.dstack/worktrees/agents/c-ok'),
    )
    expect(claude).toMatchObject({
      status: 'succeeded',
      executor: 'claude',
      actual: ['claude-out.txt'],
      summary: {
        type: 'claude',
        isError: false,
        result: 'Created claude-out.txt',
        costUsd: 0.0123,
        sessionId: 'sess-1',
      },
    })

    expect(readFileSync(join(repo, 'pawan-out.txt'), 'utf8')).toBe('written by pawan\n')
    expect(readFileSync(join(repo, 'claude-out.txt'), 'utf8')).toBe('written by claude\n')
    expect(status(repo)).toBe('')
  })

  it('reports agent failures: pawan error (exit 1), pawan timeout (exit 2), claude is_error', async () => {
    const repo = initRepo()
    const start = git(repo, 'rev-parse', 'HEAD')
    const p = plan(`tasks:
  - id: p-fail
    description: Fails
    files: [a.txt]
    executor: { type: pawan }
  - id: p-slow
    description: Too slow
    files: [b.txt]
    executor: { type: pawan }
  - id: c-err
    description: Runs out of turns
    files: [c.txt]
    executor: { type: claude, args: [--max-turns, "1"] }
`)
    const report = await executePlan(p, { repo, timeoutMs: 60_000 })
    expect(report.outcome).toBe('stopped')
    expect(report.stop).toMatchObject({ wave: 1, reason: 'task-failed' })
    const [fail, slow, err] = report.waves[0]!.tasks
    expect(fail).toMatchObject({ status: 'failed', exitCode: 1, error: 'pawan: model preflight failed' })
    expect(fail!.summary).toMatchObject({ type: 'pawan', success: false, error: 'model preflight failed' })
    expect(argv('pawan.p-fail')).toContain('60')
    expect(slow).toMatchObject({ status: 'timeout', exitCode: 2, error: 'Timed out after 7s' })
    expect(err).toMatchObject({ status: 'failed', exitCode: 1, error: 'claude: error_max_turns' })
    expect(err!.summary).toMatchObject({ type: 'claude', isError: true, costUsd: 0.5 })
    expect(argv('claude.c-err').slice(2)).toEqual(['--output-format', 'json', '--max-turns', '1'])
    expect(git(repo, 'rev-parse', 'HEAD')).toBe(start)
  })

  it('fails a task whose agent CLI is not installed, naming it', async () => {
    const repo = initRepo()
    const p = plan(
      'tasks:\n  - id: a\n    description: A\n    files: [a.txt]\n    executor: { type: pawan }\n',
    )
    // A PATH holding only git: the library's git calls work, pawan is nowhere.
    const onlyGit = tempDir('dstack-waves-path-')
    symlinkSync(
      execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim(),
      join(onlyGit, 'git'),
    )
    const saved = process.env.PATH
    process.env.PATH = onlyGit
    try {
      const report = await executePlan(p, { repo })
      expect(report.waves[0]!.tasks[0]).toMatchObject({
        status: 'failed',
        exitCode: null,
        error: 'pawan is not installed or not on PATH',
      })
      expect(report.stop).toMatchObject({ reason: 'task-failed' })
    } finally {
      process.env.PATH = saved
    }
  })
})

// What a hook costs Claude Code on every tool call: `dstack hook PostToolUse` (and UserPromptSubmit) fed a real-shaped
// payload on stdin, with the embedded brain up and with the brain unreachable, against a bare `node -e 0` in the
// same run, and against the naive design (a command that opens the brain and writes synchronously, as fstack's
// log-edit did). Then SessionStart: digest latency warm (server running) and cold (server stopped), and its size.
// Run from apps/cli after a build: `node bench/hooks.bench.ts`.

import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  cell,
  percentile,
  Recorder,
  renderTable,
  runNode,
  runProcess,
  writeResults,
} from '../../../bench/harness.ts'

const BIN = join(import.meta.dirname, '..', 'bin', 'run.js')
const N = Number(process.env.DSTACK_BENCH_N ?? 100)

const home = mkdtempSync(join(tmpdir(), 'dstack-hooks-bench-'))
const repo = join(home, 'repo')
mkdirSync(join(repo, 'src', 'auth'), { recursive: true })
const git = (...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=b', '-c', 'user.email=b@b', ...args], { cwd: repo })
git('init', '-q', '-b', 'main')
git('remote', 'add', 'origin', 'git@github.com:acme/bench.git')
const file = join(repo, 'src', 'auth', 'login.ts')
writeFileSync(file, `${Array.from({ length: 200 }, (_, i) => `export const line${i} = ${i}`).join('\n')}\n`)
git('add', '.')
git('commit', '-q', '-m', 'seed')
// Commands run by the bench (teammates' `dstack intent write` ...) act on the repository they are run in.
process.chdir(repo)

const env = (agent: string, extra: NodeJS.ProcessEnv = {}) => ({
  PATH: process.env.PATH,
  HOME: home,
  DSTACK_HOME: join(home, '.dstack'),
  DSTACK_AGENT: agent,
  ...extra,
})
const up = env('bench')
// Nothing listens on port 1: a brain that is down.
const down = env('bench', {
  DSTACK_HOME: join(home, '.dstack-down'),
  DSTACK_BRAIN_URL: 'postgres://postgres@127.0.0.1:1/x',
})

const payload = (fields: Record<string, unknown>) =>
  JSON.stringify({ session_id: 'bench-session', transcript_path: '/tmp/t.jsonl', cwd: repo, ...fields })
const editPayload = payload({
  hook_event_name: 'PostToolUse',
  tool_name: 'Edit',
  tool_input: {
    file_path: file,
    old_string: 'export const line50 = 50',
    new_string: 'export const line50 = 50',
  },
  tool_response: { filePath: file, success: true },
})
const promptPayload = payload({
  hook_event_name: 'UserPromptSubmit',
  prompt: 'Add rate limiting to the login endpoint',
})
const startPayload = payload({ hook_event_name: 'SessionStart', source: 'startup' })

const dstack = (args: string[], e: NodeJS.ProcessEnv, input?: string) => runNode([BIN, ...args], e, input)

const recorder = new Recorder()
const startedAt = new Date()
try {
  await dstack(['brain', 'up'], up)
  // Teammates' activity, so the digest has something to say.
  for (const agent of ['ana', 'ben', 'cho', 'dev', 'eli', 'fay']) {
    const teammate = env(agent)
    await dstack(['intent', 'write', '--title', `${agent}: refactor the ${agent} module`], teammate)
    await dstack(['heartbeat', '--files', 'src/auth/login.ts'], teammate)
    await dstack(['handoff', 'write', '--note', `${agent} left the session store half migrated`], teammate)
    await dstack(
      ['decide', 'write', '--title', `${agent} decision`, '--body', 'Use argon2id for password hashing'],
      teammate,
    )
  }

  // What Claude Code actually runs: the installed shell-form command, through sh, via the launcher.
  await dstack(['hooks', 'install', '--json'], up)
  const installed = JSON.parse(readFileSync(join(home, '.claude', 'settings.json'), 'utf8'))
  const postToolUse = installed.hooks.PostToolUse[0].hooks[0].command as string
  const cases = [
    { metric: 'node -e 0', series: 'baseline', run: () => runNode(['-e', '0']) },
    {
      metric: 'hook PostToolUse (Edit)',
      series: 'brain up',
      run: () => dstack(['hook', 'PostToolUse'], up, editPayload),
    },
    {
      metric: 'hook PostToolUse (Edit)',
      series: 'brain down',
      run: () => dstack(['hook', 'PostToolUse'], down, editPayload),
    },
    {
      metric: 'hook PostToolUse (Edit)',
      series: 'installed: sh -c + launcher',
      run: () => runProcess('sh', ['-c', postToolUse], up, editPayload),
    },
    {
      metric: 'hook UserPromptSubmit',
      series: 'brain up',
      run: () => dstack(['hook', 'UserPromptSubmit'], up, promptPayload),
    },
    // The naive design: every edit opens the brain and writes before returning.
    {
      metric: 'naive: dstack heartbeat (sync write)',
      series: 'brain up',
      run: () => dstack(['heartbeat'], up),
    },
  ]
  const samples = new Map(cases.map((c) => [c, [] as number[]]))
  for (let round = -3; round < N; round++) {
    for (const c of cases) {
      // The naive case is slow: 20 samples say enough.
      if (c.metric.startsWith('naive') && round >= 20) continue
      const { ms } = await c.run()
      if (round >= 0) samples.get(c)!.push(ms)
    }
  }
  const ratios: Record<string, number> = {}
  const p99: Record<string, number> = {}
  for (const c of cases) {
    recorder.record(c.metric, c.series, 'ms', samples.get(c)!)
    p99[`${c.metric} [${c.series}]`] = percentile(samples.get(c)!, 99)
  }

  // SessionStart: warm = server running; cold = server stopped before each run (includes starting it).
  const warm: number[] = []
  const cold: number[] = []
  let digest = ''
  for (let i = 0; i < 10; i++) {
    const run = await dstack(['hook', 'SessionStart'], up, startPayload)
    warm.push(run.ms)
    digest = JSON.parse(run.stdout).hookSpecificOutput.additionalContext
  }
  for (let i = 0; i < 5; i++) {
    await dstack(['brain', 'down'], up)
    cold.push((await dstack(['hook', 'SessionStart'], up, startPayload)).ms)
  }
  recorder.record('hook SessionStart (digest)', 'warm', 'ms', warm)
  recorder.record('hook SessionStart (digest)', 'cold', 'ms', cold)
  recorder.record('SessionStart digest size', 'characters', 'chars', [digest.length])
  recorder.record('SessionStart digest size', '~tokens (chars/4)', 'tokens', [Math.round(digest.length / 4)])

  const node: [string, string] = ['node -e 0', 'baseline']
  const rows = recorder.results.map((r) => {
    const vsNode = r.unit === 'ms' ? recorder.ratio([r.metric, r.series], node) : undefined
    if (vsNode !== undefined) ratios[`${r.metric} [${r.series}] / node`] = vsNode
    const key = `${r.metric} [${r.series}]`
    if (p99[key] !== undefined) ratios[`${key} p99 ms`] = p99[key]
    return [
      r.metric,
      r.series,
      cell(r),
      p99[key] === undefined ? '-' : p99[key].toFixed(1),
      vsNode === undefined ? '-' : `${vsNode.toFixed(2)}x`,
    ]
  })
  console.log(
    renderTable(
      ['hook (wall ms, spawn to exit)', 'series', 'median (p95, min, n)', 'p99', 'vs node p50'],
      rows,
    ),
  )
  console.log(`\ndigest sample:\n${digest.slice(0, 600)}\n`)
  console.log(`results: ${writeResults('hooks', startedAt, recorder.results, ratios)}`)
} finally {
  await dstack(['brain', 'down'], up).catch(() => {})
  rmSync(home, { recursive: true, force: true })
}

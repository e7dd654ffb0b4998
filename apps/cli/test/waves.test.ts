// `dstack waves` and `dstack execute` on a real repository, with the shell executor.
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { git } from '@dstack/git/testing'
import { afterAll, beforeEach, describe, expect, it } from 'vitest'
import { runDstack } from './support/cli.ts'

const GIT_ENV = { GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' }
const dirs: string[] = []
let repo: string

/** git in the test's repository. */
const inRepo = (...args: string[]) => git(repo, ...args)

function dstack(...args: string[]) {
  return runDstack(args, {
    cwd: repo,
    env: { PATH: process.env.PATH, HOME: repo, DSTACK_HOME: join(repo, '.dstack-home'), ...GIT_ENV },
  })
}

const plan = (taskB: string) => `# Plan

Two independent edits, then one that needs the first.

\`\`\`yaml
tasks:
  - id: a
    description: Edit a
    files: [a.txt]
    command: echo A >> a.txt
  - id: b
    description: Edit b
    files: [b.txt]
    command: ${taskB}
  - id: c
    description: After a
    files: [c.txt]
    depends_on: [a]
    command: cat a.txt > c.txt
\`\`\`
`

beforeEach(() => {
  repo = realpathSync(mkdtempSync(join(tmpdir(), 'dstack-waves-cli-')))
  dirs.push(repo)
  writeFileSync(join(repo, 'a.txt'), 'a\n')
  writeFileSync(join(repo, 'b.txt'), 'b\n')
  writeFileSync(join(repo, '.gitignore'), '.dstack-home/\n')
  inRepo('init', '-q')
  inRepo('add', '-A')
  inRepo('commit', '-q', '-m', 'initial')
})
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

describe('dstack waves / execute', () => {
  it('waves: dependencies first, disjoint tasks together', async () => {
    writeFileSync(join(repo, 'PLAN.md'), plan('echo B >> b.txt'))
    const result = await dstack('waves', 'PLAN.md', '--json')
    expect(result.code).toBe(0)
    const waves = JSON.parse(result.stdout) as { waves: Array<{ tasks: string[] }> }
    expect(waves.waves.map((w) => w.tasks)).toEqual([['a', 'b'], ['c']])
  })

  it('execute: runs and merges every wave, and writes IMPLEMENTATION.md beside the plan', async () => {
    writeFileSync(join(repo, 'PLAN.md'), plan('echo B >> b.txt'))
    inRepo('add', 'PLAN.md')
    inRepo('commit', '-q', '-m', 'plan')
    const result = await dstack('execute', 'PLAN.md')
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^completed/m)
    expect(readFileSync(join(repo, 'c.txt'), 'utf8')).toBe('a\nA\n') // wave 2 saw wave 1's merge
    expect(readFileSync(join(repo, 'b.txt'), 'utf8')).toBe('b\nB\n')
    expect(readFileSync(join(repo, 'IMPLEMENTATION.md'), 'utf8')).toMatch(
      /<!-- dstack:execute:begin -->[\s\S]*completed/,
    )
  })

  it('execute: an overlap the plan missed stops the run with exit 6 and merges nothing', async () => {
    writeFileSync(join(repo, 'PLAN.md'), plan('echo B >> b.txt && echo sneaky >> a.txt'))
    inRepo('add', 'PLAN.md')
    inRepo('commit', '-q', '-m', 'plan')
    const head = inRepo('rev-parse', 'HEAD')
    const result = await dstack('execute', 'PLAN.md', '--json')
    expect(result.code).toBe(6)
    const report = JSON.parse(result.stdout) as {
      outcome: string
      stop: { reason: string }
      waves: Array<{ overlaps: unknown[] }>
    }
    expect(report.outcome).toBe('stopped')
    expect(report.stop.reason).toBe('overlap')
    expect(report.waves[0]!.overlaps).toEqual([{ file: 'a.txt', tasks: ['a', 'b'] }])
    expect(inRepo('rev-parse', 'HEAD')).toBe(head)
  })

  it('a bad plan exits 2 and names the line', async () => {
    writeFileSync(
      join(repo, 'plan.yaml'),
      'tasks:\n  - id: a\n    description: x\n    files: [../outside.txt]\n',
    )
    const result = await dstack('waves', 'plan.yaml')
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/plan\.yaml:4: task "a": .*`\.\.`/)
  })
})

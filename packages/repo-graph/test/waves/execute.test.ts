import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { executePlan, type WaveEvent, WaveExecutionError } from '../../src/waves/execute.ts'
import { type Plan, parsePlan } from '../../src/waves/plan.ts'
import { cleanup, git, initRepo, status, tempDir, write } from './helpers.ts'

afterAll(cleanup)

/** A plan from YAML text; the file lives outside the repository so it never shows in its status. */
function plan(yaml: string): Plan {
  return parsePlan(yaml, join(tempDir(), 'plan.yaml'))
}

function branches(repo: string): string[] {
  return git(repo, 'branch', '--list', 'dstack/*', '--format=%(refname:short)').split('\n').filter(Boolean)
}

function worktrees(repo: string): number {
  return git(repo, 'worktree', 'list', '--porcelain')
    .split('\n')
    .filter((l) => l.startsWith('worktree ')).length
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // A zombie has exited; only its parent has not collected it yet.
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
  } catch {
    return false
  }
}

/** Waits (bounded) for a killed process to disappear; the kernel may take a moment to finish the kill. */
async function dead(pid: number): Promise<boolean> {
  for (let i = 0; i < 200 && alive(pid); i++) await new Promise((r) => setTimeout(r, 25))
  return !alive(pid)
}

describe('executePlan with the shell executor', () => {
  it('reports a file one task secretly edits in another task of its wave, merges nothing, keeps the worktrees', async () => {
    const repo = initRepo({ 'a.txt': 'a\n', 'b.txt': 'b\n' })
    const start = git(repo, 'rev-parse', 'HEAD')
    const p = plan(`name: Sneaky
tasks:
  - id: a
    description: Edit a
    files: [a.txt]
    command: echo A >> a.txt
  - id: b
    description: Edit b
    files: [b.txt]
    command: echo B >> b.txt && echo B >> a.txt
`)
    const events: WaveEvent[] = []
    const report = await executePlan(p, { repo, onEvent: (e) => events.push(e) })

    expect(report.outcome).toBe('stopped')
    expect(report.stop).toMatchObject({ wave: 1, reason: 'overlap' })
    expect(report.stop!.message).toContain('a.txt (a, b)')
    const [wave] = report.waves
    expect(wave!.overlaps).toEqual([{ file: 'a.txt', tasks: ['a', 'b'] }])
    expect(wave!.merged).toBe(false)
    expect(wave!.status).toBe('kept')
    const [a, b] = wave!.tasks
    expect(a).toMatchObject({
      status: 'succeeded',
      exitCode: 0,
      actual: ['a.txt'],
      undeclared: [],
      kept: true,
    })
    expect(b).toMatchObject({
      status: 'succeeded',
      actual: ['a.txt', 'b.txt'],
      undeclared: ['a.txt'],
      kept: true,
    })
    expect(b!.commits.map((c) => c.subject)).toEqual(['dstack: b — Edit b'])
    expect(b!.commit).toBe(git(repo, 'rev-parse', 'dstack/wave/sneaky/b'))

    // Nothing merged, the work kept for a human, and the main repository's status untouched.
    expect(git(repo, 'rev-parse', 'HEAD')).toBe(start)
    expect(readFileSync(join(repo, 'a.txt'), 'utf8')).toBe('a\n')
    expect(branches(repo)).toEqual(['dstack/wave/sneaky/a', 'dstack/wave/sneaky/b'])
    expect(a!.worktree).toBe(join(repo, '.dstack/worktrees/sneaky/a'))
    expect(readFileSync(join(b!.worktree!, 'a.txt'), 'utf8')).toBe('a\nB\n')
    expect(worktrees(repo)).toBe(3)
    expect(status(repo)).toBe('')
    expect(report.next.join('\n')).toContain('a.txt was changed by a and b')
    expect(report.next.join('\n')).toContain('git worktree remove --force')
    expect(events.map((e) => e.type)).toEqual([
      'wave-start',
      'task-start',
      'task-start',
      'task-end',
      'task-end',
      'wave-end',
      'stopped',
    ])

    // A second run refuses to start over the kept work.
    await expect(executePlan(p, { repo })).rejects.toThrow(/earlier run left the worktree or branch of a, b/)
  })

  it('merges clean waves in order, so later waves see earlier work, and leaves a clean repository', async () => {
    const repo = initRepo()
    const p = plan(`name: Clean
tasks:
  - id: a
    description: Write a
    files: [src/a/]
    command: mkdir -p src/a && echo from-a > src/a/x.txt
  - id: b
    description: Write b and commit it itself
    files: [b.txt]
    command: echo from-b > b.txt && git add b.txt && git -c user.name=agent -c user.email=agent@x commit -q -m "agent commit"
  - id: env
    description: Record the environment
    files: [env.txt, docs/with space.md]
    command: printf '%s|%s|%s' "$DSTACK_TASK_ID" "$DSTACK_TASK_DESCRIPTION" "$DSTACK_TASK_FILES" > env.txt
  - id: c
    description: Build on a
    files: [c.txt]
    depends_on: [a]
    command: cat src/a/x.txt > c.txt
`)
    const waveStarts: number[] = []
    const report = await executePlan(p, {
      repo,
      concurrency: 2,
      onEvent: (e) => {
        if (e.type === 'wave-start') waveStarts.push(e.wave)
      },
    })

    expect(report.outcome).toBe('completed')
    expect(report.stop).toBeNull()
    expect(waveStarts).toEqual([1, 2])
    expect(report.waves.map((w) => [w.index, w.status, w.tasks.map((t) => t.id)])).toEqual([
      [1, 'merged', ['a', 'b', 'env']],
      [2, 'merged', ['c']],
    ])
    expect(report.waves[0]!.mergeCommits).toHaveLength(3)
    const b = report.waves[0]!.tasks[1]!
    // The executor's own commit is kept; with nothing left over, dstack adds none.
    expect(b.commits.map((c) => c.subject)).toEqual(['agent commit'])

    // Both waves' changes are in the repository, wave 2 built on wave 1.
    expect(readFileSync(join(repo, 'src/a/x.txt'), 'utf8')).toBe('from-a\n')
    expect(readFileSync(join(repo, 'b.txt'), 'utf8')).toBe('from-b\n')
    expect(readFileSync(join(repo, 'c.txt'), 'utf8')).toBe('from-a\n')
    expect(readFileSync(join(repo, 'env.txt'), 'utf8')).toBe(
      'env|Record the environment|env.txt\ndocs/with space.md',
    )
    expect(git(repo, 'log', '--format=%s', '-1')).toBe('dstack: merge c (wave 2 of clean)')
    expect(report.endHead).toBe(git(repo, 'rev-parse', 'HEAD'))
    expect(git(repo, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe('main')

    // Worktrees and branches are gone, and nothing is left behind.
    expect(status(repo)).toBe('')
    expect(branches(repo)).toEqual([])
    expect(worktrees(repo)).toBe(1)
    expect(existsSync(join(repo, '.dstack'))).toBe(false)
    expect(report.waves.flatMap((w) => w.tasks).every((t) => !t.kept)).toBe(true)
  })

  it('stops at a failing task: later waves skipped, nothing merged, worktrees kept', async () => {
    const repo = initRepo()
    const start = git(repo, 'rev-parse', 'HEAD')
    const p = plan(`tasks:
  - id: a
    description: Breaks
    files: [a.txt]
    command: echo partial > a.txt; echo oops >&2; exit 3
  - id: b
    description: Works
    files: [b.txt]
    command: echo ok > b.txt
  - id: c
    description: Later
    files: [c.txt]
    depends_on: [a]
    command: echo c > c.txt
`)
    const report = await executePlan(p, { repo })
    expect(report.outcome).toBe('stopped')
    expect(report.stop).toMatchObject({ wave: 1, reason: 'task-failed' })
    const [a, b] = report.waves[0]!.tasks
    expect(a).toMatchObject({ status: 'failed', exitCode: 3, actual: ['a.txt'], kept: true })
    expect(a!.error).toContain('exited with code 3')
    expect(a!.stderr).toContain('oops')
    expect(b).toMatchObject({ status: 'succeeded', kept: true })
    expect(report.waves[1]).toMatchObject({ index: 2, status: 'skipped', merged: false })
    expect(report.waves[1]!.tasks[0]).toMatchObject({ id: 'c', status: 'skipped' })
    expect(git(repo, 'rev-parse', 'HEAD')).toBe(start)
    expect(existsSync(join(repo, 'a.txt'))).toBe(false)
    expect(branches(repo)).toHaveLength(2)
    expect(status(repo)).toBe('')
    expect(report.next.join('\n')).toContain('Task a failed')
  })

  it('kills the whole process group of a task that runs out of time', async () => {
    const repo = initRepo()
    const p = plan(`tasks:
  - id: slow
    description: Never ends
    files: [pids/**]
    command: mkdir pids; sleep 300 & echo $! > pids/child; echo $$ > pids/shell; wait
`)
    const report = await executePlan(p, { repo, timeoutMs: 1500 })
    const task = report.waves[0]!.tasks[0]!
    expect(task.status).toBe('timeout')
    expect(task.exitCode).toBeNull()
    expect(task.error).toContain('timed out')
    expect(report.stop).toMatchObject({ reason: 'task-timeout' })
    const shell = Number(readFileSync(join(task.worktree!, 'pids/shell'), 'utf8'))
    const child = Number(readFileSync(join(task.worktree!, 'pids/child'), 'utf8'))
    expect(shell).toBeGreaterThan(0)
    expect(child).toBeGreaterThan(0)
    expect(await dead(shell)).toBe(true)
    expect(await dead(child)).toBe(true)
  })

  it('an abort kills the running executor and stops before merging', async () => {
    const repo = initRepo()
    const start = git(repo, 'rev-parse', 'HEAD')
    const p = plan(`tasks:
  - id: long
    description: Long
    files: [pid]
    command: echo $$ > pid.tmp && mv pid.tmp pid; sleep 300
  - id: later
    description: Later
    files: [later.txt]
    depends_on: [long]
    command: echo later > later.txt
`)
    const controller = new AbortController()
    const report = await executePlan(p, {
      repo,
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type !== 'task-start') return
        // Abort once the executor is surely running (it has written its pid).
        const poll = setInterval(() => {
          if (!existsSync(join(e.worktree, 'pid'))) return
          clearInterval(poll)
          controller.abort()
        }, 20)
      },
    })
    expect(report.stop).toMatchObject({ wave: 1, reason: 'aborted' })
    const task = report.waves[0]!.tasks[0]!
    expect(task).toMatchObject({ status: 'failed', kept: true })
    expect(task.error).toContain('aborted')
    expect(report.waves[1]).toMatchObject({ status: 'skipped' })
    expect(git(repo, 'rev-parse', 'HEAD')).toBe(start)
    const pid = Number(readFileSync(join(task.worktree!, 'pid'), 'utf8'))
    expect(pid).toBeGreaterThan(0)
    expect(await dead(pid)).toBe(true)
  })

  it('with merge off, runs one wave and keeps its branches for review', async () => {
    const repo = initRepo()
    const start = git(repo, 'rev-parse', 'HEAD')
    const p = plan(`name: Review
tasks:
  - id: a
    description: A
    files: [a.txt]
    command: echo a > a.txt
  - id: b
    description: B
    files: [b.txt]
    depends_on: [a]
    command: echo b > b.txt
`)
    const report = await executePlan(p, { repo, merge: false })
    expect(report.stop).toMatchObject({ wave: 1, reason: 'merge-disabled' })
    expect(report.waves.map((w) => w.status)).toEqual(['kept', 'skipped'])
    expect(git(repo, 'rev-parse', 'HEAD')).toBe(start)
    expect(branches(repo)).toEqual(['dstack/wave/review/a'])
    expect(report.next.join('\n')).toContain('git merge --no-ff dstack/wave/review/a')
  })

  it('runs only the selected waves', async () => {
    const repo = initRepo()
    const p = plan(`tasks:
  - id: a
    description: A
    files: [a.txt]
    command: echo a > a.txt
  - id: b
    description: B
    files: [b.txt]
    depends_on: [a]
    command: echo b > b.txt
`)
    const report = await executePlan(p, { repo, waves: [2] })
    expect(report.outcome).toBe('completed')
    expect(report.waves.map((w) => w.index)).toEqual([2])
    expect(existsSync(join(repo, 'b.txt'))).toBe(true)
    expect(existsSync(join(repo, 'a.txt'))).toBe(false)
    await expect(executePlan(p, { repo, waves: [3] })).rejects.toThrow(/there is no wave 3/)
  })

  it('a dry run reports the commands and creates nothing', async () => {
    const repo = initRepo()
    const p = plan(`tasks:
  - id: a
    description: A
    files: [a.txt]
    command: echo a > a.txt
`)
    const report = await executePlan(p, { repo, dryRun: true })
    expect(report.outcome).toBe('dry-run')
    expect(report.waves[0]).toMatchObject({ status: 'planned', merged: false })
    expect(report.waves[0]!.tasks[0]).toMatchObject({
      status: 'skipped',
      argv: ['sh', '-c', 'echo a > a.txt'],
    })
    expect(existsSync(join(repo, '.dstack'))).toBe(false)
    expect(branches(repo)).toEqual([])
  })

  it('refuses bad options, a dirty repository and a task without an executor before doing anything', async () => {
    const repo = initRepo()
    const p = plan('tasks:\n  - id: a\n    description: A\n    files: [a.txt]\n    command: "true"\n')
    await expect(executePlan(p, { repo, concurrency: 0 })).rejects.toThrow(/options: concurrency/)
    await expect(executePlan(p, { repo, timeoutMs: -1 })).rejects.toBeInstanceOf(WaveExecutionError)
    await expect(executePlan(p, { repo: tempDir() })).rejects.toThrow(/not inside a git repository/)

    const bare = plan('tasks:\n  - id: x\n    description: X\n    files: [x]\n')
    await expect(executePlan(bare, { repo })).rejects.toThrow(/plan\.yaml:2: task "x": no executor/)

    write(repo, { 'README.md': 'changed\n' })
    await expect(executePlan(p, { repo })).rejects.toThrow(/uncommitted changes/)
    expect(readdirSync(repo).sort()).toEqual(['.git', 'README.md'])
  })
})

// `dstack deploy …` as a user runs it: a real service repository (the deploy package's fixture) built, released and
// started by the process driver into a temp root on this machine, through the built CLI. The tests run in order on
// one fleet: each leaves the releases the next one reads.
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Fleet, makeFleet } from '../../../packages/deploy/test/support/fleet.ts'
import { bin, type Result, runDstack, scratchDatabase } from './support/cli.ts'

let fleet: Fleet
let env: NodeJS.ProcessEnv
let brain: { url: string; drop(): Promise<void> }

function dstack(args: string[], extra: NodeJS.ProcessEnv = {}): Promise<Result> {
  return runDstack(args, { cwd: fleet.dir, env: { ...env, ...extra } })
}

/** The one warning line a deploy prints when it cannot log to the team brain. */
function brainWarning(result: Result): string {
  const lines = result.stderr.trim().split('\n')
  expect(lines).toHaveLength(1)
  expect(lines[0]).toMatch(/deploy not recorded in the team brain's deploy log/)
  return lines[0]!
}

beforeAll(async () => {
  fleet = await makeFleet()
  const home = join(fleet.dir, 'home')
  mkdirSync(home)
  env = {
    PATH: process.env.PATH,
    HOME: home,
    DSTACK_HOME: join(home, '.dstack'),
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_CONFIG_NOSYSTEM: '1',
  }
  brain = await scratchDatabase('dstack_deploy')
  expect((await dstack(['brain', 'migrate'], { DSTACK_BRAIN_URL: brain.url })).code).toBe(0)
})

afterAll(async () => {
  await fleet?.stop()
  await brain?.drop()
  if (fleet) rmSync(fleet.dir, { recursive: true, force: true })
})

describe('dstack deploy', () => {
  let first = ''
  let second = ''

  it('--dry-run prints the numbered commands and changes nothing', async () => {
    const plan = await dstack(['deploy', 'svc', '--dry-run'])
    expect(plan.code, plan.stderr).toBe(0)
    expect(plan.stderr).toBe('')
    expect(plan.stdout).toMatch(/^deploy svc → local: release \S+ \(first release\)$/m)
    expect(plan.stdout).toMatch(/^ {2} 1\. lock svc on the target/m)
    expect(plan.stdout).toMatch(/^ {2} 2\. .*\n {5}\$ sh -c 'sh build.sh'/m)
    expect(plan.stdout).toMatch(/^ {2}on failure:$/m)
    const json = await dstack(['deploy', 'svc', '--dry-run', '--json'])
    const { plans } = JSON.parse(json.stdout) as {
      plans: Array<{ steps: Array<{ id: string }>; commands: { steps: string[] } }>
    }
    expect(plans).toHaveLength(1)
    expect(plans[0]!.commands.steps).toHaveLength(plans[0]!.steps.length)
    expect(plans[0]!.steps.map((s) => s.id)).toContain('health')
    expect(existsSync(join(fleet.root, 'releases'))).toBe(false)
    expect(await fleet.get()).toBeNull()
  })

  it('deploys: exit 0 and the service answers; no brain is one warning line', async () => {
    const run = await dstack(['deploy', 'svc'])
    expect(run.code, run.stdout + run.stderr).toBe(0)
    expect(run.stdout).toMatch(/^svc → local: deployed \(/m)
    expect(run.stdout).toMatch(/✓ point current at releases\//)
    expect(brainWarning(run)).toMatch(/no brain configured/)
    expect(await fleet.get()).toBe('200 ok 1.0.0')
    first = fleet.current()!
  })

  it('--json prints the reports, and the deploy goes to the team brain', async () => {
    await fleet.repo.setVersion('1.1.0')
    const run = await dstack(['deploy', 'svc', '--json'], { DSTACK_BRAIN_URL: brain.url })
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    const { reports } = JSON.parse(run.stdout) as {
      reports: Array<{ outcome: string; release: string; previous: string }>
    }
    expect(reports).toMatchObject([{ outcome: 'deployed', previous: first }])
    second = reports[0]!.release
    expect(await fleet.get()).toBe('200 ok 1.1.0')

    const client = new pg.Client({ connectionString: brain.url })
    await client.connect()
    try {
      const { rows } = await client.query(
        'select service, target, release, previous_release, outcome, steps from dstack.deploys',
      )
      expect(rows).toMatchObject([
        { service: 'svc', target: 'local', release: second, previous_release: first, outcome: 'deployed' },
      ])
      expect(rows[0].steps.map((s: { id: string }) => s.id)).toEqual(
        expect.arrayContaining(['lock', 'build-1', 'switch', 'health', 'record', 'unlock']),
      )
    } finally {
      await client.end()
    }
  })

  it('a release that fails its health check exits 6, and the previous one still answers', async () => {
    await fleet.repo.setVersion('2.0.0', 'unhealthy')
    const run = await dstack(['deploy', 'svc'])
    expect(run.code, run.stdout).toBe(6)
    expect(run.stdout).toMatch(/svc → local: FAILED, rolled back/)
    expect(run.stdout).toMatch(/why: health: /)
    expect(await fleet.get()).toBe('200 ok 1.1.0')
    expect(fleet.current()).toBe(second)
  })

  it('status and history show the releases, the bad one marked', async () => {
    const status = await dstack(['deploy', 'status', 'svc', '--json'])
    expect(status.code, status.stderr).toBe(0)
    const { hosts } = JSON.parse(status.stdout) as {
      hosts: Array<{ target: string; current: string; releases: string[]; bad: string[]; status: string }>
    }
    expect(hosts).toHaveLength(1)
    expect(hosts[0]).toMatchObject({ target: 'local', current: second, lock: null })
    expect(hosts[0]!.releases).toHaveLength(3)
    expect(hosts[0]!.releases.slice(0, 2)).toEqual([first, second])
    expect(hosts[0]!.bad).toEqual([hosts[0]!.releases[2]])
    expect(hosts[0]!.status).toMatch(/^running \d+/)
    const human = await dstack(['deploy', 'status', 'svc'])
    expect(human.stdout).toContain(`${second} (current)`)
    expect(human.stdout).toContain(`${hosts[0]!.releases[2]} (bad)`)

    const history = await dstack(['deploy', 'history', 'svc'])
    expect(history.code).toBe(0)
    const lines = history.stdout.trim().split('\n').slice(1)
    expect(lines).toHaveLength(3)
    expect(lines[0]).toMatch(/ deploy +\S+ +rolled-back +health: /)
    expect(lines[1]).toContain(`${second}  deployed`)
    expect(lines[2]).toContain(`${first}  deployed`)
    const limited = await dstack(['deploy', 'history', 'svc', '--limit', '1', '--json'])
    const out = JSON.parse(limited.stdout) as { hosts: Array<{ entries: Array<{ outcome: string }> }> }
    expect(out.hosts[0]!.entries.map((e) => e.outcome)).toEqual(['rolled-back'])
  })

  it('rollback makes the previous good release current; --to a release that is not there exits 7', async () => {
    const run = await dstack(['deploy', 'rollback', 'svc'])
    expect(run.code, run.stdout + run.stderr).toBe(0)
    expect(run.stdout).toMatch(/svc → local: deployed/)
    expect(fleet.current()).toBe(first)
    expect(await fleet.get()).toBe('200 ok 1.0.0')

    const none = await dstack(['deploy', 'rollback', 'svc', '--to', 'nope'])
    expect(none.code).toBe(7)
    expect(none.stderr).toMatch(/no release nope on local/)
  })

  it('an unknown service or a malformed dstack.yaml exits 3 and says what is wrong', async () => {
    const unknown = await dstack(['deploy', 'nope'])
    expect(unknown.code).toBe(3)
    expect(unknown.stderr).toMatch(/no service "nope" under deploy: \(known: svc\)/)
    const bad = join(fleet.dir, 'bad.yaml')
    writeFileSync(bad, `deploy:\n  svc:\n    root: ${fleet.root}\n    helth: { url: x }\n`)
    const malformed = await dstack(['deploy', 'svc', '--workspace', bad])
    expect(malformed.code).toBe(3)
    expect(malformed.stderr).toMatch(/bad\.yaml: line 4, column \d+: deploy\.svc: Unrecognized key: "helth"/)
    const nothing = await runDstack(['deploy', 'svc'], { cwd: '/', env })
    expect(nothing.code).toBe(3)
    expect(nothing.stderr).toMatch(/no dstack\.yaml here or in a parent directory/)
  })

  it('a lock held by someone else refuses the deploy (8); unlock needs --force (2), then it deploys', async () => {
    await fleet.repo.setVersion('3.0.0')
    const lock = join(fleet.root, '.dstack', 'lock')
    mkdirSync(lock, { recursive: true })
    writeFileSync(join(lock, 'token'), 'theirs\n')
    writeFileSync(join(lock, 'expires'), `${Math.floor(Date.now() / 1000) + 3600}\n`)
    writeFileSync(join(lock, 'owner'), 'mallory@elsewhere pid 4242\n')

    const refused = await dstack(['deploy', 'svc'])
    expect(refused.code, refused.stdout).toBe(8)
    expect(refused.stdout).toMatch(/refused \(nothing was changed\)/)
    expect(refused.stdout).toMatch(/locked by mallory@elsewhere pid 4242/)
    expect(await fleet.get()).toBe('200 ok 1.0.0')
    const status = await dstack(['deploy', 'status', 'svc'])
    expect(status.stdout).toMatch(/lock +mallory@elsewhere pid 4242, until /)

    const noForce = await dstack(['deploy', 'unlock', 'svc'])
    expect(noForce.code).toBe(2)
    expect(noForce.stderr).toMatch(/whoever holds it.*--force/)
    expect(existsSync(lock)).toBe(true)
    const unlock = await dstack(['deploy', 'unlock', 'svc', '--force'])
    expect(unlock.code).toBe(0)
    expect(unlock.stdout).toMatch(/svc → local: removed the lock of mallory@elsewhere pid 4242/)

    // A brain that does not answer is a warning, never a failed deploy.
    const run = await dstack(['deploy', 'svc'], { DSTACK_BRAIN_URL: 'postgres://postgres@127.0.0.1:1/none' })
    expect(run.code, run.stdout).toBe(0)
    expect(brainWarning(run)).toMatch(/cannot reach the postgres brain/)
    expect(await fleet.get()).toBe('200 ok 3.0.0')
  })

  it('--all deploys in dependency order and stops at the first service that fails', async () => {
    const all = join(fleet.dir, 'all.yaml')
    const broken = { ...fleet.service, root: join(fleet.dir, 'srv-aaa'), build: 'exit 1' }
    writeFileSync(all, JSON.stringify({ roots: ['.'], deploy: { svc: fleet.service, aaa: broken } }))
    const plans = await dstack(['deploy', '--all', '--dry-run', '--workspace', all, '--json'])
    expect(plans.code).toBe(0)
    expect(
      (JSON.parse(plans.stdout) as { plans: Array<{ service: string }> }).plans.map((p) => p.service),
    ).toEqual(['aaa', 'svc'])
    const run = await dstack(['deploy', '--all', '--workspace', all])
    expect(run.code, run.stdout).toBe(6)
    expect(run.stdout).toMatch(/aaa → local: FAILED before going live/)
    expect(run.stdout).toMatch(/^not attempted: svc \(stopped after aaa\)$/m)
    expect(await fleet.get()).toBe('200 ok 3.0.0')
    expect((await dstack(['deploy', 'svc', '--all'])).code).toBe(2)
  })

  it('Ctrl-C stops the running step, still unlocks, prints the report and exits 130', async () => {
    const pidFile = join(fleet.dir, 'build.pid')
    const slow = join(fleet.dir, 'slow.yaml')
    const service = { ...fleet.service, build: `sleep 30 & echo $! > ${pidFile}; wait` }
    writeFileSync(slow, JSON.stringify({ roots: ['.'], deploy: { svc: service } }))
    const child = spawn(process.execPath, [bin, 'deploy', 'svc', '--workspace', slow], {
      cwd: fleet.dir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    child.stdout.on('data', (d) => {
      stdout += d
    })
    const readPid = () => (existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : 0)
    for (let i = 0; i < 800 && !(readPid() > 0); i++) await new Promise((r) => setTimeout(r, 25))
    const sleeper = readPid()
    expect(sleeper).toBeGreaterThan(0)
    const exited = new Promise<number | null>((done) => child.once('close', done))
    child.kill('SIGINT')
    expect(await exited).toBe(130)
    expect(stdout).toMatch(/svc → local: FAILED before going live/)
    expect(stdout).toMatch(/✗ .*build.*\n +interrupted/)
    expect(existsSync(join(fleet.root, '.dstack', 'lock'))).toBe(false)
    expect(await fleet.get()).toBe('200 ok 3.0.0')
    let gone = false
    for (let i = 0; i < 100 && !gone; i++) {
      gone = !existsSync(`/proc/${sleeper}`) || /\) Z /.test(readFileSync(`/proc/${sleeper}/stat`, 'utf8'))
      if (!gone) await new Promise((r) => setTimeout(r, 20))
    }
    expect(gone).toBe(true)
  })
})

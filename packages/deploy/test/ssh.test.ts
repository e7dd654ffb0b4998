// The SSH target against a real sshd (Debian's, on a loopback port, with a generated key): arguments arrive exactly
// as given, a whole deploy uses one connection, and a connection that drops mid-deploy ends like any other failure —
// previous release serving, lock released, a report that says why.
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir } from '@dstack/git/testing'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { formatReport, LocalTarget, runPrepared, SshTarget, type Target } from '../src/index.ts'
import { type Fleet, makeFleet } from './support/fleet.ts'
import { freePort, until } from './support/processes.ts'
import { type Sshd, startSshd } from './support/sshd.ts'

let sshd: Sshd
const fleets: Fleet[] = []

beforeAll(async () => {
  sshd = await startSshd()
})
afterAll(() => sshd?.stop())
afterEach(async () => {
  for (const f of fleets.splice(0)) await f.stop()
})

function sshTarget(): SshTarget {
  return new SshTarget({
    url: `ssh://${sshd.user}@127.0.0.1:${sshd.port}`,
    identityFile: sshd.identityFile,
    knownHosts: sshd.knownHostsFile,
  })
}

async function sshFleet(extra: Record<string, unknown> = {}): Promise<Fleet> {
  const f = await makeFleet({
    hosts: [`ssh://${sshd.user}@127.0.0.1:${sshd.port}`],
    ssh: { identity_file: sshd.identityFile, known_hosts: sshd.knownHostsFile },
    ...extra,
  })
  fleets.push(f)
  return f
}

// Each is one argv element that a shell would otherwise split, expand or run.
const NASTY = [
  'plain',
  'two words',
  "it's",
  '"double"',
  '$(touch PWNED)',
  '`touch PWNED`',
  '; touch PWNED',
  '&& touch PWNED',
  '| touch PWNED',
  '$HOME',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion that must arrive literally
  '${PATH}',
  '*',
  '~',
  'new\nline',
  'tab\there',
  '\\back\\slash',
  '',
  '-n',
  '--',
  'ünïcödé ✓',
  "'; touch PWNED; echo '",
]

describe('arguments over ssh', () => {
  it.each([
    ['local', () => new LocalTarget()],
    ['ssh', () => sshTarget()],
  ] as Array<[string, () => Target]>)(
    '%s: every argument arrives exactly as given, and none runs',
    async (_, make) => {
      const target = make()
      const dir = tempDir('dstack-quote-')
      try {
        // A NUL-separated dump of argv, so empty strings and newlines survive the round trip.
        const r = await target.exec([
          'sh',
          '-c',
          'cd "$1" && shift && printf "%s\\0" "$@"',
          'quote',
          dir,
          ...NASTY,
        ])
        expect(r.stderr).toBe('')
        expect(r.stdout.split('\0').slice(0, -1)).toEqual(NASTY)
        expect(existsSync(join(dir, 'PWNED'))).toBe(false)
      } finally {
        await target.close()
      }
    },
  )
})

describe('a deploy over ssh', () => {
  it('behaves like a local one, over one connection for the whole deploy', async () => {
    const f = await sshFleet()
    const before = sshd.sessions()
    const report = await f.deploy()
    expect(report.outcome, formatReport(report)).toBe('deployed')
    expect(report.target).toBe(`ssh://${sshd.user}@127.0.0.1:${sshd.port}`)
    expect(await f.get()).toBe('200 ok 1.0.0')
    expect(f.current()).toBe(report.release)
    // Inspect, lock, upload, env, switch, restart, prune, record, unlock: all over one login.
    expect(sshd.sessions() - before).toBe(1)
    expect(report.steps.find((s) => s.id === 'lock')!.command[0]).toBe('ssh')

    await f.repo.setVersion('2.0.0', 'unhealthy')
    const bad = await f.deploy()
    expect(bad.outcome).toBe('rolled-back')
    expect(await f.get()).toBe('200 ok 1.0.0')
    expect(existsSync(join(f.root, '.dstack', 'lock'))).toBe(false)
  })

  it('a connection that drops mid-deploy: the rollback reconnects, the previous release serves, the lock is released', async () => {
    const marker = join(tempDir('dstack-drop-'), 'hook-started')
    const f = await sshFleet()
    expect((await f.deploy()).outcome).toBe('deployed')
    f.service.hooks = { before_restart: ['sh', '-c', 'touch "$1"; sleep 20', 'hook', marker] }
    f.write()
    await f.repo.setVersion('2.0.0')
    const running = f.deploy()
    await until(() => (existsSync(marker) ? true : undefined), 'the hook to start', 30_000)
    const sessionsBefore = sshd.sessions()
    await sshd.dropConnections()
    const report = await running
    expect(report.outcome, formatReport(report)).toBe('rolled-back')
    expect(report.failedStep).toBe('hook-before-restart')
    expect(report.reason).toMatch(/the SSH connection to ssh:\/\/.* failed or dropped/)
    expect(report.rollback.map((s) => [s.id, s.status])).toEqual([['switch-back', 'ok']])
    expect(sshd.sessions()).toBeGreaterThan(sessionsBefore)
    expect(f.current()).toBe(report.previous)
    expect(await f.get()).toBe('200 ok 1.0.0')
    expect(existsSync(join(f.root, '.dstack', 'lock'))).toBe(false)
  })

  it('two hosts sharing one database: the second host does not apply the migrations again', async () => {
    const pg = process.env.DSTACK_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
    const database = `dstack_deploy_hosts_${process.pid}_${Date.now()}`
    execFileSync('psql', ['-X', '-q', pg, '-c', `create database ${database}`])
    try {
      const f = await sshFleet({
        hosts: ['local', `ssh://${sshd.user}@127.0.0.1:${sshd.port}`],
        migrations: { dir: 'migrations' },
        env: { PORT: '0', DATABASE_URL: pg.replace(/\/[^/]*$/, `/${database}`) },
      })
      f.service.env = { PORT: String(f.port), DATABASE_URL: pg.replace(/\/[^/]*$/, `/${database}`) }
      f.write()
      await f.repo.addMigration('0001_items.sql', 'create table items (id int primary key);\n')
      const reports = await runPrepared(await f.prepare())
      expect(reports.map((r) => [r.target, r.outcome])).toEqual([
        ['local', 'deployed'],
        [`ssh://${sshd.user}@127.0.0.1:${sshd.port}`, 'deployed'],
      ])
      expect(reports[0]!.migrations.pending).toEqual(['0001_items.sql'])
      expect(reports[1]!.migrations.pending).toEqual([])
      expect(await f.get()).toBe('200 ok 1.0.0')
    } finally {
      execFileSync('psql', ['-X', '-q', pg, '-c', `drop database if exists ${database} with (force)`])
    }
  })

  it('a host that cannot be reached fails the plan with ssh’s reason, before anything runs', async () => {
    const port = await freePort()
    const f = await sshFleet({ hosts: [`ssh://${sshd.user}@127.0.0.1:${port}`] })
    await expect(f.prepare()).rejects.toThrow(/cannot read .* on ssh:\/\/.*: .*Connection refused/)
    expect(existsSync(f.root)).toBe(false)
  })

  it('a host key that does not match is refused (never trusted on first use)', async () => {
    const other = await startSshd()
    try {
      const f = await sshFleet({
        hosts: [`ssh://${sshd.user}@127.0.0.1:${sshd.port}`],
        ssh: { identity_file: sshd.identityFile, known_hosts: other.knownHostsFile },
      })
      await expect(f.prepare()).rejects.toThrow(/Host key verification failed|No .* host key is known/)
    } finally {
      await other.stop()
    }
  })
})

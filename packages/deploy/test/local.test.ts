// Deploys of a real service (built from a real git repository, started by the process driver) into a temp root on
// this machine, behind a real Caddy, with migrations against the real Postgres on 127.0.0.1:5432. Every fault case
// must end with the previous release serving, the lock released and a report that says why.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { git } from '@dstack/git/testing'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { commandLine, type DeployReport, formatPlan, formatReport, runPrepared } from '../src/index.ts'
import { type Caddy, caddyfileFor, startCaddy } from './support/caddy.ts'
import { type Fleet, makeFleet } from './support/fleet.ts'

const PG = process.env.DSTACK_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const fleets: Fleet[] = []

async function fleet(extra: Record<string, unknown> = {}): Promise<Fleet> {
  const f = await makeFleet(extra)
  fleets.push(f)
  return f
}

afterEach(async () => {
  for (const f of fleets.splice(0)) await f.stop()
})

/** The report's promise for every fault case: the previous release is current and answering, and no lock is left. */
async function expectPreviousServing(f: Fleet, report: DeployReport, version: string) {
  expect(report.serving).toBe(report.previous)
  expect(f.current()).toBe(report.previous)
  expect(await f.get()).toBe(`200 ok ${version}`)
  expect(existsSync(join(f.root, '.dstack', 'lock'))).toBe(false)
  expect(report.finish.map((s) => [s.id, s.status])).toEqual([
    ['record', 'ok'],
    ['unlock', 'ok'],
  ])
}

function history(f: Fleet): Array<Record<string, unknown>> {
  return readFileSync(join(f.root, '.dstack', 'history.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
}

describe('a deploy to the local machine', () => {
  it('builds, uploads a release, switches current, starts it, checks health, records it and unlocks', async () => {
    const f = await fleet({ secrets: { API_TOKEN: { env: 'DSTACK_TEST_API_TOKEN' } } })
    process.env.DSTACK_TEST_API_TOKEN = 'tok-very-secret-1234'
    try {
      const report = await f.deploy()
      expect(report.outcome, formatReport(report)).toBe('deployed')
      expect(report.steps.map((s) => s.id)).toEqual([
        'lock',
        'build-1',
        'upload',
        'env',
        'switch',
        'restart',
        'health',
        'prune',
      ])
      expect(await f.get()).toBe('200 ok 1.0.0')
      const release = join(f.root, 'releases', report.release)
      expect(f.current()).toBe(report.release)
      expect(readdirSync(release).sort()).toEqual(['.env', 'mode.txt', 'server.mjs', 'version.txt'])
      // The secret reaches the service's .env (0600), and nothing else: not the report, not the history.
      expect(statSync(join(release, '.env')).mode & 0o777).toBe(0o600)
      expect(readFileSync(join(release, '.env'), 'utf8')).toContain("API_TOKEN='tok-very-secret-1234'")
      expect(JSON.stringify(report)).not.toContain('tok-very-secret')
      expect(readFileSync(join(f.root, '.dstack', 'history.jsonl'), 'utf8')).not.toContain('tok-very-secret')
      expect(history(f)).toMatchObject([
        { action: 'deploy', outcome: 'deployed', release: report.release, bad: [] },
      ])
      expect(existsSync(join(f.root, '.dstack', 'lock'))).toBe(false)
    } finally {
      delete process.env.DSTACK_TEST_API_TOKEN
    }
  })

  it('the dry run prints exactly the commands the run executes, in order', async () => {
    const f = await fleet()
    await f.deploy()
    await f.repo.setVersion('2.0.0')
    const [prepared] = await f.prepare()
    const planned = [...prepared!.plan.steps, ...prepared!.plan.finish].map((s) =>
      commandLine(prepared!.target, s),
    )
    const printed = formatPlan(prepared!.plan, prepared!.target)
    for (const line of planned) expect(printed).toContain(`$ ${line}`)
    const [report] = await runPrepared([prepared!])
    expect(report!.outcome).toBe('deployed')
    const ran = [...report!.steps, ...report!.finish].map((r) => r.command)
    const plannedArgv = [...prepared!.plan.steps, ...prepared!.plan.finish].map((s) =>
      s.on === 'http' ? ['GET', s.health!.url] : s.argv!,
    )
    expect(ran.map((c) => (c[0] === 'GET' ? c.slice(0, 2) : c))).toEqual(plannedArgv)
  })

  it('a failing deploy runs the planned rollback steps, and only those', async () => {
    const f = await fleet()
    await f.deploy()
    await f.repo.setVersion('2.0.0', 'unhealthy')
    const [prepared] = await f.prepare()
    const [report] = await runPrepared([prepared!])
    expect(report!.outcome).toBe('rolled-back')
    const planned = prepared!.plan.rollback.filter((s) => s.when !== 'unused').map((s) => s.id)
    expect(report!.rollback.map((r) => r.id)).toEqual(planned)
    expect(report!.rollback.map((r) => r.command)).toEqual(
      prepared!.plan.rollback
        .filter((s) => s.when !== 'unused')
        .map((s) => (s.on === 'http' ? report!.rollback.find((r) => r.id === s.id)!.command : s.argv)),
    )
  })

  it('keeps the newest releases (never current or previous) and the history of each deploy', async () => {
    const f = await fleet()
    const releases: string[] = []
    for (const v of ['1', '2', '3', '4', '5']) {
      await f.repo.setVersion(`${v}.0.0`)
      const r = await f.deploy()
      expect(r.outcome).toBe('deployed')
      releases.push(r.release)
    }
    expect(readdirSync(join(f.root, 'releases')).sort()).toEqual(releases.slice(-3))
    expect(history(f).map((h) => h.release)).toEqual(releases)
    expect(await f.get()).toBe('200 ok 5.0.0')
  })
})

describe('fault cases: the previous release keeps serving', () => {
  it('a release that crashes on boot is rolled back, and the report quotes its log', async () => {
    // Up 2 s before the restart counts as done: even on a loaded machine node has booted (or crashed) by then.
    const f = await fleet()
    f.service.process = { command: (f.service.process as { command: string[] }).command, boot_check_ms: 2000 }
    f.write()
    await f.deploy()
    await f.repo.setVersion('2.0.0', 'crash')
    const report = await f.deploy()
    expect(report.outcome).toBe('rolled-back')
    expect(report.failedStep).toBe('restart')
    expect(report.reason).toContain('exited at boot')
    expect(report.reason).toContain('crashing at boot')
    expect(report.reason).not.toContain('service 1.0.0') // only the new release's log lines
    await expectPreviousServing(f, report, '1.0.0')
    expect(history(f).at(-1)).toMatchObject({ outcome: 'rolled-back', bad: [report.release] })
  })

  it('a failing health check rolls back', async () => {
    const f = await fleet()
    await f.deploy()
    await f.repo.setVersion('2.0.0', 'unhealthy')
    const report = await f.deploy()
    expect(report.outcome).toBe('rolled-back')
    expect(report.reason).toMatch(/health: .*status 500, expected 200/)
    await expectPreviousServing(f, report, '1.0.0')
  })

  it('a health check that never answers times out and rolls back', async () => {
    const f = await fleet()
    await f.deploy()
    await f.repo.setVersion('2.0.0', 'hang')
    const report = await f.deploy()
    expect(report.outcome).toBe('rolled-back')
    expect(report.reason).toContain('no answer within 1000 ms')
    await expectPreviousServing(f, report, '1.0.0')
  })

  it('a build that fails changes nothing on the target', async () => {
    const f = await fleet()
    await f.deploy()
    const before = readdirSync(join(f.root, 'releases'))
    f.service.build = ['sh build.sh', 'echo compiler says no >&2; exit 3']
    f.write()
    const report = await f.deploy()
    expect(report.outcome).toBe('aborted')
    expect(report.reason).toBe('build-2: exit 3: compiler says no')
    expect(report.rollback).toEqual([])
    expect(readdirSync(join(f.root, 'releases'))).toEqual(before)
    await expectPreviousServing(f, report, '1.0.0')
  })

  it('an upload the target stops reading fails the step instead of hanging the deploy (tar is stopped)', async () => {
    const f = await fleet()
    await f.deploy()
    // 8 MB in the artifact (far more than a pipe holds), and a target whose receiving side fails at once.
    f.service.build = ['sh build.sh', 'head -c 8000000 /dev/zero > dist/blob']
    f.write()
    const releases = join(f.root, 'releases')
    execFileSync('mv', [releases, `${releases}.real`])
    writeFileSync(releases, 'not a directory\n')
    try {
      await f.repo.setVersion('2.0.0')
      const report = await f.deploy()
      expect(report.outcome).toBe('aborted')
      expect(report.failedStep).toBe('upload')
      expect(report.reason).toMatch(/upload: exit \d+: .*(Not a directory|File exists)/)
      expect(existsSync(join(f.root, '.dstack', 'lock'))).toBe(false)
    } finally {
      execFileSync('rm', [releases])
      execFileSync('mv', [`${releases}.real`, releases])
    }
    expect(await f.get()).toBe('200 ok 1.0.0')
  })

  it('the first release failing leaves nothing running and says there was nothing to go back to', async () => {
    const f = await fleet()
    await f.repo.setVersion('1.0.0', 'crash')
    const report = await f.deploy()
    expect(report.outcome).toBe('failed')
    expect(report.reason).toContain('no earlier release')
    expect(f.current()).toBeNull()
    expect(await f.get()).toBeNull()
    expect(existsSync(join(f.root, '.dstack', 'lock'))).toBe(false)
  })
})

describe('an interrupted deploy (Ctrl-C)', () => {
  it('stops the running step, still rolls back and unlocks, and says it was interrupted', async () => {
    const f = await fleet()
    await f.deploy()
    f.service.hooks = { before_restart: ['sleep', '30'] }
    f.write()
    await f.repo.setVersion('2.0.0')
    const abort = new AbortController()
    const prepared = await f.prepare()
    const started = Date.now()
    const running = runPrepared(prepared, {
      signal: abort.signal,
      onStart: (step) => {
        if (step.id === 'hook-before-restart') setTimeout(() => abort.abort(), 300)
      },
    })
    const [report] = await running
    expect(Date.now() - started).toBeLessThan(15_000)
    expect(report!.outcome).toBe('rolled-back')
    expect(report!.reason).toBe('hook-before-restart: interrupted')
    await expectPreviousServing(f, report!, '1.0.0')
  })
})

describe('the deploy lock', () => {
  it('a second deploy while one runs is refused with the holder named; the first finishes', async () => {
    const f = await fleet({ hooks: { before_restart: ['sleep', '1.5'] } })
    await f.deploy()
    await f.repo.setVersion('2.0.0')
    const first = f.deploy()
    // Wait until the first holds the lock, then try.
    const lock = join(f.root, '.dstack', 'lock')
    for (let i = 0; i < 200 && !existsSync(join(lock, 'owner')); i++)
      await new Promise((r) => setTimeout(r, 25))
    const second = await f.deploy()
    expect(second.outcome).toBe('refused')
    expect(second.reason).toMatch(/lock: exit 75: locked by .* pid \d+ .* until \d{4}-/)
    expect(second.steps.map((s) => s.id)).toEqual(['lock'])
    expect(second.finish).toEqual([])
    const done = await first
    expect(done.outcome).toBe('deployed')
    expect(await f.get()).toBe('200 ok 2.0.0')
    expect(existsSync(lock)).toBe(false)
  })

  it('a lock past its expiry is stale: the next deploy takes it over and says so', async () => {
    const f = await fleet()
    await f.deploy()
    const lock = join(f.root, '.dstack', 'lock')
    mkdirSync(lock, { recursive: true })
    writeFileSync(join(lock, 'token'), 'dead\n')
    writeFileSync(join(lock, 'expires'), `${Math.floor(Date.now() / 1000) - 5}\n`)
    writeFileSync(join(lock, 'owner'), 'ci@crashed-runner pid 1\n')
    await f.repo.setVersion('2.0.0')
    const report = await f.deploy()
    expect(report.outcome).toBe('deployed')
    expect(report.steps[0]!.output).toContain('took over a stale lock: ci@crashed-runner pid 1')
    expect(existsSync(lock)).toBe(false)
  })

  it('a plan made before another deploy moved current is refused, not run against the wrong release', async () => {
    const f = await fleet()
    await f.deploy()
    await f.repo.setVersion('2.0.0')
    const [stale] = await f.prepare()
    await f.repo.setVersion('3.0.0')
    expect((await f.deploy()).outcome).toBe('deployed')
    const [report] = await runPrepared([stale!])
    expect(report!.outcome).toBe('refused')
    expect(report!.reason).toContain('plan again')
    expect(await f.get()).toBe('200 ok 3.0.0')
    expect(existsSync(join(f.root, '.dstack', 'lock'))).toBe(false)
  })
})

describe('rollback on request', () => {
  it('goes back to the previous good release, or to the one named; a release that is not there is an error', async () => {
    const f = await fleet()
    const first = await f.deploy()
    await f.repo.setVersion('2.0.0')
    await f.deploy()
    await f.repo.setVersion('3.0.0')
    await f.deploy()
    const back = (await runPrepared(await f.prepare({ rollback: true })))[0]!
    expect(back.action).toBe('rollback')
    expect(back.outcome, formatReport(back)).toBe('deployed')
    expect(await f.get()).toBe('200 ok 2.0.0')
    const named = (await runPrepared(await f.prepare({ rollback: true, to: first.release })))[0]!
    expect(named.outcome).toBe('deployed')
    expect(await f.get()).toBe('200 ok 1.0.0')
    await expect(f.prepare({ rollback: true, to: '20990101T000000Z-nope' })).rejects.toThrow(
      /no release 20990101T000000Z-nope/,
    )
    await expect(f.prepare({ rollback: true })).rejects.toThrow(/no release to roll back to/)
  })

  it('skips releases a failed deploy marked bad', async () => {
    const f = await fleet()
    const good = await f.deploy()
    await f.repo.setVersion('2.0.0', 'unhealthy')
    const bad = await f.deploy()
    expect(bad.outcome).toBe('rolled-back')
    await f.repo.setVersion('3.0.0')
    await f.deploy()
    // 2.0.0's release was removed when its deploy failed after going live? No: it stays, marked bad.
    expect(readdirSync(join(f.root, 'releases'))).toContain(bad.release)
    const back = (await runPrepared(await f.prepare({ rollback: true })))[0]!
    expect(back.release).toBe(good.release)
    expect(await f.get()).toBe('200 ok 1.0.0')
  })
})

describe('Caddy', () => {
  let caddy: Caddy
  beforeAll(async () => {
    caddy = await startCaddy()
  })
  afterAll(() => caddy?.stop())

  async function caddyFleet(): Promise<Fleet> {
    const f = await fleet({
      build: ['sh build.sh', 'cp Caddyfile dist/Caddyfile'],
      caddy: { admin: caddy.adminUrl, config: 'Caddyfile' },
    })
    writeFileSync(join(f.repo.root, 'Caddyfile'), caddyfileFor(caddy.httpPort, f.port, caddy.adminPort))
    git(f.repo.root, 'add', 'Caddyfile')
    git(f.repo.root, 'commit', '-qm', 'caddy site')
    return f
  }

  const viaCaddy = async () => {
    const r = await fetch(`http://127.0.0.1:${caddy.httpPort}/health`, { signal: AbortSignal.timeout(5000) })
    return `${r.status} ${(await r.text()).trim()}`
  }

  it('loads the release site config through the admin API; the service answers through Caddy', async () => {
    const f = await caddyFleet()
    const report = await f.deploy()
    expect(report.outcome, formatReport(report)).toBe('deployed')
    expect(report.steps.map((s) => s.id)).toContain('caddy')
    expect(await viaCaddy()).toBe('200 ok 1.0.0')
  })

  it('a config Caddy rejects fails the deploy; Caddy keeps the old config and the previous release serves', async () => {
    const f = await caddyFleet()
    expect((await f.deploy()).outcome).toBe('deployed')
    const before = JSON.stringify(await caddy.config())
    writeFileSync(
      join(f.repo.root, 'Caddyfile'),
      'http://127.0.0.1:1 {\n\treverse_proxy {\n\t\tnot_a_directive\n\t}\n}\n',
    )
    await f.repo.setVersion('2.0.0')
    const report = await f.deploy()
    expect(report.outcome).toBe('rolled-back')
    expect(report.failedStep).toBe('caddy')
    expect(report.reason).toMatch(/caddy: exit 22: .*not_a_directive/)
    // Caddy never took the bad config, so the rollback does not reload it.
    expect(report.rollback.map((s) => s.id)).not.toContain('caddy-previous')
    expect(JSON.stringify(await caddy.config())).toBe(before)
    await expectPreviousServing(f, report, '1.0.0')
    expect(await viaCaddy()).toBe('200 ok 1.0.0')
  })
})

describe('migrations (Postgres)', () => {
  let database: string
  let url: string
  const psql = (sql: string) =>
    execFileSync('psql', ['-X', '-At', '-v', 'ON_ERROR_STOP=1', url, '-c', sql], { encoding: 'utf8' }).trim()

  beforeAll(() => {
    database = `dstack_deploy_${process.pid}_${Date.now()}`
    execFileSync('psql', ['-X', '-q', PG, '-c', `create database ${database}`])
    url = PG.replace(/\/[^/]*$/, `/${database}`)
  })
  afterAll(() => {
    execFileSync('psql', ['-X', '-q', PG, '-c', `drop database if exists ${database} with (force)`])
  })

  async function dbFleet(): Promise<Fleet> {
    const f = await fleet({
      migrations: { dir: 'migrations' },
      secrets: { DATABASE_URL: { env: 'DSTACK_TEST_DB' } },
    })
    process.env.DSTACK_TEST_DB = url
    psql('drop table if exists dstack_migrations, items, audit')
    return f
  }

  it('backs up, applies pending migrations in one transaction, and records them; the next deploy applies only new ones', async () => {
    const f = await dbFleet()
    await f.repo.addMigration('0001_items.sql', 'create table items (id int primary key, name text);\n')
    const first = await f.deploy()
    expect(first.outcome, formatReport(first)).toBe('deployed')
    expect(first.steps.map((s) => s.id)).toEqual(
      expect.arrayContaining(['upload-migrations', 'backup', 'migrate']),
    )
    expect(statSync(join(f.root, 'backups', `${first.release}.dump`)).size).toBeGreaterThan(0)
    expect(psql('select name from dstack_migrations')).toBe('0001_items.sql')
    await f.repo.addMigration(
      '0002_audit.sql',
      'create table audit (at timestamptz default now());\nalter table items add column price int default 0;\n',
    )
    const second = await f.deploy()
    expect(second.outcome).toBe('deployed')
    expect(second.migrations.pending).toEqual(['0002_audit.sql'])
    expect(psql('select name from dstack_migrations order by name')).toBe('0001_items.sql\n0002_audit.sql')
    // The database URL is a secret: not in argv (it went on stdin), not in the report.
    expect(JSON.stringify(second)).not.toContain(database)
  })

  it('a migration that fails half-way changes nothing in the database, and the previous release serves', async () => {
    const f = await dbFleet()
    const first = await f.deploy()
    expect(first.outcome).toBe('deployed')
    await f.repo.addMigration(
      '0001_ok_then_broken.sql',
      'create table items (id int);\ninsert into items values (1);\nselect * from no_such_table;\n',
    )
    const report = await f.deploy()
    expect(report.outcome).toBe('rolled-back')
    expect(report.failedStep).toBe('migrate')
    expect(report.reason).toContain('relation "no_such_table" does not exist')
    expect(psql("select to_regclass('items') is null")).toBe('t')
    expect(psql("select to_regclass('dstack_migrations') is null")).toBe('t')
    await expectPreviousServing(f, report, '1.0.0')
  })

  it('refuses a migration that would break the running release, unless forced', async () => {
    const f = await dbFleet()
    await f.repo.addMigration('0001_items.sql', 'create table items (id int, email text);\n')
    expect((await f.deploy()).outcome).toBe('deployed')
    await f.repo.addMigration(
      '0002_drop.sql',
      '-- drop table items; (a comment does not count)\nalter table items drop column email;\n',
    )
    const [plan] = await f.prepare()
    expect(formatPlan(plan!.plan, plan!.target)).toContain(
      'not backward-compatible: 0002_drop.sql:2 drops a column',
    )
    const refused = await f.deploy()
    expect(refused.outcome).toBe('refused')
    expect(refused.steps).toEqual([])
    expect(refused.reason).toContain('0002_drop.sql:2 drops a column')
    expect(
      psql(
        "select count(*) from information_schema.columns where table_name = 'items' and column_name = 'email'",
      ),
    ).toBe('1')
    const forced = await f.deploy({ force: true })
    expect(forced.outcome).toBe('deployed')
    expect(
      psql(
        "select count(*) from information_schema.columns where table_name = 'items' and column_name = 'email'",
      ),
    ).toBe('0')
  })
})

import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Result, runDstack, scratchDatabase } from './support/cli.ts'

const manifest = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'oclif.manifest.json'), 'utf8')) as {
  commands: Record<string, { flags: Record<string, unknown> }>
}

/** Runs `dstack` as a user would, in its own DSTACK_HOME, with no config unless the test writes one. */
function dstack(home: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  return runDstack(args, {
    env: { PATH: process.env.PATH, HOME: home, DSTACK_HOME: join(home, '.dstack'), ...env },
  })
}

const homes: string[] = []
function newHome(): string {
  const home = mkdtempSync(join(tmpdir(), 'dstack-cli-'))
  homes.push(home)
  return home
}

afterAll(async () => {
  for (const home of homes) {
    await dstack(home, ['brain', 'down'])
    rmSync(home, { recursive: true, force: true })
  }
})

describe('every command', () => {
  const ids = Object.keys(manifest.commands).sort()

  it('is in the manifest with its flags', () => {
    expect(ids).toEqual([
      'audit',
      'blame',
      'brain:down',
      'brain:migrate',
      'brain:reset',
      'brain:seed',
      'brain:status',
      'brain:up',
      'browse',
      'decide:search',
      'decide:show',
      'decide:supersede',
      'decide:update',
      'decide:write',
      'deploy',
      'deploy:history',
      'deploy:rollback',
      'deploy:status',
      'deploy:unlock',
      'doctor',
      'execute',
      'gate:answer',
      'gate:check',
      'gate:questions',
      'handoff:auto',
      'handoff:list',
      'handoff:pickup',
      'handoff:write',
      'heartbeat',
      'hook',
      'hooks:install',
      'hooks:status',
      'hooks:uninstall',
      'init',
      'intent:get',
      'intent:infer',
      'intent:ship',
      'intent:write',
      'log-edit',
      'memory:export',
      'memory:gc',
      'memory:get',
      'memory:import',
      'memory:load',
      'memory:merge',
      'memory:rm',
      'memory:search',
      'memory:set',
      'outbox:flush',
      'outbox:status',
      'precheck',
      'presence',
      'qa',
      'repos:affected',
      'repos:graph',
      'repos:list',
      'repos:order',
      'repos:plan',
      'repos:status',
      'repos:sync',
      'repos:why',
      'skills:build',
      'skills:doctor',
      'skills:install',
      'skills:list',
      'skills:uninstall',
      'standup',
      'sync',
      'watch',
      'waves',
      'why',
    ])
    // `hook` prints exactly what Claude Code reads, so it has no --json wrapper.
    for (const id of ids.filter((id) => id !== 'hook')) {
      expect(Object.keys(manifest.commands[id]!.flags)).toContain('json')
    }
  })

  it.each(ids)('%s has --help with a description, examples and exit codes', async (id) => {
    const result = await dstack(newHome(), [...id.split(':'), '--help'])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/USAGE/)
    if (id !== 'hook') expect(result.stdout).toMatch(/--json/)
    expect(result.stdout).toMatch(/EXAMPLES/)
    expect(result.stdout).toMatch(/Exit codes: 0/)
  })

  it('refuses an unknown flag with exit 2', async () => {
    const result = await dstack(newHome(), ['brain', 'status', '--no-such-flag'])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/Nonexistent flag: --no-such-flag/)
  })
})

describe('on the embedded brain', () => {
  let home: string
  beforeAll(() => {
    home = newHome()
  })

  it('status before anything runs says stopped, without starting it', async () => {
    const result = await dstack(home, ['brain', 'status', '--json'])
    expect(result.code).toBe(0)
    const status = JSON.parse(result.stdout)
    expect(status).toMatchObject({ driver: 'embedded', server: { running: false } })
    expect(status.schema).toBeUndefined()
  })

  it('up starts the server, migrates and registers the agent; seed and status show the sample', async () => {
    const up = await dstack(home, ['brain', 'up', '--json'], { DSTACK_AGENT: 'alice' })
    expect(up.code).toBe(0)
    expect(JSON.parse(up.stdout)).toMatchObject({ serverStarted: true, agent: 'alice', driver: 'embedded' })
    expect(JSON.parse(up.stdout).migrationsApplied.length).toBeGreaterThanOrEqual(5)

    const again = JSON.parse(
      (await dstack(home, ['brain', 'up', '--json'], { DSTACK_AGENT: 'alice' })).stdout,
    )
    expect(again).toMatchObject({ serverStarted: false, migrationsApplied: [] })

    expect((await dstack(home, ['brain', 'seed'], { DSTACK_AGENT: 'alice' })).code).toBe(0)
    expect((await dstack(home, ['brain', 'seed'], { DSTACK_AGENT: 'alice' })).code).toBe(0)
    const status = await dstack(home, ['brain', 'status'], { DSTACK_AGENT: 'alice' })
    expect(status.code).toBe(0)
    expect(status.stdout).toMatch(/server\s+running, pid \d+/)
    expect(status.stdout).toMatch(/active intents\s+1\n/)
    expect(status.stdout).toMatch(/edits\s+2\n/)
    expect(status.stdout).toMatch(
      /latest intent\s+"Try the dstack brain" by alice in local:dstack-quickstart/,
    )
  })

  it('doctor passes (exit 0), warning only that there is no config file', async () => {
    const result = await dstack(home, ['doctor', '--json'], { DSTACK_AGENT: 'alice' })
    expect(result.code).toBe(0)
    const report = JSON.parse(result.stdout)
    expect(report.healthy).toBe(true)
    expect(report.checks.map((c: { name: string; status: string }) => `${c.name}:${c.status}`)).toEqual([
      'node:ok',
      'config:warn',
      'brain reachable:ok',
      'schema version:ok',
      'schema shape:ok',
      'agent:ok',
    ])
  })

  it('doctor fails (exit 6) for an unregistered agent and says how to fix it', async () => {
    const result = await dstack(home, ['doctor'], { DSTACK_AGENT: 'nobody' })
    expect(result.code).toBe(6)
    expect(result.stdout).toMatch(/✗ agent\s+nobody is not registered in this brain\n\s+fix: dstack brain up/)
  })

  it('down stops the server; status says stopped', async () => {
    const down = await dstack(home, ['brain', 'down', '--json'])
    expect(JSON.parse(down.stdout)).toEqual({ driver: 'embedded', stopped: true })
    const status = JSON.parse((await dstack(home, ['brain', 'status', '--json'])).stdout)
    expect(status.server.running).toBe(false)
    expect(JSON.parse((await dstack(home, ['brain', 'down', '--json'])).stdout).stopped).toBe(false)
  })
})

describe('on a Postgres brain', () => {
  let url: string
  let drop: () => Promise<void>
  beforeAll(async () => {
    ;({ url, drop } = await scratchDatabase('dstack_cli'))
  })
  afterAll(() => drop())

  it('refuses to write before the schema is there (exit 5), then works after up', async () => {
    const home = newHome()
    const env = { DSTACK_BRAIN_URL: url, DSTACK_AGENT: 'bob' }
    const early = await dstack(home, ['brain', 'seed'], env)
    expect(early.code).toBe(5)
    expect(early.stderr).toMatch(/migration\(s\) pending\. Run `dstack brain up`/)
    const dry = JSON.parse((await dstack(home, ['brain', 'migrate', '--dry-run', '--json'], env)).stdout)
    expect(dry.pending.length).toBeGreaterThanOrEqual(5)
    expect(dry.applied).toEqual([])
    expect((await dstack(home, ['brain', 'up'], env)).code).toBe(0)
    expect((await dstack(home, ['brain', 'seed'], env)).code).toBe(0)
    const status = JSON.parse((await dstack(home, ['brain', 'status', '--json'], env)).stdout)
    expect(status).toMatchObject({ driver: 'postgres', summary: { counts: { edits: 1, agents: 1 } } })
    expect(status.server).toBeUndefined()
  })

  it('reset needs --yes (exit 2), then empties the brain and recreates the schema', async () => {
    const home = newHome()
    const env = { DSTACK_BRAIN_URL: url, DSTACK_AGENT: 'bob' }
    const refused = await dstack(home, ['brain', 'reset'], env)
    expect(refused.code).toBe(2)
    expect(refused.stderr).toMatch(/re-run with --yes/)
    expect((await dstack(home, ['brain', 'reset', '--yes'], env)).code).toBe(0)
    const status = JSON.parse((await dstack(home, ['brain', 'status', '--json'], env)).stdout)
    expect(status.summary.counts).toMatchObject({ edits: 0, agents: 1 })
    expect(status.schema.pending).toEqual([])
  })

  it('down has nothing to stop', async () => {
    const result = await dstack(newHome(), ['brain', 'down'], { DSTACK_BRAIN_URL: url })
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/nothing to stop/)
  })
})

describe('failures a user will meet', () => {
  async function deadPort(): Promise<number> {
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as { port: number }
    await new Promise((resolve) => server.close(resolve))
    return port
  }

  it('a brain that is down: exit 4 with the reason; doctor exit 6 with the fix', async () => {
    const home = newHome()
    const env = { DSTACK_BRAIN_URL: `postgres://u:secret@127.0.0.1:${await deadPort()}/x` }
    const up = await dstack(home, ['brain', 'up'], env)
    expect(up.code).toBe(4)
    expect(up.stderr).toMatch(
      /cannot reach the postgres brain at postgres:\/\/u:\*\*\*@127\.0\.0\.1:\d+\/x: .*ECONNREFUSED/,
    )
    expect(up.stderr).not.toContain('secret')
    const doctor = await dstack(home, ['doctor'], env)
    expect(doctor.code).toBe(6)
    expect(doctor.stdout).toMatch(/✗ brain reachable .*\n\s+fix: check brain.url/)
  })

  it('a broken config file: exit 3 naming the line, in text and in --json', async () => {
    const home = newHome()
    mkdirSync(join(home, '.dstack'))
    writeFileSync(
      join(home, '.dstack', 'config.yaml'),
      'agent: alice\nbrain:\n  driver: postgres\n  url: http://nope\n',
      {
        mode: 0o600,
      },
    )
    const text = await dstack(home, ['brain', 'status'])
    expect(text.code).toBe(3)
    expect(text.stderr).toMatch(
      /config\.yaml: line 4, column 8: brain\.url: must be a postgres:\/\/ or postgresql:\/\/ URL/,
    )
    const json = await dstack(home, ['brain', 'status', '--json'])
    expect(json.code).toBe(3)
    expect(JSON.parse(json.stdout).error.message).toMatch(/line 4, column 8: brain\.url/)
    const doctor = await dstack(home, ['doctor', '--json'])
    expect(doctor.code).toBe(6)
    expect(JSON.parse(doctor.stdout).checks[1]).toMatchObject({ name: 'config', status: 'fail' })
  })

  it('a config file others can read: a warning on every command, a failing doctor check', async () => {
    const home = newHome()
    mkdirSync(join(home, '.dstack'))
    const path = join(home, '.dstack', 'config.yaml')
    writeFileSync(path, 'agent: alice\n')
    chmodSync(path, 0o644)
    const status = await dstack(home, ['brain', 'status'])
    expect(status.code).toBe(0)
    expect(status.stderr).toMatch(/can be read by other users \(mode 644\): run chmod 600/)
    const doctor = await dstack(home, ['doctor', '--json'])
    expect(JSON.parse(doctor.stdout).checks).toContainEqual(
      expect.objectContaining({ name: 'config mode', status: 'fail' }),
    )
  })
})

describe('init', () => {
  it('writes the config 0600, brings the brain up, and keeps the file unchanged on a bad value', async () => {
    const home = newHome()
    const result = await dstack(home, ['init', '--agent', 'carol', '--name', 'Carol C', '--json'])
    expect(result.code).toBe(0)
    const path = join(home, '.dstack', 'config.yaml')
    expect(statSync(path).mode & 0o777).toBe(0o600)
    expect(JSON.parse(result.stdout)).toMatchObject({
      agent: 'carol',
      brain: { driver: 'embedded', agent: 'carol' },
    })
    const before = readFileSync(path, 'utf8')
    expect(before).toMatch(/agent: carol\ndisplay_name: Carol C\n/)

    const bad = await dstack(home, ['init', '--agent', 'Carol!'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/agent: an agent handle is/)
    expect(readFileSync(path, 'utf8')).toBe(before)
    const both = await dstack(home, ['init', '--brain-url', 'postgres://h/db', '--brain-dir', '/x'])
    expect(both.code).toBe(2)
  })
})

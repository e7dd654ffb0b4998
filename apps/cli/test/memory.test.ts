// `dstack memory …` as a user runs it: the file provider by default (under DSTACK_HOME), the brain provider on a
// fresh Postgres database, JSONL export/import/merge between them, gc, and the exit codes.
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bin, scratchDatabase } from './support/cli.ts'

const root = mkdtempSync(join(tmpdir(), 'dstack-memory-cli-'))
const repo = join(root, 'repo')
let brainUrl = ''
let dropDatabase: () => Promise<void>

function dstack(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawnSync(process.execPath, [bin, 'memory', ...args], {
    cwd: repo,
    env: {
      PATH: process.env.PATH,
      HOME: root,
      DSTACK_HOME: join(root, '.dstack'),
      DSTACK_AGENT: 'alice',
      DSTACK_BRAIN_URL: brainUrl,
      ...env,
    },
    encoding: 'utf8',
    timeout: 60_000,
  })
  return { code: child.status, stdout: child.stdout, stderr: child.stderr }
}
const json = <T>(args: string[], env?: NodeJS.ProcessEnv): T => {
  const result = dstack([...args, '--json'], env)
  expect(result.code, result.stderr).toBe(0)
  return JSON.parse(result.stdout) as T
}

beforeAll(async () => {
  mkdirSync(repo)
  execFileSync('git', ['init', '-q', '-b', 'main', repo])
  execFileSync('git', ['-C', repo, 'remote', 'add', 'origin', 'git@github.com:acme/api.git'])
  ;({ url: brainUrl, drop: dropDatabase } = await scratchDatabase('dstack_memory'))
  const migrate = spawnSync(process.execPath, [bin, 'brain', 'migrate'], {
    env: {
      PATH: process.env.PATH,
      HOME: root,
      DSTACK_HOME: join(root, '.dstack'),
      DSTACK_BRAIN_URL: brainUrl,
    },
    encoding: 'utf8',
  })
  expect(migrate.status, migrate.stderr).toBe(0)
})

afterAll(async () => {
  rmSync(root, { recursive: true, force: true })
  await dropDatabase()
})

describe('dstack memory', () => {
  it('sets, gets, loads, searches and removes in the repository workspace, as readable files', () => {
    const set = json<{ workspace: string; key: string; value: unknown; provenance: { agent: string } }>([
      'set',
      'auth/password-hashing',
      'Use argon2id for password hashing',
    ])
    expect(set).toMatchObject({
      workspace: expect.stringMatching(/^github\.com-acme-api-[0-9a-f]{8}$/),
      value: 'Use argon2id for password hashing',
      provenance: { agent: 'alice' },
    })
    json(['set', 'auth/token-ttl', '{"seconds":3600}', '--state', 'INFERRED', '--confidence', '0.7'])
    expect(json<{ value: unknown }>(['get', 'auth/token-ttl']).value).toEqual({ seconds: 3600 })
    expect(json<Array<{ key: string }>>(['load', 'auth']).map((m) => m.key)).toEqual([
      'auth/password-hashing',
      'auth/token-ttl',
    ])
    const hits = json<Array<{ memory: { key: string } }>>(['search', 'hashing passwords'])
    expect(hits[0]?.memory.key).toBe('auth/password-hashing')
    // Files a person can read and review in git.
    const file = join(root, '.dstack', 'memory', set.workspace, 'auth', 'password-hashing.md')
    expect(readFileSync(file, 'utf8')).toContain('Use argon2id for password hashing')
    expect(json<{ deleted: boolean }>(['rm', 'auth/token-ttl']).deleted).toBe(true)
    expect(dstack(['get', 'auth/token-ttl']).code).toBe(7)
    expect(dstack(['rm', 'auth/token-ttl']).code).toBe(7)
  })

  it('exits 8 when a lower state would overwrite, 2 for a secret or a bad key, keeping what is stored', () => {
    json(['set', 'db/engine', 'postgres', '--state', 'CONFIRMED'])
    const lower = dstack(['set', 'db/engine', 'mysql', '--state', 'INFERRED'])
    expect(lower.code).toBe(8)
    expect(lower.stderr).toMatch(/CONFIRMED: an INFERRED write may not overwrite it/)
    const secret = dstack(['set', 'ci/token', `ghp_${'Ab1'.repeat(12)}`])
    expect(secret.code).toBe(2)
    expect(secret.stderr).toMatch(/looks like it holds a secret \(GitHub token at \$\)/)
    expect(
      json<{ value: string }>(['set', 'ci/token', `use ghp_${'Ab1'.repeat(12)}`, '--redact']).value,
    ).toBe('use [REDACTED GitHub token]')
    expect(dstack(['set', 'a//b', 'x']).code).toBe(2)
    expect(json<{ value: string }>(['get', 'db/engine']).value).toBe('postgres')
  })

  it('exports from files, imports into the brain under the state rule, and merges two exports', () => {
    const exported = join(root, 'files.jsonl')
    expect(json<{ count: number }>(['export', '--out', exported]).count).toBeGreaterThanOrEqual(3)
    json(['set', 'db/engine', 'mysql', '--state', 'CONFIRMED', '--provider', 'brain', '-w', 'team'])
    const report = json<{ written: number; conflicts: Array<{ key: string }> }>([
      'import',
      exported,
      '--provider',
      'brain',
      '-w',
      'team',
    ])
    expect(report.conflicts).toEqual([])
    expect(json<{ value: string }>(['get', 'db/engine', '--provider', 'brain', '-w', 'team']).value).toBe(
      'postgres',
    )
    const again = json<{ written: number; unchanged: number }>([
      'import',
      exported,
      '--provider',
      'brain',
      '-w',
      'team',
    ])
    expect(again).toMatchObject({ written: 0 })

    const brainExport = join(root, 'brain.jsonl')
    json(['set', 'db/engine', 'cockroach', '--state', 'INFERRED', '-w', 'laptop'])
    json(['export', '--out', brainExport, '-w', 'laptop'])
    const merged = join(root, 'merged.jsonl')
    const result = json<{
      count: number
      conflicts: Array<{ key: string; reason: string; keptState: string }>
    }>(['merge', exported, brainExport, '--out', merged])
    expect(result.conflicts).toEqual([
      { key: 'db/engine', reason: 'higher-state', keptState: 'CONFIRMED', droppedState: 'INFERRED' },
    ])
    expect(readFileSync(merged, 'utf8')).toContain('"value":"postgres"')

    writeFileSync(join(root, 'bad.jsonl'), '{"not":"a memory"}\nnot json\n')
    const bad = dstack(['import', join(root, 'bad.jsonl'), '--json'])
    expect(bad.code).toBe(0)
    expect(JSON.parse(bad.stdout).invalidLines.map((l: { line: number }) => l.line)).toEqual([1, 2])
  })

  it("keeps a repository's memories in the repository with --dir, as files git can review", () => {
    json(['set', 'runbooks/deploy', 'kamal deploy from main only', '--dir', '.dstack/memory'])
    const status = execFileSync('git', ['-C', repo, 'status', '--porcelain', '--untracked-files=all'], {
      encoding: 'utf8',
    })
    expect(status).toMatch(/\?\? \.dstack\/memory\/github\.com-acme-api-[0-9a-f]{8}\/runbooks\/deploy\.md/)
    expect(status).not.toMatch(/index\.json|\.lock/)
    expect(json<{ value: string }>(['get', 'runbooks/deploy', '--dir', '.dstack/memory']).value).toBe(
      'kamal deploy from main only',
    )
  })

  it('shows what gc would drop, and drops it with --apply', () => {
    const w = ['-w', 'gc-test']
    json([
      'set',
      'notes/a',
      'We deploy the API with Kamal to the Hetzner box every Friday',
      '--state',
      'INFERRED',
      ...w,
    ])
    json(['set', 'notes/b', 'we deploy the API with kamal to the hetzner box every friday.', ...w])
    json(['set', 'notes/old', 'stale', '--ttl', '1', ...w])
    spawnSync('sleep', ['1.2'])
    const plan = json<{
      expired: string[]
      duplicates: Array<{ keep: string; drop: string[] }>
      removed: number
    }>(['gc', ...w])
    expect(plan).toEqual({
      expired: ['notes/old'],
      duplicates: [{ keep: 'notes/b', drop: ['notes/a'] }],
      removed: 0,
    })
    expect(json<Array<{ key: string }>>(['load', '', ...w])).toHaveLength(2)
    expect(json<{ removed: number }>(['gc', '--apply', ...w]).removed).toBe(2)
    expect(json<Array<{ key: string }>>(['load', '', ...w]).map((m) => m.key)).toEqual(['notes/b'])
  })
})

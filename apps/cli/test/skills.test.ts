// `dstack skills` and `dstack gate` through the built CLI. The doctor run is the check that every `dstack …` line in
// a skill, command or hook exists in this CLI with its flags.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { git, tempDir } from '@dstack/git/testing'
import { describe, expect, it } from 'vitest'
import { runDstack } from './support/cli.ts'

function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const home = tempDir('dstack-skills-home-')
  return { PATH: process.env.PATH, HOME: home, DSTACK_HOME: join(home, '.dstack'), ...extra }
}

describe('dstack skills', () => {
  it('doctor: every skill, command and hook checks out against this CLI, within the listing budget', async () => {
    const r = await runDstack(['skills', 'doctor', '--json'], { env: env() })
    const result = JSON.parse(r.stdout)
    expect(result.problems).toEqual([])
    expect(r.code).toBe(0)
    expect(result.listing.total).toBeLessThanOrEqual(result.listing.budget)
    expect(result.installed).toBe('not installed')
  })

  it('install → list → doctor → uninstall, and a second install changes nothing', async () => {
    const claudeDir = join(tempDir('dstack-skills-claude-'), '.claude')
    const e = env({ CLAUDE_CONFIG_DIR: claudeDir })
    const first = await runDstack(['skills', 'install', '--json'], { env: e })
    expect(first.code).toBe(0)
    expect(JSON.parse(first.stdout).written.length).toBeGreaterThan(30)
    const second = await runDstack(['skills', 'install'], { env: e })
    expect(second.stdout).toMatch(/: 0 file\(s\) written, \d+ already current, hooks current/)
    const list = await runDstack(['skills', 'list', '--json'], { env: e })
    expect(JSON.parse(list.stdout).every((f: { state: string }) => f.state === 'ok')).toBe(true)
    expect((await runDstack(['skills', 'doctor'], { env: e })).code).toBe(0)
    writeFileSync(join(claudeDir, 'skills', 'why', 'SKILL.md'), 'edited\n')
    const sick = await runDstack(['skills', 'doctor'], { env: e })
    expect(sick.code).toBe(6)
    expect(sick.stdout).toContain('skills/why/SKILL.md: modified')
    const gone = await runDstack(['skills', 'uninstall', '--json'], { env: e })
    expect(JSON.parse(gone.stdout).keptModified).toEqual(['skills/why/SKILL.md'])
    expect((await runDstack(['skills', 'list'], { env: e })).code).toBe(7)
  })

  it('build writes the plugin, its marketplace and the adapters', async () => {
    const out = join(tempDir('dstack-skills-build-'), 'out')
    const r = await runDstack(['skills', 'build', '--out', out, '--adapters', '--json'], { env: env() })
    expect(r.code).toBe(0)
    const built = JSON.parse(r.stdout)
    expect(built.files).toEqual(
      expect.arrayContaining(['.claude-plugin/marketplace.json', 'plugin/hooks/hooks.json']),
    )
    expect(built.adapters).toEqual(
      expect.arrayContaining(['agents/AGENTS.md', 'gemini/gemini-extension.json']),
    )
  })
})

describe('dstack gate', () => {
  it('shut until all five are answered yes for what is staged; strict exits 2; a "no" exits 6', async () => {
    const repo = tempDir('dstack-gate-cli-')
    git(repo, 'init', '-q')
    writeFileSync(join(repo, 'a.ts'), 'export const a = 1\n')
    git(repo, 'add', 'a.ts')
    const e = env()
    const questions = JSON.parse(
      (await runDstack(['gate', 'questions', '--json'], { env: e, cwd: repo })).stdout,
    )
    expect(questions.map((q: { key: string }) => q.key)).toEqual([
      'tests',
      'verified',
      'scope',
      'docs',
      'reversible',
    ])
    expect((await runDstack(['gate', 'check'], { env: e, cwd: repo })).code).toBe(0)
    const strict = await runDstack(['gate', 'check', '--strict'], { env: e, cwd: repo })
    expect(strict.code).toBe(2)
    expect(strict.stdout).toContain('reversible: Can it be deployed and rolled back safely')
    const yes = ['--tests', 'yes', '--verified', 'yes', '--scope', 'yes', '--docs', 'yes', '--reversible']
    expect((await runDstack(['gate', 'answer', ...yes, 'no'], { env: e, cwd: repo })).code).toBe(6)
    expect((await runDstack(['gate', 'check', '--strict'], { env: e, cwd: repo })).code).toBe(2)
    expect((await runDstack(['gate', 'answer', ...yes, 'yes'], { env: e, cwd: repo })).code).toBe(0)
    expect((await runDstack(['gate', 'check', '--strict'], { env: e, cwd: repo })).code).toBe(0)
    const bad = await runDstack(['gate', 'answer', ...yes, 'maybe'], { env: e, cwd: repo })
    expect(bad.code).toBe(2)
    const outside = await runDstack(['gate', 'check'], { env: e, cwd: tempDir('dstack-gate-outside-') })
    expect(outside.code).toBe(2)
    expect(outside.stderr).toContain('not inside a git repository')
  })
})

import { rmSync, utimesSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { type AuditFinding, auditRepos, testCandidates } from '../src/audit.ts'
import { repoStates } from '../src/git-state.ts'
import { cleanup, commit, Fleet, git, write } from './support/fleet.ts'

afterEach(cleanup)

const DAY = 86_400_000
const daysAgo = (n: number) => new Date(Date.now() - n * DAY)
const kinds = (findings: AuditFinding[]) => findings.map((f) => f.kind)

describe('auditRepos', () => {
  it('finds nothing in a clean, pushed repository', async () => {
    const fleet = new Fleet()
    const app = fleet.cloned('app', { 'src/app.ts': 'export {}\n', 'README.md': '# app\n' })
    expect(await auditRepos([app.repo])).toEqual({
      findings: [],
      summary: { uncommitted: 0, 'stale-work': 0, unpushed: 0, 'missing-tests': 0, 'stale-branch': 0 },
      errors: [],
    })
  })

  it('lists uncommitted files, and calls them stale work only once untouched for staleDays', async () => {
    const fleet = new Fleet()
    const fresh = fleet.cloned('fresh', { 'notes.md': 'a\n' })
    write(fresh.root, { 'notes.md': 'b\n', 'todo.md': 'x\n' })
    const stale = fleet.cloned('stale', { 'notes.md': 'a\n' })
    write(stale.root, { 'notes.md': 'old edit\n' })
    const old = daysAgo(60)
    utimesSync(join(stale.root, 'notes.md'), old, old)

    const report = await auditRepos([fresh.repo, stale.repo])
    expect(report.findings).toEqual([
      {
        repo: 'fresh',
        kind: 'uncommitted',
        severity: 'warn',
        message: '2 uncommitted files on main',
        files: ['notes.md', 'todo.md'],
      },
      {
        repo: 'stale',
        kind: 'uncommitted',
        severity: 'warn',
        message: '1 uncommitted file on main',
        files: ['notes.md'],
      },
      {
        repo: 'stale',
        kind: 'stale-work',
        severity: 'warn',
        message: 'uncommitted changes untouched for 60 days',
        files: ['notes.md'],
      },
    ])
    expect(report.summary).toMatchObject({ uncommitted: 2, 'stale-work': 1 })
  })

  it('reports unpushed commits per branch, stale when the last one is old', async () => {
    const fleet = new Fleet()
    const app = fleet.cloned('app')
    commit(app.root, 'fresh work', { 'fresh.md': 'f\n' })
    git(app.root, ['checkout', '-q', '-b', 'forgotten', 'origin/main'])
    commit(app.root, 'old work 1', { 'old.md': '1\n' }, daysAgo(50))
    commit(app.root, 'old work 2', { 'old.md': '2\n' }, daysAgo(45))
    git(app.root, ['checkout', '-q', 'main'])

    const report = await auditRepos([app.repo])
    expect(report.findings).toEqual([
      {
        repo: 'app',
        kind: 'unpushed',
        severity: 'warn',
        message: '2 unpushed commits on forgotten',
        branch: 'forgotten',
      },
      {
        repo: 'app',
        kind: 'stale-work',
        severity: 'warn',
        message: 'forgotten has 2 unpushed commits, the last one 45 days old',
        branch: 'forgotten',
      },
      {
        repo: 'app',
        kind: 'stale-branch',
        severity: 'info',
        message: 'forgotten: last commit 45 days ago',
        branch: 'forgotten',
      },
      {
        repo: 'app',
        kind: 'unpushed',
        severity: 'warn',
        message: '1 unpushed commit on main',
        branch: 'main',
      },
    ])
    expect(report.summary).toEqual({
      uncommitted: 0,
      'stale-work': 1,
      unpushed: 2,
      'missing-tests': 0,
      'stale-branch': 1,
    })
  })

  it('reports stale branches: old ones and those whose upstream is gone, never the current one', async () => {
    const fleet = new Fleet()
    const app = fleet.cloned('app')
    git(app.root, ['checkout', '-q', '-b', 'ancient'])
    commit(app.root, 'ancient', { 'a.md': 'a\n' }, daysAgo(200))
    git(app.root, ['push', '-q', '-u', 'origin', 'ancient'])
    git(app.root, ['checkout', '-q', '-b', 'merged', 'main'])
    git(app.root, ['push', '-q', '-u', 'origin', 'merged'])
    git(app.root, ['push', '-q', 'origin', '--delete', 'merged'])
    git(app.root, ['checkout', '-q', 'main'])

    const report = await auditRepos([app.repo])
    expect(report.findings.map((f) => [f.kind, f.branch, f.message])).toEqual([
      ['stale-branch', 'ancient', 'ancient: last commit 200 days ago'],
      ['stale-branch', 'merged', 'merged: its upstream origin/merged is gone'],
    ])
    expect(report.findings.every((f) => f.severity === 'info')).toBe(true)

    git(app.root, ['checkout', '-q', 'ancient'])
    expect(kinds((await auditRepos([app.repo])).findings)).toEqual(['stale-branch'])
    // A longer staleDays makes the old branch current enough.
    expect((await auditRepos([app.repo], { staleDays: 365 })).findings.map((f) => f.branch)).toEqual([
      'merged',
    ])
  })

  it('flags changed source files without a test, per language, and nothing else', async () => {
    const fleet = new Fleet()
    const app = fleet.cloned('app', { 'src/old.ts': 'export const old = 1\n', 'README.md': '# app\n' })
    commit(app.root, 'work', {
      'src/parse.ts': 'export const parse = 1\n',
      'src/ok.ts': 'export const ok = 1\n',
      'src/ok.test.ts': 'test\n',
      'src/lib.ts': 'export const lib = 1\n',
      'test/nested/lib.test.ts': 'test\n',
      'src/index.ts': "export * from './parse.ts'\n",
      'src/types.d.ts': 'export {}\n',
      'vite.config.ts': 'export default {}\n',
      'docs/guide.md': '# guide\n',
      'pkg/x.go': 'package pkg\n',
      'pkg/y.go': 'package pkg\n',
      'pkg/y_test.go': 'package pkg\n',
      'crate/src/a.rs': 'fn a() {}\n#[cfg(test)]\nmod tests {}\n',
      'crate/src/b.rs': 'fn b() {}\n',
      'crate/tests/b.rs': '#[test]\nfn b() {}\n',
      'crate/src/c.rs': 'fn c() {}\n',
      'crate/src/mod.rs': 'mod a;\n',
      'py/m.py': 'x = 1\n',
      'py/tests/test_m.py': 'def test(): pass\n',
      'py/n.py': 'y = 1\n',
      'py/__init__.py': '',
    })
    git(app.root, ['rm', '-q', 'src/old.ts'])
    git(app.root, ['commit', '-q', '-m', 'drop old'])
    write(app.root, { 'src/draft.ts': 'export const draft = 1\n' })

    const report = await auditRepos([app.repo])
    const missing = report.findings.find((f) => f.kind === 'missing-tests')
    expect(missing).toEqual({
      repo: 'app',
      kind: 'missing-tests',
      severity: 'info',
      message: '5 changed source files without a test beside them',
      files: ['crate/src/c.rs', 'pkg/x.go', 'py/n.py', 'src/draft.ts', 'src/parse.ts'],
    })
    expect(kinds(report.findings)).toEqual(['uncommitted', 'unpushed', 'missing-tests'])
  })

  it('does not flag code whose changes are already pushed', async () => {
    const fleet = new Fleet()
    const app = fleet.cloned('app', { 'src/untested.ts': 'export const u = 1\n' })
    commit(app.root, 'more', { 'src/untested.ts': 'export const u = 2\n' })
    git(app.root, ['push', '-q'])
    expect((await auditRepos([app.repo])).findings).toEqual([])
  })

  it('reuses given states, reads the rest, and reports unreadable repositories apart', async () => {
    const fleet = new Fleet()
    const a = fleet.cloned('a')
    const b = fleet.cloned('b')
    const gone = fleet.cloned('gone')
    write(b.root, { 'b.md': 'b\n' })
    rmSync(gone.root, { recursive: true, force: true })
    const [stateA] = await repoStates([a.repo])
    // A state says what the audit works from: this one claims an error the repository does not have.
    const report = await auditRepos([a.repo, b.repo, gone.repo], {
      states: [{ ...stateA!, error: 'from the given state' }],
    })
    expect(report.errors).toEqual([
      { repo: 'a', message: 'from the given state' },
      { repo: 'gone', message: `${gone.root} no longer exists` },
    ])
    expect(report.findings.map((f) => [f.repo, f.kind])).toEqual([['b', 'uncommitted']])
  })

  it('rejects invalid options', async () => {
    await expect(auditRepos([], { staleDays: Number.NaN })).rejects.toThrow(
      /invalid auditRepos options: staleDays/,
    )
  })
})

describe('testCandidates', () => {
  it('knows where each language keeps its tests', () => {
    expect(testCandidates('pkg/x.go')).toEqual({
      language: 'go',
      beside: ['pkg/x_test.go'],
      testDirs: [],
      names: [],
      inline: null,
    })
    expect(testCandidates('crate/src/lexer.rs')).toMatchObject({
      language: 'rust',
      beside: [],
      testDirs: ['crate/src/tests', 'crate/tests', 'tests'],
      names: ['lexer.rs'],
    })
    expect(testCandidates('crate/src/lexer.rs')!.inline!.test('#[cfg(test)]\nmod tests {}')).toBe(true)
    const py = testCandidates('app/models.py')!
    expect(py).toMatchObject({ language: 'python', beside: ['app/test_models.py', 'app/models_test.py'] })
    expect(py.testDirs).toEqual(['app/tests', 'app/test', 'tests', 'test'])
    expect(py.names).toEqual(['test_models.py', 'models_test.py'])
    const ts = testCandidates('packages/x/src/parse.ts')!
    expect(ts.language).toBe('typescript')
    expect(ts.beside).toContain('packages/x/src/parse.test.ts')
    expect(ts.beside).toContain('packages/x/src/parse.spec.tsx')
    expect(ts.testDirs).toContain('packages/x/test')
    expect(ts.testDirs).toContain('packages/x/src/__tests__')
    expect(ts.names).toContain('parse.test.ts')
  })

  it('exempts tests, entry points, declarations, configs, non-code and vendored files', () => {
    for (const path of [
      'src/parse.test.ts',
      'src/parse.spec.js',
      'test/helpers.ts',
      'src/__tests__/x.ts',
      'src/index.ts',
      'lib/index.mjs',
      'src/types.d.ts',
      'vitest.config.ts',
      '.eslintrc.js',
      'crate/src/mod.rs',
      'crate/build.rs',
      'crate/tests/it.rs',
      'pkg/x_test.go',
      'pkg/doc.go',
      'app/__init__.py',
      'app/test_models.py',
      'tests/helpers.py',
      'conftest.py',
      'vendor/github.com/x/y.go',
      'node_modules/x/index2.js',
      'README.md',
      'Cargo.toml',
    ]) {
      expect([path, testCandidates(path)]).toEqual([path, null])
    }
  })
})

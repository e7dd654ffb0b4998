// Loose ends across the fleet: uncommitted files, commits never pushed, work left lying for weeks, branches nobody
// touches, and changed code with no test beside it.

import { type Dirent, existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { basename, extname, join, posix } from 'node:path'
import { uncommittedFiles, unpushedFiles } from '@dstack/git'
import { z } from 'zod'
import { GENERATED_DIRS } from './fs.ts'
import { failureMessage, type RepoState, repoStates } from './git-state.ts'
import { DAY_MS, parseOptions, plural } from './options.ts'
import { mapPool } from './pool.ts'
import type { Repo } from './types.ts'

export type FindingKind = 'uncommitted' | 'stale-work' | 'unpushed' | 'missing-tests' | 'stale-branch'

export const FINDING_KINDS: readonly FindingKind[] = [
  'uncommitted',
  'stale-work',
  'unpushed',
  'missing-tests',
  'stale-branch',
]

/** One loose end in one repository. */
export interface AuditFinding {
  /** Repo.id. */
  repo: string
  kind: FindingKind
  /** `warn`: work that could be lost or forgotten; `info`: housekeeping. */
  severity: 'warn' | 'info'
  message: string
  /** Repo-relative files concerned (uncommitted, stale or untested ones). */
  files?: string[]
  /** The branch concerned. */
  branch?: string
}

export interface AuditReport {
  /** In input repository order. */
  findings: AuditFinding[]
  /** Findings per kind, every kind present. */
  summary: Record<FindingKind, number>
  /** Repositories that could not be audited, and why; they have no findings. */
  errors: { repo: string; message: string }[]
}

export interface AuditOptions {
  /** Work or branches untouched for longer than this are stale; default 30. */
  staleDays?: number
  /** The present, for staleness; default the current time. */
  now?: Date
  /** Repositories audited at once; default 8. */
  concurrency?: number
  /** States already read by `repoStates` (matched by Repo.id); repositories without one are read here. */
  states?: RepoState[]
  /** Per git command; default 30 s. */
  timeoutMs?: number
}

const auditOptionsSchema = z.object({
  staleDays: z.number().min(0).default(30),
  now: z.date().optional(),
  concurrency: z.int().min(1).max(256).default(8),
  states: z
    .array(
      z.custom<RepoState>(
        (value) =>
          typeof value === 'object' && value !== null && typeof Reflect.get(value, 'repo') === 'string',
        'expected a RepoState from repoStates',
      ),
    )
    .optional(),
  timeoutMs: z.int().positive().optional(),
})

/** Where a source file's tests may be; all paths repo-relative with `/`. */
export interface TestCandidates {
  language: 'rust' | 'typescript' | 'go' | 'python'
  /** Files any one of which, existing, counts as the test. */
  beside: string[]
  /** Directories searched (recursively) for a file named one of `names`. */
  testDirs: string[]
  names: string[]
  /** Content of the source file itself that counts as a test (Rust's inline test module). */
  inline: RegExp | null
}

interface TestRule {
  language: TestCandidates['language']
  extensions: readonly string[]
  /** Files of the language that need no test of their own: tests, entry points, declarations, configs. */
  exempt: readonly RegExp[]
  /** File names beside the source that count as its test. */
  beside: (stem: string) => string[]
  /** Names of test directories looked for in the file's directory and each one above it. */
  dirNames: readonly string[]
  /** File names inside those directories that count as its test. */
  inDir: (stem: string) => string[]
  inline: RegExp | null
}

const JS_EXTENSIONS = ['ts', 'tsx', 'mts', 'cts', 'js', 'jsx', 'mjs', 'cjs'] as const
const jsTestNames = (stem: string) => JS_EXTENSIONS.flatMap((e) => [`${stem}.test.${e}`, `${stem}.spec.${e}`])

const TEST_RULES: readonly TestRule[] = [
  {
    language: 'rust',
    extensions: ['rs'],
    exempt: [/(^|\/)(tests|benches|examples)\//, /(^|\/)(mod|build|tests?)\.rs$/, /_tests?\.rs$/],
    beside: () => [],
    dirNames: ['tests'],
    inDir: (stem) => [`${stem}.rs`],
    inline: /#\[cfg\(test\)\]/,
  },
  {
    language: 'typescript',
    extensions: JS_EXTENSIONS,
    exempt: [
      /\.d\.[cm]?ts$/,
      /\.(test|spec)\.[cm]?[jt]sx?$/,
      /(^|\/)(test|tests|__tests__|__mocks__)\//,
      /(^|\/)index\.[cm]?[jt]sx?$/,
      /\.(config|generated)\.[cm]?[jt]sx?$/,
      /(^|\/)\.[^/]+$/,
    ],
    beside: jsTestNames,
    dirNames: ['test', 'tests', '__tests__'],
    inDir: (stem) => [...jsTestNames(stem), ...JS_EXTENSIONS.map((e) => `${stem}.${e}`)],
    inline: null,
  },
  {
    language: 'go',
    extensions: ['go'],
    exempt: [/_test\.go$/, /(^|\/)testdata\//, /(^|\/)doc\.go$/, /\.pb\.go$/],
    beside: (stem) => [`${stem}_test.go`],
    dirNames: [],
    inDir: () => [],
    inline: null,
  },
  {
    language: 'python',
    extensions: ['py'],
    exempt: [
      /(^|\/)test_[^/]*\.py$/,
      /_test\.py$/,
      /(^|\/)(test|tests)\//,
      /(^|\/)(__init__|conftest|setup|noxfile)\.py$/,
    ],
    beside: (stem) => [`test_${stem}.py`, `${stem}_test.py`],
    dirNames: ['tests', 'test'],
    inDir: (stem) => [`test_${stem}.py`, `${stem}_test.py`],
    inline: null,
  },
]

// Third-party code checked into the tree is not ours to test.
const VENDORED = /(^|\/)(vendor|node_modules|third_party)\//

/**
 * Where the test of a changed source file could be, by language (Rust, TS/JS, Go, Python); null for a file that
 * needs no test of its own: not code, a test itself, an entry point (`index.*`, `mod.rs`, `__init__.py`), a type
 * declaration, a config or vendored code.
 *
 * @example
 * testCandidates('src/parse.go') // { language: 'go', beside: ['src/parse_test.go'], testDirs: [], names: [], inline: null }
 * testCandidates('src/index.ts') // null
 */
export function testCandidates(path: string): TestCandidates | null {
  const file = path.replaceAll('\\', '/')
  const ext = extname(file).slice(1)
  const rule = TEST_RULES.find((r) => r.extensions.includes(ext))
  if (!rule || VENDORED.test(file) || rule.exempt.some((pattern) => pattern.test(file))) return null
  const stem = basename(file, `.${ext}`)
  const dir = posix.dirname(file)
  const ancestors: string[] = []
  for (let at = dir; ; at = posix.dirname(at)) {
    ancestors.push(at === '.' ? '' : at)
    if (at === '.' || at === '/' || at === posix.dirname(at)) break
  }
  return {
    language: rule.language,
    beside: rule.beside(stem).map((name) => posix.join(dir, name)),
    testDirs: ancestors.flatMap((at) => rule.dirNames.map((name) => posix.join(at, name))),
    names: rule.inDir(stem),
    inline: rule.inline,
  }
}

const MAX_DEPTH = 8

/** Every file name under `dir` (bounded depth), memoised per directory for one repository's audit. */
function namesUnder(dir: string, cache: Map<string, Set<string>>): Set<string> {
  const cached = cache.get(dir)
  if (cached) return cached
  const names = new Set<string>()
  const walk = (at: string, depth: number): void => {
    let entries: Dirent[]
    try {
      entries = readdirSync(at, { withFileTypes: true })
    } catch {
      return
    }
    for (const entry of entries) {
      if (entry.isDirectory()) {
        if (depth < MAX_DEPTH && !GENERATED_DIRS.has(entry.name)) walk(join(at, entry.name), depth + 1)
      } else names.add(entry.name)
    }
  }
  walk(dir, 0)
  cache.set(dir, names)
  return names
}

function hasTest(
  root: string,
  path: string,
  candidates: TestCandidates,
  cache: Map<string, Set<string>>,
): boolean {
  if (candidates.beside.some((file) => existsSync(join(root, file)))) return true
  for (const dir of candidates.testDirs) {
    const names = namesUnder(join(root, dir), cache)
    if (candidates.names.some((name) => names.has(name))) return true
  }
  if (candidates.inline !== null) {
    try {
      return candidates.inline.test(readFileSync(join(root, path), 'utf8'))
    } catch {
      return false
    }
  }
  return false
}

/** Modification time in ms; null for a file that is gone (a deletion) or unreadable. */
function mtime(path: string): number | null {
  try {
    const st = statSync(path, { throwIfNoEntry: false })
    return st?.isFile() ? st.mtimeMs : null
  } catch {
    return null
  }
}

const ageDays = (now: number, then: number) => Math.floor((now - then) / DAY_MS)

interface AuditSettings {
  now: number
  staleBefore: number
  timeoutMs: number | undefined
}

async function auditRepo(state: RepoState, settings: AuditSettings): Promise<AuditFinding[]> {
  const { root } = state
  const { now, staleBefore, timeoutMs } = settings
  const findings: AuditFinding[] = []
  const add = (finding: Omit<AuditFinding, 'repo'>) => findings.push({ repo: state.repo, ...finding })

  const uncommitted = state.dirty ? await uncommittedFiles(root, { timeoutMs }) : []
  if (uncommitted.length > 0) {
    add({
      kind: 'uncommitted',
      severity: 'warn',
      message: `${plural(uncommitted.length, 'uncommitted file')}${state.branch ? ` on ${state.branch}` : ''}`,
      files: uncommitted,
    })
    const times = uncommitted.map((file) => mtime(join(root, file))).filter((t): t is number => t !== null)
    const newest = times.length === 0 ? null : Math.max(...times)
    if (newest !== null && newest < staleBefore) {
      add({
        kind: 'stale-work',
        severity: 'warn',
        message: `uncommitted changes untouched for ${ageDays(now, newest)} days`,
        files: uncommitted,
      })
    }
  }

  for (const branch of state.branches) {
    // Staleness by this audit's clock: reused states may have been read with other settings.
    const lastCommit = Date.parse(branch.lastCommitAt)
    const old = lastCommit < staleBefore
    if (branch.unpushed > 0) {
      const commits = plural(branch.unpushed, 'unpushed commit')
      add({
        kind: 'unpushed',
        severity: 'warn',
        message: `${commits} on ${branch.name}`,
        branch: branch.name,
      })
      if (old) {
        add({
          kind: 'stale-work',
          severity: 'warn',
          message: `${branch.name} has ${commits}, the last one ${ageDays(now, lastCommit)} days old`,
          branch: branch.name,
        })
      }
    }
    if (!branch.current && (old || branch.gone)) {
      const why = [
        branch.gone ? `its upstream ${branch.upstream} is gone` : '',
        old ? `last commit ${ageDays(now, lastCommit)} days ago` : '',
      ].filter((part) => part !== '')
      add({
        kind: 'stale-branch',
        severity: 'info',
        message: `${branch.name}: ${why.join(', ')}`,
        branch: branch.name,
      })
    }
  }
  // A detached HEAD's commits, unless a branch already accounts for them.
  if (state.detached && state.unpushed > 0 && !state.branches.some((b) => b.head === state.head)) {
    add({
      kind: 'unpushed',
      severity: 'warn',
      message: `${plural(state.unpushed, 'commit')} on a detached HEAD not on any remote`,
    })
    const at = state.lastCommitAt === null ? now : Date.parse(state.lastCommitAt)
    if (at < staleBefore) {
      add({
        kind: 'stale-work',
        severity: 'warn',
        message: `${plural(state.unpushed, 'unpushed commit')} on a detached HEAD, the last one ${ageDays(now, at)} days old`,
      })
    }
  }

  // Changed code: uncommitted files plus what a push would send. Against the empty tree (nothing to compare with)
  // that would be every file of the repository, which is a different question than "what did I just change".
  const changed = new Set(uncommitted)
  if (state.unpushed > 0)
    for (const file of await unpushedFiles(root, { timeoutMs }))
      if (file.status !== 'deleted') changed.add(file.path)
  const cache = new Map<string, Set<string>>()
  const untested = [...changed]
    .sort()
    .filter((file) => mtime(join(root, file)) !== null)
    .filter((file) => {
      const candidates = testCandidates(file)
      return candidates !== null && !hasTest(root, file, candidates, cache)
    })
  if (untested.length > 0) {
    add({
      kind: 'missing-tests',
      severity: 'info',
      message: `${plural(untested.length, 'changed source file')} without a test beside ${untested.length === 1 ? 'it' : 'them'}`,
      files: untested,
    })
  }
  return findings
}

/**
 * Audits the fleet for loose ends: uncommitted files, commits on no remote, stale work (unpushed commits or
 * uncommitted changes untouched for `staleDays`), stale branches (old, or upstream deleted) and changed source
 * files without a test. Reuses `states` when given. A repository that cannot be read is listed in `errors`; the
 * call only rejects on invalid options.
 *
 * @example
 * const report = await auditRepos(graph.repos, { staleDays: 14 })
 * report.summary // { uncommitted: 2, 'stale-work': 1, unpushed: 3, 'missing-tests': 1, 'stale-branch': 4 }
 */
export async function auditRepos(repos: Repo[], options: AuditOptions = {}): Promise<AuditReport> {
  const opts = parseOptions(auditOptionsSchema, options, 'auditRepos')
  const now = (opts.now ?? new Date()).getTime()
  const settings: AuditSettings = {
    now,
    staleBefore: now - opts.staleDays * DAY_MS,
    timeoutMs: opts.timeoutMs,
  }

  const known = new Map((opts.states ?? []).map((state) => [state.repo, state]))
  const missing = repos.filter((repo) => !known.has(repo.id))
  const read = await repoStates(missing, {
    concurrency: opts.concurrency,
    staleDays: opts.staleDays,
    now: new Date(now),
    timeoutMs: opts.timeoutMs,
  })
  for (const state of read) known.set(state.repo, state)

  const perRepo = await mapPool(repos, opts.concurrency, async (repo) => {
    const state = known.get(repo.id)!
    if (state.error !== null) return { findings: [], error: state.error }
    try {
      return { findings: await auditRepo(state, settings), error: null }
    } catch (error) {
      return { findings: [], error: failureMessage(error) }
    }
  })

  const summary = Object.fromEntries(FINDING_KINDS.map((kind) => [kind, 0])) as Record<FindingKind, number>
  const report: AuditReport = { findings: [], summary, errors: [] }
  perRepo.forEach((result, i) => {
    for (const finding of result.findings) {
      report.findings.push(finding)
      summary[finding.kind]++
    }
    if (result.error !== null) report.errors.push({ repo: repos[i]!.id, message: result.error })
  })
  return report
}

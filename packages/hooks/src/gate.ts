// The quality gate: five questions answered for exactly what is staged. Answers are stored per staged tree (the
// hash `git write-tree` gives), so changing what is staged after answering asks again. The pre-commit hook lists
// the questions when they are unanswered or answered "no"; in strict mode it blocks the commit (exit 2).
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname, isAbsolute, join } from 'node:path'
import { runGit } from '@dstack/git'
import { gitCalls } from './git-calls.ts'
import type { HookInput } from './input.ts'
import type { HookResult } from './runtime.ts'

/** The five questions, in the order they are asked. */
export const GATE_QUESTIONS = [
  {
    key: 'tests',
    question: 'Does every changed piece of code have a test beside it, and do the tests pass?',
  },
  {
    key: 'verified',
    question: 'Did you run it against the real thing (service, page, database) and see it work?',
  },
  {
    key: 'scope',
    question:
      'Is everything staged meant to be in this commit (no debug output, secrets or unrelated files)?',
  },
  { key: 'docs', question: 'Do the docs and IMPLEMENTATION.md say what the code now does?' },
  {
    key: 'reversible',
    question:
      'Can it be deployed and rolled back safely (backward-compatible migrations, config documented)?',
  },
] as const

export type GateKey = (typeof GATE_QUESTIONS)[number]['key']

/** The answers recorded for one staged tree (.git/dstack/gate.json). */
export interface GateAnswers {
  tree: string
  answers: Record<GateKey, boolean>
  note: string | null
  at: string
}

const sameKeys = (value: object, keys: readonly string[]) =>
  Object.keys(value).length === keys.length && keys.every((k) => Object.hasOwn(value, k))

/**
 * `value` as GateAnswers, or null when it is not exactly that shape. Checked by hand, not with zod: the gate runs in
 * the PreToolUse hook, whose bundle must stay free of zod (~35 ms to load, on every tool call).
 */
function asGateAnswers(value: unknown): GateAnswers | null {
  if (typeof value !== 'object' || value === null || !sameKeys(value, ['tree', 'answers', 'note', 'at']))
    return null
  const v = value as Record<string, unknown>
  const answers = v.answers as Record<string, unknown> | null
  const keys = GATE_QUESTIONS.map((q) => q.key)
  const ok =
    typeof v.tree === 'string' &&
    /^[0-9a-f]{40,64}$/.test(v.tree) &&
    typeof answers === 'object' &&
    answers !== null &&
    sameKeys(answers, keys) &&
    keys.every((k) => typeof answers[k] === 'boolean') &&
    (v.note === null || (typeof v.note === 'string' && v.note.length <= 2000)) &&
    typeof v.at === 'string'
  return ok ? (value as GateAnswers) : null
}

export interface GateCheck {
  passed: boolean
  /** The staged tree checked. */
  tree: string
  /** Answers recorded for this tree, or null (none, or for another tree). */
  answers: GateAnswers | null
  /** Questions not answered "yes" for this tree. */
  open: GateKey[]
  /** What to tell the agent: the open questions and how to answer them. */
  message: string
}

/**
 * The staged tree's hash (what a commit would record), from `git write-tree`.
 *
 * @example
 * await stagedTree('/work/api') // '4b825dc642cb6eb9a060e54bf8d69288fbee4904'
 */
export async function stagedTree(repo: string): Promise<string> {
  return (await runGit(repo, ['write-tree'])).stdout.trim()
}

async function gateFile(repo: string): Promise<string> {
  const gitDir = (await runGit(repo, ['rev-parse', '--git-dir'])).stdout.trim()
  return join(isAbsolute(gitDir) ? gitDir : join(repo, gitDir), 'dstack', 'gate.json')
}

/**
 * Records the answers for what is staged now (replacing earlier ones). A "no" is recorded too: the gate stays shut
 * until the work is fixed and answered again.
 *
 * @example
 * await recordGateAnswers('/work/api', { tests: true, verified: true, scope: true, docs: true, reversible: true })
 */
export async function recordGateAnswers(
  repo: string,
  answers: Record<GateKey, boolean>,
  note: string | null = null,
): Promise<GateAnswers> {
  const record = asGateAnswers({ tree: await stagedTree(repo), answers, note, at: new Date().toISOString() })
  if (!record) throw new TypeError('gate answers: five yes/no answers and a note of at most 2,000 characters')
  const file = await gateFile(repo)
  mkdirSync(dirname(file), { recursive: true })
  const tmp = `${file}.${process.pid}.tmp`
  writeFileSync(tmp, `${JSON.stringify(record, null, 2)}\n`)
  renameSync(tmp, file)
  return record
}

/**
 * Whether what is staged passes the gate: answers recorded for this exact tree, all "yes".
 *
 * @example
 * const check = await checkGate('/work/api')
 * if (!check.passed) console.error(check.message)
 */
export async function checkGate(repo: string): Promise<GateCheck> {
  const tree = await stagedTree(repo)
  let answers: GateAnswers | null = null
  try {
    const recorded = asGateAnswers(JSON.parse(readFileSync(await gateFile(repo), 'utf8')))
    if (recorded?.tree === tree) answers = recorded
  } catch {
    // none recorded (or unreadable): the questions are open
  }
  const open = GATE_QUESTIONS.filter((q) => answers?.answers[q.key] !== true).map((q) => q.key)
  const passed = open.length === 0
  const message = passed
    ? 'dstack gate: all five questions answered yes for what is staged.'
    : [
        answers
          ? `dstack gate: answered "no" for what is staged: ${open.join(', ')}. Fix that first, then answer again.`
          : 'dstack gate: before committing, answer the five questions for what is staged:',
        ...GATE_QUESTIONS.filter((q) => open.includes(q.key)).map((q) => `  ${q.key}: ${q.question}`),
        'Answer honestly with: dstack gate answer --tests yes --verified yes --scope yes --docs yes --reversible yes',
      ].join('\n')
  return { passed, tree, answers, open, message }
}

/** Commit options that take a value as the next word (so that word is not a pathspec). */
const VALUE_OPTIONS = new Set([
  '-m',
  '--message',
  '-F',
  '--file',
  '-C',
  '--reuse-message',
  '-c',
  '--reedit-message',
  '-t',
  '--template',
  '--author',
  '--date',
  '--cleanup',
  '--fixup',
  '--squash',
  '--trailer',
  '--pathspec-from-file',
])
/** Options that make the commit take more than what is staged. */
const WIDENING =
  /^(-[a-zA-Z]*[aiop][a-zA-Z]*|--all|--include|--only|--interactive|--patch|--pathspec-from-file(=.*)?)$/
/** Git subcommands that change the index before the commit in the same command line. */
const INDEX_CHANGING = new Set([
  'add',
  'rm',
  'mv',
  'reset',
  'restore',
  'stash',
  'checkout',
  'switch',
  'apply',
  'am',
  'merge',
  'cherry-pick',
  'revert',
  'pull',
  'rebase',
])

/**
 * Why the gate cannot know what a `git commit` will record (it checks the staged tree before the command runs), or
 * null when the commit records exactly the index.
 *
 * @example
 * unverifiableCommit({ args: ['-am', 'x'], before: [] }) // 'it commits more than what is staged (-am)'
 */
export function unverifiableCommit(call: { args: string[]; before: string[] }): string | null {
  const changing = call.before.filter((sub) => INDEX_CHANGING.has(sub))
  if (changing.length > 0) return `the same command runs git ${changing.join(', ')} first`
  for (let i = 0; i < call.args.length; i++) {
    const arg = call.args[i]!
    if (arg === '--') return 'it names paths to commit'
    if (VALUE_OPTIONS.has(arg)) {
      i++
      continue
    }
    const short = /^-[a-zA-Z]+$/.test(arg)
    // In a cluster (`-sm msg`, `-amfix`), everything from a value-taking letter on is that option's value.
    const flags = short ? arg.replace(/[mFCct].*$/, '') : arg.split('=')[0]!
    if (WIDENING.test(flags)) return `it commits more than what is staged (${arg})`
    if (short && /[mFCct]$/.test(arg) && flags.length === arg.length - 1) i++
    else if (!arg.startsWith('-')) return `it names paths to commit (${arg})`
  }
  return null
}

/**
 * PreToolUse on Bash `git commit`: unanswered or "no" questions are shown to Claude (the commit goes ahead); with
 * `strict` they block it (exit 2 with the questions). A commit whose content cannot be known beforehand (`-a`,
 * paths, a `git add` earlier in the same command) counts as unanswered. Outside a repository it stays out of the
 * way; when the check itself fails, strict mode blocks (it cannot vouch for the commit) and the default lets it be.
 */
export async function gateHook(input: HookInput, options: { strict: boolean }): Promise<HookResult> {
  const command = typeof input.tool_input?.command === 'string' ? input.tool_input.command : ''
  const calls = input.tool_name === 'Bash' && input.cwd ? gitCalls(command, input.cwd, 'commit') : []
  const messages: string[] = []
  for (const call of calls) {
    if (call.args.includes('--dry-run')) continue
    const unverifiable = unverifiableCommit(call)
    if (unverifiable) {
      messages.push(
        `dstack gate: cannot check this commit, because ${unverifiable}. Stage in its own command, answer with \`dstack gate answer …\`, then run a plain \`git commit -m …\`.`,
      )
      continue
    }
    try {
      const check = await checkGate(call.dir)
      if (!check.passed) messages.push(check.message)
    } catch (error) {
      const text = (error as Error).message
      if (/not a git repository/i.test(text)) continue
      messages.push(`dstack gate: could not check what is staged in ${call.dir}: ${text.split('\n')[0]}`)
    }
  }
  if (messages.length === 0) return { stdout: '', stderr: '', exitCode: 0 }
  const message = messages.join('\n')
  if (options.strict)
    return { stdout: '', stderr: `${message}\nCommit blocked by the strict gate.`, exitCode: 2 }
  return {
    stdout: JSON.stringify({
      hookSpecificOutput: { hookEventName: 'PreToolUse', additionalContext: message },
    }),
    stderr: '',
    exitCode: 0,
  }
}

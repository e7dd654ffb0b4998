// `dstack hook <event>`: what each Claude Code event does. The frequent events (PostToolUse, UserPromptSubmit,
// Stop, PreCompact, SessionEnd) only append to the local outbox and return in milliseconds, brain up or down. The two
// that must read the brain (SessionStart for the digest, PreToolUse for the push pre-check) load it lazily.
// Every path fails open: an error is reported on stderr (Claude Code's debug log) and the exit code is 0, except
// the strict pre-check gate, which exits 2 with its reason.

import { hostname } from 'node:os'
import { dirname } from 'node:path'
import {
  appendToOutbox,
  MAX_HANDOFF_FILES,
  type NewOutboxEntry,
  type OutboxRepo,
} from '@dstack/brain-schema/outbox'
import { outboxDir } from '@dstack/config/paths'
import { readRepoIdentity, repoRelativePath, uncommittedFiles } from '@dstack/git'
import { startBackgroundFlush } from './background.ts'
import { gateHook } from './gate.ts'
import { gitCalls } from './git-calls.ts'
import { HOOK_EVENTS, type HookEvent, type HookInput, parseHookInput, toolString } from './input.ts'
import { toolEdit } from './tool-edits.ts'

/**
 * The brain-reading half of the hooks (SessionStart, the push pre-check), loaded only when needed and through the
 * package name, not './session-start.ts': the CLI bundles this file alone for speed, and the heavy path must stay an
 * ordinary import of the installed package. The specifier is a variable so neither the bundler nor the type checker
 * follows it (the package's own build output may not exist yet when it is type-checked).
 */
function heavyPath(): Promise<typeof import('./index.ts')> {
  const specifier = '@dstack/hooks'
  return import(specifier)
}

export interface HookResult {
  /** Printed on stdout: JSON for Claude Code, or nothing. */
  stdout: string
  /** Printed on stderr: Claude Code shows it in the debug log (or to Claude when exit is 2). */
  stderr: string
  exitCode: 0 | 2
}

export interface RunHookOptions {
  env?: NodeJS.ProcessEnv
  /** `--strict`: a pre-check that finds overlaps blocks the push (exit 2). Also DSTACK_PRECHECK=strict. */
  strict?: boolean
  /** `--strict-gate`: a commit with open quality-gate questions is blocked (exit 2). Also DSTACK_GATE=strict. */
  strictGate?: boolean
  /** How to start `dstack outbox flush` in the background: the command and its leading arguments. */
  flushCommand?: { command: string; args: string[] }
}

const ok = (stdout = '', stderr = ''): HookResult => ({ stdout, stderr, exitCode: 0 })

/**
 * The `git push` a shell command line runs, if any: the directory it pushes from (`git -C <dir>`, or a leading
 * `cd <dir> &&`), or null when no segment of the line is a real push (`echo git push`, `--dry-run`, `--delete` and
 * `git push --tags` publish no edits).
 *
 * @example
 * gitPush('cd api && git push origin main', '/work') // { dir: '/work/api' }
 */
export function gitPush(command: string, cwd: string): { dir: string } | null {
  for (const call of gitCalls(command, cwd, 'push')) {
    if (
      call.args.some((f) => ['--dry-run', '-n', '--delete', '-d', '--tags'].includes(f) || f.startsWith(':'))
    )
      continue
    return { dir: call.dir }
  }
  return null
}

/**
 * Where an event happened, as the outbox records it: the repository of `path` (a file or directory).
 */
function locate(path: string): { repo: OutboxRepo; root: string; head: string | null } | null {
  const identity = readRepoIdentity(path)
  if (!identity) return null
  return {
    repo: { canonical: identity.canonical, branch: identity.branch, defaultBranch: identity.defaultBranch },
    root: identity.root,
    head: identity.head,
  }
}

function entryBase(input: HookInput, env: NodeJS.ProcessEnv) {
  return {
    session: input.session_id ?? env.CLAUDE_CODE_SESSION_ID ?? null,
    agent: env.DSTACK_AGENT || null,
    machine: env.DSTACK_MACHINE || hostname(),
  }
}

function append(env: NodeJS.ProcessEnv, entry: NewOutboxEntry): void {
  appendToOutbox(outboxDir(env), entry)
}

/** PostToolUse: a file tool's edit becomes an edit entry; a successful `git push` becomes a push entry. */
function postToolUse(input: HookInput, env: NodeJS.ProcessEnv): boolean {
  const edit = toolEdit(input)
  if (edit) {
    const where = locate(dirname(edit.file))
    const path = where && repoRelativePath(where.root, edit.file)
    if (!where || !path) return false
    append(env, {
      ...entryBase(input, env),
      kind: 'edit',
      repo: where.repo,
      path,
      op: edit.op,
      tool: edit.tool,
      hunks: edit.hunks,
    })
    return true
  }
  const command = toolString(input, 'command')
  const push = input.tool_name === 'Bash' && command && input.cwd ? gitPush(command, input.cwd) : null
  if (push) {
    const response = input.tool_response as { exitCode?: unknown; interrupted?: unknown } | undefined
    if (typeof response?.exitCode === 'number' && response.exitCode !== 0) return false
    if (response?.interrupted === true) return false
    const where = locate(push.dir)
    if (!where) return false
    append(env, { ...entryBase(input, env), kind: 'push', repo: where.repo, headSha: where.head })
    return true
  }
  return false
}

/** UserPromptSubmit: the prompt goes to the outbox; the intent is inferred from it when flushed (no LLM). */
function userPromptSubmit(input: HookInput, env: NodeJS.ProcessEnv): boolean {
  if (!input.prompt || !input.cwd) return false
  const where = locate(input.cwd)
  if (!where) return false
  append(env, {
    ...entryBase(input, env),
    kind: 'prompt',
    repo: where.repo,
    prompt: input.prompt.slice(0, 4_000),
  })
  return true
}

/** Stop and PreCompact: refresh this session's automatic handoff with the uncommitted files. */
async function stop(input: HookInput, env: NodeJS.ProcessEnv): Promise<boolean> {
  if (!input.cwd) return false
  const where = locate(input.cwd)
  if (!where) return false
  let files: string[] = []
  try {
    files = await uncommittedFiles(where.root, { timeoutMs: 5_000 })
  } catch {
    // A broken or locked repository still gets its handoff, without the file list.
  }
  append(env, {
    ...entryBase(input, env),
    kind: 'stop',
    repo: where.repo,
    uncommittedFiles: files.slice(0, MAX_HANDOFF_FILES),
    lastMessage: input.last_assistant_message?.slice(-2_000) ?? null,
  })
  return true
}

/** SessionEnd: this session leaves the repository's presence. The flush itself runs in the background. */
function sessionEnd(input: HookInput, env: NodeJS.ProcessEnv): boolean {
  if (!input.cwd) return false
  const where = locate(input.cwd)
  if (!where) return false
  append(env, { ...entryBase(input, env), kind: 'leave', repo: where.repo })
  return true
}

/**
 * Runs one hook event on its stdin text and says what to print and how to exit. Never throws.
 *
 * @example
 * const result = await runHook('PostToolUse', stdinText)
 * process.stdout.write(result.stdout); process.exitCode = result.exitCode
 */
export async function runHook(
  event: string,
  stdin: string,
  options: RunHookOptions = {},
): Promise<HookResult> {
  const env = options.env ?? process.env
  if (!(HOOK_EVENTS as readonly string[]).includes(event)) {
    return ok('', `dstack hook: unknown event ${JSON.stringify(event)}; known: ${HOOK_EVENTS.join(', ')}`)
  }
  const input = parseHookInput(stdin)
  if (!input) return ok('', `dstack hook ${event}: no usable JSON on stdin; nothing done`)
  try {
    let queued = false
    switch (event as HookEvent) {
      case 'PostToolUse':
        queued = postToolUse(input, env)
        break
      case 'UserPromptSubmit':
        queued = userPromptSubmit(input, env)
        break
      case 'Stop':
      case 'PreCompact':
        queued = await stop(input, env)
        break
      case 'SessionEnd':
        queued = sessionEnd(input, env)
        break
      case 'SessionStart': {
        const { sessionStart } = await heavyPath()
        return await sessionStart(input, env)
      }
      case 'PreToolUse': {
        // A commit meets the quality gate (no brain needed); a push meets the pre-check; a line may do both.
        const gate = await gateHook(input, {
          strict: options.strictGate === true || env.DSTACK_GATE === 'strict',
        })
        if (gate.exitCode !== 0) return gate
        // The brain-reading pre-check is loaded only for a line that really pushes (not for every commit).
        const command = toolString(input, 'command')
        if (input.tool_name !== 'Bash' || !command || !input.cwd || !gitPush(command, input.cwd)) return gate
        const { prePush } = await heavyPath()
        const strict = options.strict === true || env.DSTACK_PRECHECK === 'strict'
        return mergeContext(gate, await prePush(input, env, { strict, push: gitPush }))
      }
    }
    // Get queued work into the brain soon, so teammates see it; a flusher already running is left alone.
    if (queued && options.flushCommand) {
      startBackgroundFlush(env, options.flushCommand, { force: event === 'Stop' || event === 'SessionEnd' })
    }
    return ok()
  } catch (error) {
    return ok('', `dstack hook ${event}: ${(error as Error).message}`)
  }
}

/** Two PreToolUse results as one: a block wins; otherwise both messages reach Claude. */
function mergeContext(first: HookResult, second: HookResult): HookResult {
  if (second.exitCode !== 0 || !first.stdout) return second
  if (!second.stdout) return first
  const a = JSON.parse(first.stdout) as { hookSpecificOutput?: { additionalContext?: string } }
  const b = JSON.parse(second.stdout) as {
    systemMessage?: string
    hookSpecificOutput?: { additionalContext?: string }
  }
  const context = [a.hookSpecificOutput?.additionalContext, b.hookSpecificOutput?.additionalContext].filter(
    Boolean,
  )
  return {
    ...second,
    stdout: JSON.stringify({
      ...b,
      hookSpecificOutput: { hookEventName: 'PreToolUse', additionalContext: context.join('\n\n') },
    }),
  }
}

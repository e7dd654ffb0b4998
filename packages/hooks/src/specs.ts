import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { dstackHome } from '@dstack/config/paths'
import { singleQuote } from '@dstack/daemon'
import type { HookSpec } from './settings/install.ts'

/** The file tools whose edits are logged (MultiEdit for older Claude Code versions). */
export const EDIT_MATCHER = 'Edit|Write|MultiEdit|NotebookEdit'

/** How a hook reaches dstack: this machine's launcher by absolute path, (in a project's shared settings) each
 *  teammate's own `$DSTACK_HOME/bin/dstack`, skipped quietly where dstack is not installed, or (in the Claude Code
 *  plugin) the plugin's `bin/dstack` shim, in exec form. */
export type Launcher = { kind: 'path'; path: string } | { kind: 'per-user' } | { kind: 'plugin' }

/** The plugin's CLI shim, as Claude Code expands it in a plugin's hooks.json. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: a placeholder Claude Code expands
export const PLUGIN_LAUNCHER = '${CLAUDE_PLUGIN_ROOT}/bin/dstack'

function launchCommand(launcher: Exclude<Launcher, { kind: 'plugin' }>, args: string): string {
  if (launcher.kind === 'path') return `${singleQuote(launcher.path)} ${args}`
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion, expanded by sh
  const path = '"${DSTACK_HOME:-$HOME/.dstack}/bin/dstack"'
  // Without dstack, still drain stdin: a hook that leaves its input unread can hit EPIPE, shown as a hook error.
  return `[ -x ${path} ] && exec ${path} ${args} || { cat >/dev/null; exit 0; }`
}

/**
 * The hooks dstack installs. Shell form (a command string), which every Claude Code version with hooks runs; the
 * exec form's `args` needs 2.1.139+ and older versions would run the launcher without them. The push hooks use an
 * `if` rule so Claude Code does not even start a process for other Bash commands.
 *
 * @example
 * installHooks(settingsPath, dstackHookSpecs({ kind: 'path', path: '/home/me/.dstack/bin/dstack' }))
 */
export function dstackHookSpecs(
  launcher: Launcher,
  options: { strictPrecheck?: boolean; strictGate?: boolean } = {},
): HookSpec[] {
  const handler = (
    event: string,
    timeout: number,
    extra: { if?: string; statusMessage?: string; strict?: '--strict' | '--strict-gate' | false } = {},
  ) => {
    const args = ['hook', event, ...(extra.strict ? [extra.strict] : [])]
    return {
      type: 'command' as const,
      // The plugin uses the exec form: no shell, and the placeholder path may hold spaces.
      ...(launcher.kind === 'plugin'
        ? { command: PLUGIN_LAUNCHER, args }
        : { command: launchCommand(launcher, args.join(' ')) }),
      timeout,
      ...(extra.if ? { if: extra.if } : {}),
      ...(extra.statusMessage ? { statusMessage: extra.statusMessage } : {}),
    }
  }
  return [
    {
      event: 'SessionStart',
      handler: handler('SessionStart', 30, { statusMessage: 'dstack: loading team context' }),
    },
    { event: 'UserPromptSubmit', handler: handler('UserPromptSubmit', 10) },
    {
      event: 'PreToolUse',
      matcher: 'Bash',
      handler: handler('PreToolUse', 60, {
        if: 'Bash(git push *)',
        statusMessage: 'dstack: checking the push against teammates’ work',
        strict: options.strictPrecheck ? '--strict' : false,
      }),
    },
    // Two rules: `git commit …` and `git -C dir commit …` (an `if` rule has no optional words).
    ...['Bash(git commit *)', 'Bash(git * commit *)'].map((rule) => ({
      event: 'PreToolUse',
      matcher: 'Bash',
      handler: handler('PreToolUse', 30, {
        if: rule,
        statusMessage: 'dstack: quality gate',
        strict: options.strictGate ? ('--strict-gate' as const) : false,
      }),
    })),
    { event: 'PostToolUse', matcher: EDIT_MATCHER, handler: handler('PostToolUse', 10) },
    {
      event: 'PostToolUse',
      matcher: 'Bash',
      handler: handler('PostToolUse', 10, { if: 'Bash(git push *)' }),
    },
    { event: 'Stop', handler: handler('Stop', 30) },
    { event: 'PreCompact', handler: handler('PreCompact', 30) },
    { event: 'SessionEnd', handler: handler('SessionEnd', 5) },
  ]
}

/**
 * Writes the launcher hooks run: `<DSTACK_HOME>/bin/dstack`, a small sh script that execs this Node (22+, by
 * absolute path, so the Node 20 a hook's PATH may find is never used) on the CLI entry — or, for `hook …`, on the
 * lean hook entry when there is one. Rewritten only when it changes. Returns its path.
 *
 * @example
 * const launcher = installLauncher({ node: process.execPath, entry: '/opt/dstack/apps/cli/bin/run.js', hookEntry: '/opt/dstack/apps/cli/bin/hook.cjs' })
 */
export function installLauncher(
  target: { node: string; entry: string; hookEntry?: string },
  env: NodeJS.ProcessEnv = process.env,
): string {
  const dir = join(dstackHome(env), 'bin')
  const path = join(dir, 'dstack')
  const node = singleQuote(target.node)
  const script = [
    '#!/bin/sh',
    '# Written by `dstack hooks install`: runs dstack with the Node it was installed with.',
    ...(target.hookEntry ? [`[ "$1" = hook ] && exec ${node} ${singleQuote(target.hookEntry)} "$@"`] : []),
    `exec ${node} ${singleQuote(target.entry)} "$@"`,
    '',
  ].join('\n')
  let current: string | null = null
  try {
    current = readFileSync(path, 'utf8')
  } catch {}
  if (current !== script) {
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    const tmp = `${path}.${process.pid}.tmp`
    writeFileSync(tmp, script, { mode: 0o755 })
    chmodSync(tmp, 0o755)
    renameSync(tmp, path)
  }
  return path
}

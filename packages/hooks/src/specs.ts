import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { dstackHome } from '@dstack/config/paths'
import type { HookSpec } from './settings/install.ts'

/** The file tools whose edits are logged (MultiEdit for older Claude Code versions). */
export const EDIT_MATCHER = 'Edit|Write|MultiEdit|NotebookEdit'

/**
 * The hooks dstack installs, in exec form (no shell) pointing at the launcher `<DSTACK_HOME>/bin/dstack`. The push
 * hooks use an `if` rule so Claude Code does not even start a process for other Bash commands.
 *
 * @example
 * installHooks(settingsPath, dstackHookSpecs('/home/me/.dstack/bin/dstack'))
 */
export function dstackHookSpecs(launcher: string, options: { strictPrecheck?: boolean } = {}): HookSpec[] {
  const handler = (
    event: string,
    timeout: number,
    extra: { if?: string; statusMessage?: string; args?: string[] } = {},
  ) => ({
    type: 'command' as const,
    command: launcher,
    args: ['hook', event, ...(extra.args ?? [])],
    timeout,
    ...(extra.if ? { if: extra.if } : {}),
    ...(extra.statusMessage ? { statusMessage: extra.statusMessage } : {}),
  })
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
        args: options.strictPrecheck ? ['--strict'] : [],
      }),
    },
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

/** Single-quotes a string for sh. */
function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`
}

/**
 * Writes the launcher hooks run: `<DSTACK_HOME>/bin/dstack`, a two-line sh script that execs this Node (22+, by
 * absolute path, so the Node 20 a hook's PATH may find is never used) on the CLI entry. Rewritten only when it
 * changes. Returns its path.
 *
 * @example
 * const launcher = installLauncher({ node: process.execPath, entry: '/opt/dstack/apps/cli/bin/run.js' })
 */
export function installLauncher(
  target: { node: string; entry: string },
  env: NodeJS.ProcessEnv = process.env,
): string {
  const dir = join(dstackHome(env), 'bin')
  const path = join(dir, 'dstack')
  const script = `#!/bin/sh\n# Written by \`dstack hooks install\`: runs dstack with the Node it was installed with.\nexec ${shellQuote(target.node)} ${shellQuote(target.entry)} "$@"\n`
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

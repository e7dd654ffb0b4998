import { conflictPrecheck, type PrecheckResult } from '@dstack/brain-schema'
import { outgoingChanges } from '@dstack/git'
import { type HookInput, toolString } from './input.ts'
import type { HookResult } from './runtime.ts'
import { openHookWorkspace, type Workspace } from './workspace.ts'

/**
 * Overlaps as lines of text for people and for Claude: file, who, when, intent, lines.
 *
 * @example
 * formatOverlaps(result) // 'src/a.ts: bob edited lines 20-30 (ours 25-27) 3m ago under "Stripe invoices" [active intent]'
 */
export function formatOverlaps(result: PrecheckResult, now = new Date()): string[] {
  return result.overlaps.map((o) => {
    const minutes = Math.max(0, Math.round((now.getTime() - new Date(o.last_edit_at).getTime()) / 60_000))
    const when = minutes < 60 ? `${minutes}m ago` : `${Math.round(minutes / 60)}h ago`
    const lines =
      o.level === 'hunk'
        ? ` lines ${o.theirHunks.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(', ')} (ours ${o.ourHunks
            .map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`))
            .join(', ')})`
        : ''
    const intent = o.intent_title ? ` under "${o.intent_title}"` : ''
    const reason = o.reason === 'active-intent' ? 'active intent' : 'not pushed yet'
    return `${o.path}: ${o.agent_id} edited${lines} ${when}${intent}${o.branch_name ? ` on ${o.branch_name}` : ''} [${reason}]`
  })
}

/**
 * PreToolUse on Bash `git push`: compares what the push sends with other agents' unpublished work. Overlaps are
 * reported to the user and to Claude and the push goes ahead; with `strict` they block it (exit 2 with the reason).
 * Never decides permissions otherwise (an "allow" would skip the user's permission rules).
 */
export async function prePush(
  input: HookInput,
  env: NodeJS.ProcessEnv,
  options: { strict: boolean; push: (command: string, cwd: string) => { dir: string } | null },
): Promise<HookResult> {
  const command = toolString(input, 'command')
  const push = input.tool_name === 'Bash' && command && input.cwd ? options.push(command, input.cwd) : null
  if (!push) return { stdout: '', stderr: '', exitCode: 0 }
  let workspace: Workspace
  try {
    workspace = await openHookWorkspace(push.dir, input.session_id, env)
  } catch (error) {
    // Fail open: a gate that cannot see the brain does not block work (Claude Code's own advice for hooks).
    const message = `dstack pre-check skipped: ${(error as Error).message.split('\n')[0]}`
    return { stdout: JSON.stringify({ systemMessage: message }), stderr: message, exitCode: 0 }
  }
  try {
    const changes = await outgoingChanges(workspace.repo.root)
    const result = await conflictPrecheck(workspace.brain.db, workspace.scope, changes.files)
    if (result.overlaps.length === 0) return { stdout: '', stderr: '', exitCode: 0 }
    const lines = formatOverlaps(result)
    const summary = `dstack pre-check: this push (${changes.commits.length} commit(s) over ${changes.base}) overlaps other agents' unpublished work in ${result.overlaps.length} place(s):\n${lines.join('\n')}`
    if (options.strict) return { stdout: '', stderr: `${summary}\nPush blocked by strict mode.`, exitCode: 2 }
    return {
      stdout: JSON.stringify({
        systemMessage: summary,
        hookSpecificOutput: { hookEventName: 'PreToolUse', additionalContext: summary },
      }),
      stderr: '',
      exitCode: 0,
    }
  } finally {
    await workspace.close()
  }
}

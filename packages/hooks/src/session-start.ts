import {
  DIGEST_DEFAULT_CHARS,
  DIGEST_MAX_CHARS,
  heartbeat,
  renderDigest,
  teamDigest,
} from '@dstack/brain-schema'
import { type MemoryProvider, memoryDigest, memoryDirFor, openMemory, workspaceForRepo } from '@dstack/memory'
import type { HookInput } from './input.ts'
import type { HookResult } from './runtime.ts'
import { openHookWorkspace, type Workspace } from './workspace.ts'

/**
 * The top memories of this repository's workspace for the current task, in what is left of the budget. Memory
 * trouble (a provider down, a corrupt file) costs the section, never the session.
 */
/** What the memories section may take of SessionStart. */
const MEMORY_DEADLINE_MS = 3_000

async function memoriesFor(workspace: Workspace, task: string | null, maxChars: number): Promise<string> {
  if (maxChars < 200) return ''
  const { config, repo } = workspace
  let memory: MemoryProvider | undefined
  try {
    const opened = openMemory({
      provider: config.memory.provider,
      workspace: config.memory.workspace ?? workspaceForRepo(repo.canonical),
      dir: memoryDirFor(config.memory.dir, repo.root),
      brain: workspace.brain,
      eruka: config.memory.eruka,
    })
    // A slow memory back-end (an Eruka server timing out) costs this section, never the digest.
    const text = Promise.race([
      opened.then(async (m) => {
        memory = m
        return memoryDigest(m, { task, maxChars })
      }),
      new Promise<string>((resolve) => setTimeout(() => resolve(''), MEMORY_DEADLINE_MS).unref()),
    ])
    return await text
  } catch {
    return ''
  } finally {
    await memory?.close()
  }
}

/** The JSON Claude Code reads from a SessionStart hook: the digest goes in as context at the conversation start. */
function context(text: string): string {
  return JSON.stringify({ hookSpecificOutput: { hookEventName: 'SessionStart', additionalContext: text } })
}

/**
 * SessionStart: flush the outbox, mark this session live, and hand Claude the team digest for this repository
 * (about 1.5K tokens by default, DSTACK_DIGEST_CHARS to change it, never above 10,000 characters). A brain that
 * cannot be reached gives a one-line note instead, and the session goes on.
 */
export async function sessionStart(input: HookInput, env: NodeJS.ProcessEnv): Promise<HookResult> {
  if (!input.cwd) return { stdout: '', stderr: 'dstack hook SessionStart: no cwd in the input', exitCode: 0 }
  const budget = Math.min(Number(env.DSTACK_DIGEST_CHARS) || DIGEST_DEFAULT_CHARS, DIGEST_MAX_CHARS)
  let workspace: Workspace
  try {
    workspace = await openHookWorkspace(input.cwd, input.session_id, env)
  } catch (error) {
    const code = (error as { code?: string }).code
    if (code === 'NOT_IN_REPOSITORY') return { stdout: '', stderr: '', exitCode: 0 }
    const note = `dstack: the team brain is unreachable (${(error as Error).message.split('\n')[0]}); edits are queued locally and sent when it is back.`
    return { stdout: context(note), stderr: (error as Error).message, exitCode: 0 }
  }
  try {
    await heartbeat(workspace.brain.db, workspace.scope, { status: 'planning' })
    const digest = await teamDigest(workspace.brain.db, workspace.scope)
    const team = renderDigest(digest, { maxChars: budget })
    const memories = await memoriesFor(workspace, digest.myIntent?.title ?? null, budget - team.length - 2)
    return { stdout: context(memories ? `${team}\n\n${memories}` : team), stderr: '', exitCode: 0 }
  } finally {
    await workspace.close()
  }
}

import {
  assertSchemaReady,
  type Brain,
  BrainError,
  type FlushResult,
  flushOutbox,
  openBrain,
  type ResolvedScope,
  resolveScope,
} from '@dstack/brain-schema'
import { type DstackConfig, loadConfig, outboxDir } from '@dstack/config'
import { type RepoIdentity, readRepoIdentity } from '@dstack/git'

/** The working directory is not inside a git repository, so there is no team context to use. */
export class NotInRepositoryError extends BrainError {
  constructor(cwd: string) {
    super(
      'NOT_IN_REPOSITORY',
      `${cwd} is not inside a git repository: run this from a repository's working tree`,
    )
  }
}

/** Everything a brain command or a heavy hook needs: config, an open brain, the outbox flushed, the scope. */
export interface Workspace {
  config: DstackConfig
  brain: Brain
  repo: RepoIdentity
  scope: ResolvedScope
  /** The outbox flush done on opening (null with `flush: false`). */
  flushed: FlushResult | null
  close(): Promise<void>
}

export interface OpenWorkspaceOptions {
  cwd?: string
  /** Claude Code's session id; defaults to CLAUDE_CODE_SESSION_ID (set in the Bash tool's environment). */
  sessionId?: string | null
  env?: NodeJS.ProcessEnv
  /** Flush the outbox first so reads see every queued write (default true). */
  flush?: boolean
  /** Stop flushing batches after this time. */
  deadline?: number
}

/**
 * The repository a directory belongs to; throws NotInRepositoryError outside one.
 *
 * @example
 * const repo = repositoryAt(process.cwd())
 */
export function repositoryAt(cwd: string): RepoIdentity {
  const repo = readRepoIdentity(cwd)
  if (!repo) throw new NotInRepositoryError(cwd)
  return repo
}

/**
 * Opens the team brain for the repository at `cwd`: loads the config, opens the brain (starting the embedded server
 * if needed), flushes the outbox, registers the agent and resolves the scope. Close it when done.
 *
 * @example
 * const ws = await openWorkspace({ cwd: process.cwd() })
 * try { console.log(ws.scope.repo) } finally { await ws.close() }
 */
export async function openWorkspace(options: OpenWorkspaceOptions = {}): Promise<Workspace> {
  const env = options.env ?? process.env
  const cwd = options.cwd ?? process.cwd()
  const repo = repositoryAt(cwd)
  const config = loadConfig({ env })
  const brain = await openBrain(config.brain)
  try {
    await assertSchemaReady(brain.db)
    await brain.db
      .insertInto('agents')
      .values({ id: config.agent.id, display_name: config.agent.displayName, email: config.agent.email })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute()
    const flushed =
      options.flush === false
        ? null
        : await flushOutbox(brain.db, {
            dir: outboxDir(env),
            agentId: config.agent.id,
            machine: config.machine,
            deadline: options.deadline,
          })
    const scope = await resolveScope(brain.db, {
      agentId: config.agent.id,
      sessionId: options.sessionId ?? env.CLAUDE_CODE_SESSION_ID ?? null,
      repo: repo.canonical,
      branch: repo.branch,
      defaultBranch: repo.defaultBranch,
      machine: config.machine,
    })
    return { config, brain, repo, scope, flushed, close: () => brain.close() }
  } catch (error) {
    await brain.close()
    throw error
  }
}

/** How long a hook may spend flushing the outbox before it reads the brain; the background flusher takes the rest. */
export const HOOK_FLUSH_BUDGET_MS = 2_000

/**
 * openWorkspace for a hook (SessionStart, the push pre-check): the session from the payload and a short flush, so a
 * long-offline outbox never outlasts the hook's timeout or holds a push up.
 *
 * @example
 * const ws = await openHookWorkspace(input.cwd, input.session_id, process.env)
 */
export function openHookWorkspace(
  cwd: string,
  sessionId: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<Workspace> {
  return openWorkspace({ cwd, sessionId, env, deadline: Date.now() + HOOK_FLUSH_BUDGET_MS })
}

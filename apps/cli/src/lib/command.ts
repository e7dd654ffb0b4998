import { resolve } from 'node:path'
// Types only at the top: the brain, hooks and memory packages cost ~330 ms to load, and commands that never touch
// them (repos, waves, execute, audit) should not pay for it. They are imported where they are used.
import type { Brain, BrainConfig, Input } from '@dstack/brain-schema'
import { type DstackConfig, loadConfig } from '@dstack/config'
import { readRepoIdentity } from '@dstack/git'
import type { Workspace } from '@dstack/hooks'
import type { MemoryProvider, Provenance } from '@dstack/memory'
import { Command, Errors } from '@oclif/core'
import { EXIT, type ExitCode } from './exit-codes.ts'

/** The configured agent as the brain registers it. */
export function agentOf(config: DstackConfig): Input<'agents'> {
  return { id: config.agent.id, display_name: config.agent.displayName, email: config.agent.email }
}

/** Known errors and the exit code each one means (their packages are loaded only when something failed). */
async function exitCodeFor(error: unknown): Promise<ExitCode | undefined> {
  const [brain, config, hooks, memory, graph, browser] = await Promise.all([
    import('@dstack/brain-schema'),
    import('@dstack/config'),
    import('@dstack/hooks'),
    import('@dstack/memory'),
    import('@dstack/repo-graph'),
    import('@dstack/browser/client'),
  ])
  const is = (...classes: Array<abstract new (...args: never[]) => unknown>) =>
    classes.some((c) => error instanceof c)
  if (is(config.ConfigError, graph.WorkspaceFileError)) return EXIT.CONFIG
  if (
    is(
      brain.BrainUnavailableError,
      memory.MemoryUnavailableError,
      browser.BrowserUnavailableError,
      browser.BrowserBusyError,
    )
  )
    return EXIT.BRAIN_UNAVAILABLE
  if (is(brain.ModifiedMigrationError, brain.SchemaNotReadyError)) return EXIT.SCHEMA
  if (
    is(
      brain.InvalidInputError,
      hooks.NotInRepositoryError,
      hooks.SettingsFileError,
      memory.InvalidMemoryError,
      memory.SecretRefusedError,
      graph.PlanError,
      graph.WaveExecutionError,
      browser.CommandError,
    )
  )
    return EXIT.USAGE
  if (is(brain.NotFoundError)) return EXIT.NOT_FOUND
  if (is(brain.StateConflictError, memory.MemoryConflictError)) return EXIT.CONFLICT
  if (is(memory.CorruptMemoryError)) return EXIT.CORRUPT
  return undefined
}

/**
 * What every dstack command shares: `--json` (the value `run()` returns is printed as JSON), config loading with
 * clear errors, a brain opened and closed around the work, and exit codes that mean something (see exit-codes.ts).
 */
export abstract class DstackCommand extends Command {
  static override enableJsonFlag = true

  /** Parses before run() so unknown flags and arguments are refused (exit 2) even by commands that take none. */
  protected override async init(): Promise<void> {
    await super.init()
    await this.parse(this.ctor)
  }

  /** The machine's configuration; config warnings go to stderr. */
  protected settings(): DstackConfig {
    // Read once per command: withMemory and provenance() both need it, and its warnings should print once.
    if (!this.#config) {
      this.#config = loadConfig()
      for (const warning of this.#config.warnings) this.warn(warning)
    }
    return this.#config
  }

  #config: DstackConfig | undefined

  /** Opens the brain, runs `work`, closes it whatever happens. */
  protected async withBrain<T>(
    config: BrainConfig,
    work: (brain: Brain) => Promise<T>,
    options: { migrate?: boolean } = {},
  ): Promise<T> {
    const { openBrain } = await import('@dstack/brain-schema')
    const brain = await openBrain(config, options)
    try {
      return await work(brain)
    } finally {
      await brain.close()
    }
  }

  /**
   * Opens the team brain for the repository of the current directory (outbox flushed first, so reads see every
   * queued write), runs `work`, closes it whatever happens.
   */
  protected async withWorkspace<T>(work: (workspace: Workspace) => Promise<T>): Promise<T> {
    const { openWorkspace } = await import('@dstack/hooks')
    const workspace = await openWorkspace({ cwd: process.cwd() })
    for (const warning of workspace.config.warnings) this.warn(warning)
    try {
      return await work(workspace)
    } finally {
      await workspace.close()
    }
  }

  /**
   * Opens the configured memory provider (or `provider`) for `workspace` — default: the configured workspace, else
   * the current repository's, else `personal` — runs `work`, closes it whatever happens.
   */
  protected async withMemory<T>(
    options: { workspace?: string; provider?: string; dir?: string },
    work: (memory: MemoryProvider) => Promise<T>,
  ): Promise<T> {
    const { FileProvider, memoryDirFor, openMemory, workspaceForRepo } = await import('@dstack/memory')
    const config = this.settings()
    const provider = (options.provider ?? config.memory.provider) as 'file' | 'brain' | 'eruka'
    const repo = readRepoIdentity(process.cwd())
    const workspace =
      options.workspace ?? config.memory.workspace ?? (repo ? workspaceForRepo(repo.canonical) : 'personal')
    const open = (brain?: Brain) =>
      openMemory({
        provider,
        workspace,
        dir: options.dir ? resolve(options.dir) : memoryDirFor(config.memory.dir, repo?.root ?? null),
        brain,
        eruka: config.memory.eruka,
      })
    const run = async (memory: MemoryProvider) => {
      try {
        const result = await work(memory)
        // Files the file provider could not read are left out of loads, searches and exports: say so.
        const problems = memory instanceof FileProvider ? await memory.problems() : []
        for (const { file, problem } of problems) this.warn(`unreadable memory ${file}: ${problem}`)
        if (problems.length > 0 && this.id === 'memory:export') process.exitCode = EXIT.CORRUPT
        return result
      } finally {
        await memory.close()
      }
    }
    if (provider !== 'brain') return run(await open())
    const { assertSchemaReady } = await import('@dstack/brain-schema')
    return this.withBrain(config.brain, async (brain) => {
      await assertSchemaReady(brain.db)
      return run(await open(brain))
    })
  }

  /** Who and where a memory written now comes from: the configured agent, the session, the repository here. */
  protected provenance(): Provenance {
    const config = this.settings()
    const repo = readRepoIdentity(process.cwd())
    return {
      agent: config.agent.id,
      session: process.env.CLAUDE_CODE_SESSION_ID || null,
      repo: repo?.canonical ?? null,
      branch: repo?.branch ?? null,
      commit: repo?.head ?? null,
      source: `dstack ${this.id ?? 'memory'}`,
    }
  }

  /**
   * A signal that aborts on the first Ctrl-C (SIGINT) or SIGTERM, so long work can stop what it started and still
   * report; a second one exits at once (130).
   */
  protected interruptSignal(): AbortSignal {
    const controller = new AbortController()
    const onSignal = () => {
      if (controller.signal.aborted) process.exit(EXIT.INTERRUPTED)
      process.stderr.write('interrupted: stopping (again to quit at once)\n')
      controller.abort()
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    return controller.signal
  }

  /** Prints human text unless --json is on. */
  /**
   * Ends the command with `code`, printing `result` first under --json (oclif prints the returned value only when
   * run() returns, which an early exit skips).
   */
  protected exitWith(result: unknown, code: number): never {
    if (this.jsonEnabled()) this.logJson(result)
    return this.exit(code)
  }

  protected say(text: string): void {
    if (!this.jsonEnabled()) this.log(text)
  }

  protected override async catch(
    error: Error & { oclif?: { exit?: number }; code?: string },
  ): Promise<unknown> {
    // this.exit(n) after printing a result: the result is the output, not an error to report.
    if (error.code === 'EEXIT') throw error
    const exit = await exitCodeFor(error)
    if (exit !== undefined) {
      // A CLIError prints as a plain message (no stack) and carries the exit code.
      const cliError = new Errors.CLIError(error.message, { exit })
      cliError.name = error.name
      return super.catch(cliError)
    }
    return super.catch(error)
  }
}

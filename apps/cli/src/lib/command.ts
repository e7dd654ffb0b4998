import { resolve } from 'node:path'
import {
  assertSchemaReady,
  type Brain,
  type BrainConfig,
  BrainUnavailableError,
  type Input,
  InvalidInputError,
  ModifiedMigrationError,
  NotFoundError,
  openBrain,
  SchemaNotReadyError,
  StateConflictError,
} from '@dstack/brain-schema'
import { ConfigError, type DstackConfig, loadConfig } from '@dstack/config'
import { readRepoIdentity } from '@dstack/git'
import { NotInRepositoryError, openWorkspace, SettingsFileError, type Workspace } from '@dstack/hooks'
import {
  CorruptMemoryError,
  FileProvider,
  InvalidMemoryError,
  MemoryConflictError,
  type MemoryProvider,
  MemoryUnavailableError,
  memoryDirFor,
  openMemory,
  type Provenance,
  SecretRefusedError,
  workspaceForRepo,
} from '@dstack/memory'
import { Command, Errors } from '@oclif/core'
import { EXIT, type ExitCode } from './exit-codes.ts'

/** The configured agent as the brain registers it. */
export function agentOf(config: DstackConfig): Input<'agents'> {
  return { id: config.agent.id, display_name: config.agent.displayName, email: config.agent.email }
}

/** Known errors and the exit code each one means. */
function exitCodeFor(error: unknown): ExitCode | undefined {
  if (error instanceof ConfigError) return EXIT.CONFIG
  if (error instanceof BrainUnavailableError) return EXIT.BRAIN_UNAVAILABLE
  if (error instanceof ModifiedMigrationError || error instanceof SchemaNotReadyError) return EXIT.SCHEMA
  if (
    error instanceof InvalidInputError ||
    error instanceof NotInRepositoryError ||
    error instanceof SettingsFileError
  ) {
    return EXIT.USAGE
  }
  if (error instanceof InvalidMemoryError || error instanceof SecretRefusedError) return EXIT.USAGE
  if (error instanceof NotFoundError) return EXIT.NOT_FOUND
  if (error instanceof StateConflictError || error instanceof MemoryConflictError) return EXIT.CONFLICT
  if (error instanceof MemoryUnavailableError) return EXIT.BRAIN_UNAVAILABLE
  if (error instanceof CorruptMemoryError) return EXIT.CORRUPT
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

  /** Prints human text unless --json is on. */
  protected say(text: string): void {
    if (!this.jsonEnabled()) this.log(text)
  }

  protected override async catch(
    error: Error & { oclif?: { exit?: number }; code?: string },
  ): Promise<unknown> {
    // this.exit(n) after printing a result: the result is the output, not an error to report.
    if (error.code === 'EEXIT') throw error
    const exit = exitCodeFor(error)
    if (exit !== undefined) {
      // A CLIError prints as a plain message (no stack) and carries the exit code.
      const cliError = new Errors.CLIError(error.message, { exit })
      cliError.name = error.name
      return super.catch(cliError)
    }
    return super.catch(error)
  }
}

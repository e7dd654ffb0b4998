import {
  type Brain,
  type BrainConfig,
  BrainUnavailableError,
  type Input,
  InvalidInputError,
  ModifiedMigrationError,
  openBrain,
  SchemaNotReadyError,
} from '@dstack/brain-schema'
import { ConfigError, type DstackConfig, loadConfig } from '@dstack/config'
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
  if (error instanceof InvalidInputError) return EXIT.USAGE
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
    const config = loadConfig()
    for (const warning of config.warnings) this.warn(warning)
    return config
  }

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

  /** Prints human text unless --json is on. */
  protected say(text: string): void {
    if (!this.jsonEnabled()) this.log(text)
  }

  protected override async catch(error: Error & { oclif?: { exit?: number } }): Promise<unknown> {
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

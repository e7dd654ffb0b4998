// What the `dstack deploy` commands share: the dstack.yaml they read, the flow deploy and rollback have in common
// (dry run or run, progress, reports, exit codes), the mapping of a report to the team brain's deploy log, and the
// exit codes of @dstack/deploy's errors. The deploy logic itself is @dstack/deploy's.

import { existsSync } from 'node:fs'
// Types only: the brain is loaded after the deploy, and only when one is configured.
import type { LogDeployInput } from '@dstack/brain-schema'
import type { DstackConfig } from '@dstack/config'
import {
  closeAll,
  commandLine,
  type DeployFile,
  type DeployPlan,
  type DeployReport,
  UsageError as DeployUsageError,
  formatPlan,
  formatReport,
  type HistoryEntry,
  loadDeployFile,
  NotFoundError,
  openServiceTargets,
  type PreparedDeploy,
  type PrepareOptions,
  prepareDeploy,
  resolveService,
  runPrepared,
  SecretError,
  type Service,
  type Target,
} from '@dstack/deploy'
import { readRepoIdentity } from '@dstack/git'
import { findWorkspaceFile } from '@dstack/repo-graph'
import { Errors, Flags } from '@oclif/core'
import { DstackCommand } from './command.ts'
import { EXIT, type ExitCode } from './exit-codes.ts'
import { fleetFlags } from './fleet.ts'

export const deployFlags = {
  workspace: fleetFlags.workspace,
  host: Flags.string({
    description: "only this one of the service's hosts (local, or ssh://user@host:port)",
  }),
}

/** A plan as `--dry-run --json` prints it: the plan, and each step's command line exactly as the run executes it. */
export type PlanJson = DeployPlan & { commands: { steps: string[]; rollback: string[]; finish: string[] } }

/**
 * What the team brain's deploy log (brain-schema's logDeploy) records of a report: the outcome and why, and each
 * step that ran (deploy, rollback and finish steps, in the order they ran) with its time.
 *
 * @example
 * await logDeploy(brain.db, { agentId: 'alice', repoId: null }, deployLogInput(report))
 */
export function deployLogInput(report: DeployReport): LogDeployInput {
  return {
    service: report.service,
    target: report.target,
    release: report.release,
    previousRelease: report.previous,
    outcome: report.outcome,
    reason: report.reason?.slice(0, 20_000) ?? null,
    durationMs: report.durationMs,
    steps: [...report.steps, ...report.rollback, ...report.finish].map((s) => ({
      id: s.id,
      status: s.status,
      durationMs: s.durationMs,
    })),
    startedAt: new Date(report.startedAt),
    finishedAt: new Date(report.finishedAt),
  }
}

/**
 * The exit code of a set of reports: 0 when every one is `deployed`, 8 when one was refused (locked by someone
 * else, the target changed since the plan, a breaking migration without --force), 6 when one failed.
 */
export function reportsExit(reports: readonly DeployReport[]): ExitCode {
  if (reports.some((r) => r.outcome === 'refused')) return EXIT.CONFLICT
  if (reports.some((r) => r.outcome !== 'deployed')) return EXIT.UNHEALTHY
  return EXIT.OK
}

/**
 * The exit code for an error of @dstack/deploy: 7 NotFoundError (a release or host that is not there), 2 UsageError
 * (a rollback to the release already current), 1 a secret that cannot be read or a target that cannot be reached
 * (plain errors); undefined for the rest (WorkspaceFileError has its own code; bugs keep their stack).
 */
export function deployErrorExit(error: unknown): ExitCode | undefined {
  if (error instanceof NotFoundError) return EXIT.NOT_FOUND
  if (error instanceof DeployUsageError) return EXIT.USAGE
  if (error instanceof SecretError || (error instanceof Error && error.constructor === Error))
    return EXIT.ERROR
  return undefined
}

/** A history entry on one line: when it started, deploy or rollback, the release, how it ended, and why. */
export function historyLine(entry: HistoryEntry): string {
  const when = entry.startedAt.replace(/\.\d+Z$/, 'Z')
  const why = entry.reason ? `  ${entry.reason}` : ''
  return `${when}  ${entry.action.padEnd(8)}  ${entry.release}  ${entry.outcome}${why}`
}

/** Whether this machine has a brain to log to: a Postgres URL, or an embedded brain that `brain up` created. */
export function brainConfigured(config: DstackConfig): boolean {
  return config.brain.driver === 'postgres' || existsSync(config.brain.dataDir)
}

/** How long logging the reports may take after a deploy before dstack gives up on it (with a warning). */
const BRAIN_LOG_TIMEOUT_MS = 10_000

/**
 * The base of the `dstack deploy` commands: dstack.yaml found like every workspace command, library errors as exit
 * codes, and the deploy-or-rollback flow (dry run, or run with progress and reports, logged to the team brain).
 */
export abstract class DeployCommand extends DstackCommand {
  #signal: AbortSignal | undefined
  /** Set when logging to the brain outlived its deadline: the command then exits explicitly. */
  protected brainPending = false

  /** --workspace, else the nearest dstack.yaml from the current directory; none is exit 3. */
  protected deployFile(workspace: string | undefined): DeployFile {
    const path = workspace ?? findWorkspaceFile(process.cwd())
    if (!path)
      this.error(
        'no dstack.yaml here or in a parent directory: create one with a deploy: section, or pass --workspace <file>',
        { exit: EXIT.CONFIG },
      )
    return loadDeployFile(path)
  }

  /** interruptSignal(), remembered so an error after Ctrl-C exits 130. */
  protected override interruptSignal(): AbortSignal {
    this.#signal ??= super.interruptSignal()
    return this.#signal
  }

  /**
   * The service's targets (each of its hosts, or only `host`) for commands that read or unlock them; close them
   * with closeAll.
   */
  protected openTargets(
    file: DeployFile,
    name: string,
    host: string | undefined,
  ): { service: Service; targets: Target[] } {
    const service = resolveService(file, name)
    return { service, targets: openServiceTargets(service, host) }
  }

  /** Plans `name` on its hosts (changes nothing), prints each plan, closes the targets. */
  protected async dryRun(file: DeployFile, name: string, options: PrepareOptions): Promise<PlanJson[]> {
    const prepared = await prepareDeploy(file, name, options)
    try {
      return prepared.map((p) => {
        const lock = p.state.lock
        const held =
          lock && !lock.expired
            ? `\n  note: locked by ${lock.owner} until ${lock.expiresAt}: the run would be refused now`
            : ''
        this.say(`${formatPlan(p.plan, p.target)}${held}\n`)
        const line = (s: Parameters<typeof commandLine>[1]) => commandLine(p.target, s)
        return {
          ...p.plan,
          commands: {
            steps: p.plan.steps.map(line),
            rollback: p.plan.rollback.map(line),
            finish: p.plan.finish.map(line),
          },
        }
      })
    } finally {
      await closeAll(prepared)
    }
  }

  /**
   * Deploys (or rolls back) `names` one after another, each on its hosts, and stops at the first report that is not
   * `deployed` (or at Ctrl-C): the services after it are `notAttempted`. Whatever ran is logged to the team brain,
   * also when a later service could not be prepared.
   */
  protected async deployServices(
    file: DeployFile,
    names: string[],
    options: PrepareOptions & { signal: AbortSignal },
  ): Promise<{ reports: DeployReport[]; notAttempted: string[] }> {
    const ran: Array<{ report: DeployReport; repoDir: string }> = []
    const notAttempted: string[] = []
    try {
      for (const [i, name] of names.entries()) {
        const prepared = await prepareDeploy(file, name, options)
        const repoDir = prepared[0]!.service.repoDir
        const reports = await this.execute(prepared, options.signal)
        ran.push(...reports.map((report) => ({ report, repoDir })))
        if (options.signal.aborted || reports.some((r) => r.outcome !== 'deployed')) {
          notAttempted.push(...names.slice(i + 1))
          break
        }
      }
    } finally {
      await this.logDeploys(ran)
    }
    return { reports: ran.map((r) => r.report), notAttempted }
  }

  /**
   * Runs prepared deploys host after host (runPrepared: it stops at the first that is not deployed and closes the
   * targets), a progress line per step on a terminal, then prints each report.
   */
  protected async execute(prepared: PreparedDeploy[], signal: AbortSignal): Promise<DeployReport[]> {
    const progress = !this.jsonEnabled() && process.stderr.isTTY === true
    const reports = await runPrepared(prepared, {
      signal,
      onStart: (step, phase) => {
        if (!progress) return
        const p = prepared.find((q) => [...q.plan.steps, ...q.plan.rollback, ...q.plan.finish].includes(step))
        if (!p) return
        const label =
          phase === 'steps' ? `[${p.plan.steps.indexOf(step) + 1}/${p.plan.steps.length}]` : `${phase}:`
        process.stderr.write(`${p.plan.service} → ${p.target.name} ${label} ${step.title}\n`)
      },
    })
    for (const report of reports) this.say(`${formatReport(report)}\n`)
    return reports
  }

  /**
   * Appends the reports to the team brain's deploy log when a brain is configured. Never fails and never holds the
   * command up for long: no brain, an unreachable one or a refused write is one warning line on stderr.
   */
  protected async logDeploys(ran: Array<{ report: DeployReport; repoDir: string }>): Promise<void> {
    if (ran.length === 0) return
    const warn = (why: string) => {
      this.warn(`deploy not recorded in the team brain's deploy log: ${why.split('\n')[0]}`)
    }
    let config: DstackConfig
    try {
      config = this.settings()
    } catch (error) {
      return warn((error as Error).message)
    }
    if (!brainConfigured(config))
      return warn('no brain configured (run `dstack brain up`, or set DSTACK_BRAIN_URL)')
    const work = (async () => {
      const { assertSchemaReady, findRepoId, logDeploy } = await import('@dstack/brain-schema')
      await this.withBrain(config.brain, async (brain) => {
        await assertSchemaReady(brain.db)
        for (const { report, repoDir } of ran) {
          const canonical = readRepoIdentity(repoDir)?.canonical
          const repoId = canonical ? await findRepoId(brain.db, canonical) : null
          await logDeploy(brain.db, { agentId: config.agent.id, repoId }, deployLogInput(report))
        }
      })
    })()
    // Past the deadline nobody awaits it any more: a late failure must not become an unhandled rejection.
    work.catch(() => {})
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<'late'>((done) => {
      timer = setTimeout(() => done('late'), BRAIN_LOG_TIMEOUT_MS)
    })
    try {
      if ((await Promise.race([work, deadline])) === 'late') {
        this.brainPending = true
        warn(`the brain did not answer within ${BRAIN_LOG_TIMEOUT_MS / 1000} s`)
      }
    } catch (error) {
      warn((error as Error).message)
    } finally {
      clearTimeout(timer)
    }
  }

  /**
   * Ends the command with `code`, printing `result` first under --json (what a returned value would have printed).
   * Returns normally for 0, unless the brain log is still pending (an explicit exit does not wait for it).
   */
  protected finish<T>(result: T, code: ExitCode): T {
    if (code !== EXIT.OK || this.brainPending) {
      this.exitWith(result, code)
    }
    return result
  }

  protected override async catch(
    error: Error & { oclif?: { exit?: number }; code?: string },
  ): Promise<unknown> {
    if (error.code === 'EEXIT') throw error
    const exit = this.#signal?.aborted ? EXIT.INTERRUPTED : deployErrorExit(error)
    if (exit !== undefined) {
      // A CLIError prints as a plain message (no stack) and carries the exit code.
      const cliError = new Errors.CLIError(error.message, { exit })
      cliError.name = error.name
      return super.catch(cliError)
    }
    return super.catch(error)
  }
}

import type { DeployReport } from '@dstack/deploy'
import { Args, Flags } from '@oclif/core'
import { DeployCommand, deployFlags, type PlanJson, reportsExit } from '../../lib/deploy.ts'
import { EXIT } from '../../lib/exit-codes.ts'

export default class DeployRollback extends DeployCommand {
  static override summary = 'Make an earlier release current again on each host, and check its health'
  static override description =
    `On each of the service's hosts in turn: takes the deploy lock, points \`current\` at the release, restarts the
service, reloads Caddy and checks its health; if that fails, the release that was current is put back. Default: the
newest release before the current one that no failed deploy marked bad. Nothing is built or uploaded: the release
must still be on the host (\`dstack deploy status\` lists them). --dry-run prints the commands and changes nothing.
Each report goes to the team brain's deploy log when a brain is configured.

Exit codes: 0 rolled back (or planned), 1 another error (a host that cannot be reached), 2 bad flags or --to names
the current release, 3 invalid dstack.yaml or unknown service, 6 the rollback failed, 7 no release to roll back to
(or no such host), 8 refused (locked by someone else, the target changed since the plan), 130 interrupted.`
  static override examples = [
    '<%= config.bin %> deploy rollback api',
    '<%= config.bin %> deploy rollback api --to 20261123T101500Z-3f2a9c1e0b --dry-run',
  ]
  static override args = {
    service: Args.string({ required: true, description: "a service under dstack.yaml's deploy:" }),
  }
  static override flags = {
    ...deployFlags,
    to: Flags.string({
      description: 'the release to make current (default: the newest good one before current)',
    }),
    'dry-run': Flags.boolean({
      description: 'print the plan of every host, with each command; change nothing',
    }),
  }

  async run(): Promise<{ plans: PlanJson[] } | { reports: DeployReport[] }> {
    const { args, flags } = await this.parse(DeployRollback)
    const file = this.deployFile(flags.workspace)
    const signal = this.interruptSignal()
    const options = { rollback: true, to: flags.to, host: flags.host, signal }
    if (flags['dry-run']) {
      const plans = await this.dryRun(file, args.service, options)
      return this.finish({ plans }, signal.aborted ? EXIT.INTERRUPTED : EXIT.OK)
    }
    const { reports } = await this.deployServices(file, [args.service], options)
    return this.finish({ reports }, signal.aborted ? EXIT.INTERRUPTED : reportsExit(reports))
  }
}

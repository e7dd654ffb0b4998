import { type DeployReport, deployOrder } from '@dstack/deploy'
import { Args, Flags } from '@oclif/core'
import { DeployCommand, deployFlags, type PlanJson, reportsExit } from '../../lib/deploy.ts'
import { EXIT } from '../../lib/exit-codes.ts'

export default class Deploy extends DeployCommand {
  static override summary =
    'Deploy a service to its hosts: build, release, switch, migrate, restart, health-check'
  static override description =
    `Builds the service from its repository and, on each of its hosts in turn (dstack.yaml's deploy: section), takes
the deploy lock, uploads a new release, points \`current\` at it, applies migrations, restarts the service, reloads
Caddy and checks its health; it stops at the first host that fails. A failure after the switch puts the previous
release back. --dry-run prints every command exactly as the run would execute it and changes nothing. --all deploys
every service in dependency order and stops at the first that does not deploy.

Each report goes to the team brain's deploy log when a brain is configured; no brain, or one that does not answer,
is a warning, never a failed deploy.

dstack.yaml (found in this directory or a parent, or --workspace), for example:
{ deploy: { api: { repo: ares, build: cargo build --release, artifact: target/release/ares,
  hosts: [ssh://deploy@vps1], root: /srv/ares, systemd: { unit: ares, sudo: true },
  health: { url: "http://127.0.0.1:3000/health" } } } }

Exit codes: 0 deployed (or planned), 1 another error (a secret that cannot be read, a host that cannot be reached),
2 bad flags, 3 invalid dstack.yaml or unknown service, 6 the deploy failed (rolled back, aborted before going live,
or failed and needs a person), 7 the service has no such host, 8 refused and nothing changed (locked by someone else,
the target changed since the plan, a breaking migration without --force), 130 interrupted (the rollback and the
unlock still ran).`
  static override examples = [
    '<%= config.bin %> deploy api --dry-run',
    '<%= config.bin %> deploy api',
    '<%= config.bin %> deploy api --host ssh://deploy@vps2 --json',
    '<%= config.bin %> deploy --all',
  ]
  static override args = {
    service: Args.string({ description: "a service under dstack.yaml's deploy:" }),
  }
  static override flags = {
    ...deployFlags,
    all: Flags.boolean({
      description: 'every service, in dependency order; stops at the first that does not deploy',
      exclusive: ['host'],
    }),
    'dry-run': Flags.boolean({
      description: 'print the plan of every host, with each command; change nothing',
    }),
    force: Flags.boolean({ description: 'apply migrations that are not backward-compatible' }),
  }

  async run(): Promise<{ plans: PlanJson[] } | { reports: DeployReport[]; notAttempted?: string[] }> {
    const { args, flags } = await this.parse(Deploy)
    if (Boolean(args.service) === Boolean(flags.all))
      this.error('name one service to deploy, or --all for every service', { exit: EXIT.USAGE })
    const file = this.deployFile(flags.workspace)
    const signal = this.interruptSignal()
    const names = flags.all ? await deployOrder(file) : [args.service!]
    if (names.length === 0) this.say(`nothing to deploy: no services under deploy: in ${file.path}`)
    const options = { force: flags.force, host: flags.host, signal }

    if (flags['dry-run']) {
      const plans: PlanJson[] = []
      for (const name of names) plans.push(...(await this.dryRun(file, name, options)))
      const code = signal.aborted ? EXIT.INTERRUPTED : plans.some((p) => p.refusal) ? EXIT.CONFLICT : EXIT.OK
      return this.finish({ plans }, code)
    }

    const { reports, notAttempted } = await this.deployServices(file, names, options)
    if (notAttempted.length > 0)
      this.say(`not attempted: ${notAttempted.join(', ')} (stopped after ${reports.at(-1)?.service})`)
    const result = flags.all ? { reports, notAttempted } : { reports }
    return this.finish(result, signal.aborted ? EXIT.INTERRUPTED : reportsExit(reports))
  }
}

import { closeAll, forceUnlock } from '@dstack/deploy'
import { Args, Flags } from '@oclif/core'
import { DeployCommand, deployFlags } from '../../lib/deploy.ts'
import { EXIT } from '../../lib/exit-codes.ts'

export default class DeployUnlock extends DeployCommand {
  static override summary = "Remove a service's deploy lock on its hosts, whoever holds it"
  static override description =
    `A deploy holds a lock on each host while it runs; it expires on its own (lock_ttl_s), so a crashed deploy never
blocks the next one for good. This removes it now, whoever holds it: first check with \`dstack deploy status\` that
nobody is deploying, since a deploy still running would go on without it. Requires --force.

Exit codes: 0 removed (or there was none), 1 a host cannot be reached, 2 --force missing or bad flags, 3 invalid
dstack.yaml or unknown service, 7 no such host.`
  static override examples = [
    '<%= config.bin %> deploy unlock api --force',
    '<%= config.bin %> deploy unlock api --force --host ssh://deploy@vps1',
  ]
  static override args = {
    service: Args.string({ required: true, description: "a service under dstack.yaml's deploy:" }),
  }
  static override flags = {
    ...deployFlags,
    force: Flags.boolean({ description: "really remove the lock, even someone else's" }),
  }

  async run(): Promise<{ service: string; hosts: Array<{ target: string; result: string }> }> {
    const { args, flags } = await this.parse(DeployUnlock)
    if (!flags.force)
      this.error(
        `this removes ${args.service}'s deploy lock whoever holds it, maybe a deploy running right now on ` +
          `someone else's machine; check \`dstack deploy status ${args.service}\`, then re-run with --force`,
        { exit: EXIT.USAGE },
      )
    const { service, targets } = this.openTargets(this.deployFile(flags.workspace), args.service, flags.host)
    const hosts: Array<{ target: string; result: string }> = []
    try {
      for (const target of targets) {
        const result = await forceUnlock(target, service)
        hosts.push({ target: target.name, result })
        this.say(`${service.name} → ${target.name}: ${result}`)
      }
    } finally {
      await closeAll(targets.map((target) => ({ target })))
    }
    return { service: service.name, hosts }
  }
}

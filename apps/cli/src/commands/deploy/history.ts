import { closeAll, type HistoryEntry, inspectTarget } from '@dstack/deploy'
import { Args, Flags } from '@oclif/core'
import { DeployCommand, deployFlags, historyLine } from '../../lib/deploy.ts'

export default class DeployHistory extends DeployCommand {
  static override summary = "A service's deploys and rollbacks on each host, newest first"
  static override description =
    `Reads each host's deploy history (the .dstack/history.jsonl the deploys append to): one line per deploy or
rollback with when it started, the release, the outcome and why it failed.

Exit codes: 0 done, 1 a host cannot be read, 2 bad flags, 3 invalid dstack.yaml or unknown service, 7 no such host.`
  static override examples = [
    '<%= config.bin %> deploy history api',
    '<%= config.bin %> deploy history api --limit 5 --json',
  ]
  static override args = {
    service: Args.string({ required: true, description: "a service under dstack.yaml's deploy:" }),
  }
  static override flags = {
    ...deployFlags,
    limit: Flags.integer({ description: 'entries per host (default 20)', min: 1, max: 10_000, default: 20 }),
  }

  async run(): Promise<{ service: string; hosts: Array<{ target: string; entries: HistoryEntry[] }> }> {
    const { args, flags } = await this.parse(DeployHistory)
    const { service, targets } = this.openTargets(this.deployFile(flags.workspace), args.service, flags.host)
    const hosts: Array<{ target: string; entries: HistoryEntry[] }> = []
    try {
      for (const target of targets) {
        const state = await inspectTarget(target, service, { historyLines: flags.limit })
        hosts.push({ target: target.name, entries: state.history.slice(-flags.limit).reverse() })
      }
    } finally {
      await closeAll(targets.map((target) => ({ target })))
    }
    for (const h of hosts) {
      const lines = h.entries.map((e) => `  ${historyLine(e)}`)
      this.say(`${service.name} → ${h.target}\n${lines.length > 0 ? lines.join('\n') : '  no deploys yet'}\n`)
    }
    return { service: service.name, hosts }
  }
}

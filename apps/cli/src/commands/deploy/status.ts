import { closeAll, type HistoryEntry, inspectTarget, serviceStatus } from '@dstack/deploy'
import { Args } from '@oclif/core'
import { DeployCommand, deployFlags, historyLine } from '../../lib/deploy.ts'
import { keyValues } from '../../lib/format.ts'

export interface HostStatus {
  target: string
  current: string | null
  releases: string[]
  /** Releases a failed deploy marked bad (never picked by a default rollback). */
  bad: string[]
  lock: { owner: string; expiresAt: string; expired: boolean } | null
  /** `running <pid>`, `active`, `stopped`, `unknown`. */
  status: string
  last: HistoryEntry | null
}

export default class DeployStatus extends DeployCommand {
  static override summary =
    'What each host of a service runs: current release, releases, lock, service, last deploy'
  static override description =
    `Reads each host of the service (changes nothing): the release \`current\` points at, the releases on disk (bad
ones marked), the deploy lock (whose, until when, expired or not), whether the service runs, and the last deploy or
rollback there.

Exit codes: 0 done, 1 a host cannot be read, 2 bad flags, 3 invalid dstack.yaml or unknown service, 7 no such host.`
  static override examples = [
    '<%= config.bin %> deploy status api',
    '<%= config.bin %> deploy status api --json',
  ]
  static override args = {
    service: Args.string({ required: true, description: "a service under dstack.yaml's deploy:" }),
  }
  static override flags = { ...deployFlags }

  async run(): Promise<{ service: string; hosts: HostStatus[] }> {
    const { args, flags } = await this.parse(DeployStatus)
    const { service, targets } = this.openTargets(this.deployFile(flags.workspace), args.service, flags.host)
    const hosts: HostStatus[] = []
    try {
      for (const target of targets) {
        const state = await inspectTarget(target, service)
        hosts.push({
          target: target.name,
          current: state.current,
          releases: state.releases,
          bad: [...state.bad].filter((r) => state.releases.includes(r)),
          lock: state.lock,
          status: await serviceStatus(target, service),
          last: state.history.at(-1) ?? null,
        })
      }
    } finally {
      await closeAll(targets.map((target) => ({ target })))
    }
    for (const h of hosts) {
      const mark = (r: string) =>
        `${r}${r === h.current ? ' (current)' : ''}${h.bad.includes(r) ? ' (bad)' : ''}`
      const lock = h.lock
        ? `${h.lock.owner}, ${h.lock.expired ? 'expired' : 'until'} ${h.lock.expiresAt}`
        : 'none'
      this.say(
        `${service.name} → ${h.target}\n${indent(
          keyValues([
            ['current', h.current ?? 'nothing deployed'],
            ['service', h.status],
            ['lock', lock],
            ['last', h.last ? historyLine(h.last) : 'none'],
            [
              'releases',
              h.releases.length === 0
                ? 'none'
                : h.releases.map(mark).join(`\n${' '.repeat('releases  '.length)}`),
            ],
          ]),
        )}\n`,
      )
    }
    return { service: service.name, hosts }
  }
}

function indent(text: string): string {
  return text.replace(/^/gm, '  ')
}

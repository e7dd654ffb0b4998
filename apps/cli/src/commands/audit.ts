import { type AuditReport, auditRepos } from '@dstack/repo-graph'
import { Flags } from '@oclif/core'
import { DstackCommand } from '../lib/command.ts'
import { EXIT } from '../lib/exit-codes.ts'
import { fleetFlags, loadFleet } from '../lib/fleet.ts'

export default class Audit extends DstackCommand {
  static override summary =
    'Loose ends across every repository: uncommitted or unpushed work, stale work and branches, changed code without tests'
  static override description =
    `Findings per repository: uncommitted changes, commits not on any remote, work untouched for --stale-days (30),
branches nobody touches or whose upstream is gone, and changed code (uncommitted or unpushed) with no test beside it
(Rust inline #[cfg(test)] or tests/, x.test.ts / x.spec.ts, x_test.go, test_x.py).

Exit codes: 0 done, 2 bad flags, 3 invalid dstack.yaml, 6 with --strict: at least one warning.`
  static override examples = [
    '<%= config.bin %> audit',
    '<%= config.bin %> audit --stale-days 14 --strict --json',
  ]
  static override flags = {
    ...fleetFlags,
    'stale-days': Flags.integer({
      description: 'work or branches untouched this long are stale (default 30)',
      min: 0,
    }),
    strict: Flags.boolean({ description: 'exit 6 when there is any warning' }),
  }

  async run(): Promise<AuditReport> {
    const { flags } = await this.parse(Audit)
    const { graph } = await loadFleet(flags)
    const report = await auditRepos(graph.repos, { staleDays: flags['stale-days'] })
    const lines: string[] = []
    for (const repo of graph.repos) {
      const findings = report.findings.filter((f) => f.repo === repo.id)
      if (findings.length === 0) continue
      lines.push(repo.id)
      for (const f of findings) {
        const files = f.files?.length
          ? `: ${f.files.slice(0, 5).join(', ')}${f.files.length > 5 ? `, +${f.files.length - 5}` : ''}`
          : ''
        lines.push(`  ${f.severity === 'warn' ? '!' : '·'} ${f.kind}  ${f.message}${files}`)
      }
    }
    for (const { repo, message } of report.errors) lines.push(`${repo}: could not audit: ${message}`)
    const summary = Object.entries(report.summary)
      .map(([kind, n]) => `${n} ${kind}`)
      .join(', ')
    this.say(
      [...lines, lines.length ? '' : 'nothing to report', summary]
        .filter((l, i, all) => l !== '' || i < all.length - 1)
        .join('\n'),
    )
    if (flags.strict && report.findings.some((f) => f.severity === 'warn')) {
      this.exitWith(report, EXIT.UNHEALTHY)
    }
    return report
  }
}

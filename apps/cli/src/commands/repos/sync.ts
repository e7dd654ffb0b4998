import { formatSyncLine, type SyncResult, syncRepos } from '@dstack/repo-graph'
import { Flags } from '@oclif/core'
import { DstackCommand } from '../../lib/command.ts'
import { EXIT } from '../../lib/exit-codes.ts'
import { fleetFlags, loadFleet, Progress } from '../../lib/fleet.ts'

export default class ReposSync extends DstackCommand {
  static override summary =
    'Fetch and fast-forward every repository; never pushes, never forces, skips dirty trees'
  static override description =
    `For each repository: git fetch, then fast-forward the current branch to its upstream (pull --ff-only). Dirty
working trees, detached HEADs, branches without an upstream and diverged branches are left exactly as they are and
reported. One line per repository; a progress bar on a terminal. --concurrency defaults to 4 (remote hosts limit
parallel ssh connections).

Exit codes: 0 every repository updated, up to date or skipped; 2 bad flags; 3 invalid dstack.yaml; 6 at least one
repository failed (its line says why).`
  static override examples = ['<%= config.bin %> repos sync', '<%= config.bin %> repos sync --dry-run --json']
  static override flags = {
    ...fleetFlags,
    'dry-run': Flags.boolean({ description: 'fetch and report what would be fast-forwarded; move nothing' }),
    concurrency: Flags.integer({ description: 'repositories synced at once (default 4)', min: 1, max: 64 }),
  }

  async run(): Promise<{ results: SyncResult[] }> {
    const { flags } = await this.parse(ReposSync)
    const { graph } = await loadFleet(flags)
    const width = Math.max(0, ...graph.repos.map((r) => r.id.length))
    const progress = new Progress(this.jsonEnabled())
    const results = await syncRepos(graph.repos, {
      dryRun: flags['dry-run'],
      concurrency: flags.concurrency,
      onProgress: (done, total, result) => {
        progress.done()
        this.say(formatSyncLine(result, width))
        progress.update(done, total, result.repo)
      },
    })
    progress.done()
    const count = (action: string) => results.filter((r) => r.action === action).length
    this.say(
      `${count('updated')} updated, ${count('would-update')} would update, ${count('up-to-date')} up to date, ${count('skipped')} skipped, ${count('failed')} failed`,
    )
    if (count('failed') > 0) {
      this.exitWith({ results }, EXIT.UNHEALTHY)
    }
    return { results }
  }
}

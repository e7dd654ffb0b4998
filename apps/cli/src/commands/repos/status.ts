import { dependentRepos, type RepoState, repoStates } from '@dstack/repo-graph'
import { Flags } from '@oclif/core'
import { DstackCommand } from '../../lib/command.ts'
import { fleetFlags, loadFleet, Progress } from '../../lib/fleet.ts'

type Row = RepoState & { dependents: string[] }

export default class ReposStatus extends DstackCommand {
  static override summary = 'Git state of every repository at once, and how many repositories depend on each'
  static override description =
    `Branch, ahead/behind its upstream, staged/unstaged/untracked/conflicted files, stashes, unpushed commits and
stale branches, read in parallel (--concurrency, default 8). Each repository also shows the repositories that
depend on it, so "3 behind, 4 repos depend on it" is one line. --fetch fetches first.

Exit codes: 0 done, 2 bad flags, 3 invalid dstack.yaml.`
  static override examples = [
    '<%= config.bin %> repos status',
    '<%= config.bin %> repos status --fetch --stale-days 14 --json',
  ]
  static override flags = {
    ...fleetFlags,
    fetch: Flags.boolean({ description: 'git fetch each repository first' }),
    'stale-days': Flags.integer({
      description: 'a branch untouched this long is stale (default 30)',
      min: 0,
    }),
    concurrency: Flags.integer({ description: 'repositories read at once (default 8)', min: 1, max: 256 }),
  }

  async run(): Promise<{ repos: Row[] }> {
    const { flags } = await this.parse(ReposStatus)
    const { graph } = await loadFleet(flags)
    const progress = new Progress(this.jsonEnabled())
    const states = await repoStates(graph.repos, {
      fetch: flags.fetch,
      staleDays: flags['stale-days'],
      concurrency: flags.concurrency,
      onProgress: (done, total, state) => progress.update(done, total, state.repo),
    })
    progress.done()
    const dependents = dependentRepos(graph)
    const rows = states.map((state) => ({ ...state, dependents: dependents.get(state.repo) ?? [] }))
    const width = Math.max(0, ...rows.map((r) => r.repo.length))
    this.say(rows.map((r) => `${r.repo.padEnd(width)}  ${describe(r)}`).join('\n'))
    return { repos: rows }
  }
}

function describe(r: Row): string {
  if (r.error) return `error: ${r.error}`
  const parts = [r.branch ?? `detached at ${r.head?.slice(0, 7) ?? '?'}`]
  if (r.upstreamGone) parts.push('upstream gone')
  else if (r.upstream === null) parts.push('no upstream')
  else if (r.ahead || r.behind) parts.push(`↑${r.ahead} ↓${r.behind}`)
  else parts.push('up to date')
  const dirty = [
    r.staged && `${r.staged} staged`,
    r.unstaged && `${r.unstaged} modified`,
    r.untracked && `${r.untracked} untracked`,
    r.conflicted && `${r.conflicted} conflicted`,
  ].filter(Boolean)
  parts.push(dirty.length ? dirty.join(', ') : 'clean')
  if (r.unpushed && r.upstream === null) parts.push(`${r.unpushed} unpushed`)
  if (r.stashes) parts.push(`${r.stashes} stashed`)
  if (r.staleBranches.length) parts.push(`stale: ${r.staleBranches.join(', ')}`)
  if (r.fetchError) parts.push(`fetch failed: ${r.fetchError}`)
  if (r.dependents.length === 1) parts.push('1 repo depends on it')
  else if (r.dependents.length > 1) parts.push(`${r.dependents.length} repos depend on it`)
  return parts.join(' · ')
}

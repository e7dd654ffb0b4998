// What the multi-repo commands share: which repositories (--root, dstack.yaml, or the current repository's
// siblings), the graph built over them with the parse cache, and a progress bar that only a terminal sees.

import { dstackHome } from '@dstack/config'
import {
  buildGraph,
  defaultCacheFile,
  loadWorkspaceFile,
  type Problem,
  type RepoGraph,
  resolveWorkspace,
  type WorkspaceFile,
} from '@dstack/repo-graph'
import { Flags } from '@oclif/core'

export const fleetFlags = {
  root: Flags.string({
    description:
      'directory to search for repositories (repeatable); default: dstack.yaml roots, else the parent of this repository',
    multiple: true,
  }),
  depth: Flags.integer({
    description: 'directory levels below each root to search (default 3)',
    min: 0,
    max: 32,
  }),
  workspace: Flags.string({ description: 'the dstack.yaml to use instead of the nearest one' }),
  'no-cache': Flags.boolean({ description: 'read every manifest instead of reusing parsed ones' }),
}

export interface FleetFlags {
  root?: string[]
  depth?: number
  workspace?: string
  'no-cache'?: boolean
}

export interface Fleet {
  workspace: WorkspaceFile
  graph: RepoGraph
}

/** The workspace file and the graph the flags select. */
export async function loadFleet(flags: FleetFlags): Promise<Fleet> {
  const workspace = flags.workspace ? loadWorkspaceFile(flags.workspace) : resolveWorkspace(process.cwd())
  const roots = flags.root && flags.root.length > 0 ? flags.root : workspace.roots
  const graph = await buildGraph({
    roots,
    depth: flags.depth ?? workspace.depth,
    ignore: workspace.ignore,
    cacheFile: flags['no-cache'] ? null : defaultCacheFile(dstackHome(), roots),
  })
  return { workspace, graph }
}

/** `file:line: kind: message`, the form editors jump to. */
export function formatProblem(problem: Problem): string {
  const at =
    problem.source.line === null ? problem.source.file : `${problem.source.file}:${problem.source.line}`
  return `${at}: ${problem.kind}: ${problem.message}`
}

/**
 * A one-line progress bar on stderr, drawn only when stderr is a terminal and output is not JSON; pipes and CI logs
 * stay clean.
 */
export class Progress {
  readonly #enabled: boolean
  #drawn = false

  constructor(json: boolean) {
    this.#enabled = !json && process.stderr.isTTY === true
  }

  update(done: number, total: number, label: string): void {
    if (!this.#enabled) return
    const width = 24
    const filled = total === 0 ? width : Math.round((done / total) * width)
    const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${label}`
    process.stderr.write(`\r\x1b[2K${bar.slice(0, (process.stderr.columns ?? 80) - 1)}`)
    this.#drawn = true
  }

  /** Clears the bar so the next line starts clean. */
  done(): void {
    if (this.#drawn) process.stderr.write('\r\x1b[2K')
    this.#drawn = false
  }
}

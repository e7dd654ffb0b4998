import type { Edge, RepoGraph } from '../types.ts'
import { GraphIndex } from './index-graph.ts'

export interface WhyResult {
  /** The packages `from` and `to` named (a package id, a package name, or a repository id). */
  from: string[]
  to: string[]
  /** The shortest dependency chain from a `from` package to a `to` package, each edge with its manifest line; null
   *  when `from` does not depend on `to`. */
  path: Edge[] | null
  unknown: string[]
}

/**
 * Why does A depend on B? The shortest chain of dependency edges from A to B, each with the manifest file and line
 * that creates it.
 *
 * @example
 * why(graph, 'ehb', 'dirmacs-core').path
 * // [{ from: 'npm:ehb', to: 'cargo:eruka', source: { file: '/opt/ehb/package.json', line: 12 }, … },
 * //  { from: 'cargo:eruka', to: 'cargo:dirmacs-core', source: { file: '/opt/eruka/Cargo.toml', line: 9 }, … }]
 */
export function why(graph: RepoGraph, from: string, to: string): WhyResult {
  const index = new GraphIndex(graph)
  const a = index.select([from])
  const b = index.select([to])
  const result: WhyResult = {
    from: a.packages.map((p) => p.id),
    to: b.packages.map((p) => p.id),
    path: null,
    unknown: [...a.unknown, ...b.unknown],
  }
  const targets = new Set(result.to)
  const reachedBy = new Map<string, Edge | null>(result.from.map((id) => [id, null]))
  const queue = [...result.from]
  for (let i = 0; i < queue.length; i++) {
    const node = queue[i]!
    for (const edge of index.dependencies.get(node) ?? []) {
      if (reachedBy.has(edge.to)) continue
      reachedBy.set(edge.to, edge)
      if (targets.has(edge.to)) {
        const path: Edge[] = []
        for (let e: Edge | null | undefined = edge; e; e = reachedBy.get(e.from)) path.unshift(e)
        result.path = path
        return result
      }
      queue.push(edge.to)
    }
  }
  return result
}

import type { DependencyScope, Edge, PackageNode, RepoGraph } from '../types.ts'

/** Adjacency of a graph in both directions, built once per query. */
export class GraphIndex {
  readonly nodes = new Map<string, PackageNode>()
  /** Edges out of a package: what it depends on. */
  readonly dependencies = new Map<string, Edge[]>()
  /** Edges into a package: what depends on it. */
  readonly dependents = new Map<string, Edge[]>()

  readonly graph: RepoGraph

  /** `scopes` limits the edges (e.g. leave dev dependencies out); default: all. */
  constructor(graph: RepoGraph, scopes?: readonly DependencyScope[]) {
    this.graph = graph
    for (const node of graph.packages) {
      this.nodes.set(node.id, node)
      this.dependencies.set(node.id, [])
      this.dependents.set(node.id, [])
    }
    for (const edge of graph.edges) {
      if (scopes && !scopes.includes(edge.scope)) continue
      this.dependencies.get(edge.from)?.push(edge)
      this.dependents.get(edge.to)?.push(edge)
    }
  }

  /**
   * The packages a person means: a package id (`cargo:core`), a package name (`core`, every ecosystem), or a
   * repository id (every package in it). Unknown selectors come back in `unknown`.
   *
   * @example
   * new GraphIndex(graph).select(['ares', 'npm:web']) // { packages: [cargo:ares, npm:web], unknown: [] }
   */
  select(selectors: readonly string[]): { packages: PackageNode[]; unknown: string[] } {
    const found = new Map<string, PackageNode>()
    const unknown: string[] = []
    for (const selector of selectors) {
      const byId = this.nodes.get(selector)
      const matches = byId
        ? [byId]
        : this.graph.packages.filter((p) => p.name === selector || p.repo === selector)
      if (matches.length === 0) unknown.push(selector)
      for (const node of matches) found.set(node.id, node)
    }
    return { packages: [...found.values()], unknown }
  }
}

/** `path:line` for people. */
export function where(edge: Edge): string {
  return edge.source.line === null ? edge.source.file : `${edge.source.file}:${edge.source.line}`
}

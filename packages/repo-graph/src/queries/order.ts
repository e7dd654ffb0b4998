import type { DependencyScope, Edge, RepoGraph } from '../types.ts'
import { GraphIndex } from './index-graph.ts'

/** A dependency cycle: `nodes[0]` depends on `nodes[1]` … and the last on `nodes[0]`, through `edges`. */
export interface Cycle {
  nodes: string[]
  edges: Edge[]
}

export interface Ordering {
  /** Dependencies before dependents. Members of a cycle are adjacent, in name order. */
  order: string[]
  /** The same nodes in levels: everything in a level depends only on earlier levels, so a level can run in parallel. */
  levels: string[][]
  cycles: Cycle[]
}

export interface OrderOptions {
  /** Order only these nodes (still respecting dependencies that go through others); default all. */
  only?: readonly string[]
  /** Only edges of these scopes count; default all. */
  scopes?: readonly DependencyScope[]
}

/**
 * Packages in build order: every package after the packages it depends on. Cycles do not stop the ordering: each
 * cycle is reported with the manifest lines that close it, and its members are placed together.
 *
 * @example
 * orderPackages(graph).levels // [['cargo:dirmacs-core'], ['cargo:ares', 'cargo:eruka'], ['npm:ehb']]
 */
export function orderPackages(graph: RepoGraph, options: OrderOptions = {}): Ordering {
  const index = new GraphIndex(graph, options.scopes)
  const out = new Map<string, Array<{ to: string; edge: Edge }>>()
  for (const [id, edges] of index.dependencies)
    out.set(
      id,
      edges.map((edge) => ({ to: edge.to, edge })),
    )
  return restrict(topological(out), options.only)
}

/**
 * Repositories in build order: a repository after every repository it depends on through any package edge.
 *
 * @example
 * orderRepos(graph).order // ['dirmacs-core', 'eruka', 'ares', 'ehb']
 */
export function orderRepos(graph: RepoGraph, options: OrderOptions = {}): Ordering {
  const index = new GraphIndex(graph, options.scopes)
  const out = new Map<string, Array<{ to: string; edge: Edge }>>()
  for (const repo of graph.repos) out.set(repo.id, [])
  for (const [id, edges] of index.dependencies) {
    const from = index.nodes.get(id)!.repo
    for (const edge of edges) {
      const to = index.nodes.get(edge.to)!.repo
      if (to !== from && !out.get(from)!.some((e) => e.to === to)) out.get(from)!.push({ to, edge })
    }
  }
  return restrict(topological(out), options.only)
}

function restrict(ordering: Ordering, only: readonly string[] | undefined): Ordering {
  if (!only) return ordering
  const keep = new Set(only)
  return {
    order: ordering.order.filter((n) => keep.has(n)),
    levels: ordering.levels
      .map((level) => level.filter((n) => keep.has(n)))
      .filter((level) => level.length > 0),
    cycles: ordering.cycles.filter((c) => c.nodes.some((n) => keep.has(n))),
  }
}

type Adjacency = Map<string, Array<{ to: string; edge: Edge }>>

/** Tarjan's strongly connected components, then levels over the condensed DAG; deterministic by node name. */
function topological(out: Adjacency): Ordering {
  const ids = [...out.keys()].sort()
  const indexOf = new Map<string, number>()
  const low = new Map<string, number>()
  const onStack = new Set<string>()
  const stack: string[] = []
  const components: string[][] = []
  let counter = 0

  // Iterative, so a 10,000-node chain cannot overflow the call stack.
  for (const start of ids) {
    if (indexOf.has(start)) continue
    const work: Array<{ node: string; next: number }> = [{ node: start, next: 0 }]
    indexOf.set(start, counter)
    low.set(start, counter++)
    stack.push(start)
    onStack.add(start)
    while (work.length > 0) {
      const frame = work[work.length - 1]!
      const edges = out.get(frame.node) ?? []
      if (frame.next < edges.length) {
        const to = edges[frame.next++]!.to
        if (!out.has(to)) continue
        if (!indexOf.has(to)) {
          indexOf.set(to, counter)
          low.set(to, counter++)
          stack.push(to)
          onStack.add(to)
          work.push({ node: to, next: 0 })
        } else if (onStack.has(to)) low.set(frame.node, Math.min(low.get(frame.node)!, indexOf.get(to)!))
        continue
      }
      work.pop()
      const parent = work[work.length - 1]
      if (parent) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!))
      if (low.get(frame.node) === indexOf.get(frame.node)) {
        const component: string[] = []
        let member: string
        do {
          member = stack.pop()!
          onStack.delete(member)
          component.push(member)
        } while (member !== frame.node)
        components.push(component.sort())
      }
    }
  }

  const componentOf = new Map<string, number>()
  components.forEach((c, i) => {
    for (const n of c) componentOf.set(n, i)
  })
  // Tarjan emits components dependencies-first; a component's level is one more than its deepest dependency's.
  const level = new Array<number>(components.length).fill(0)
  components.forEach((component, i) => {
    for (const n of component)
      for (const { to } of out.get(n) ?? []) {
        const j = componentOf.get(to)
        if (j !== undefined && j !== i) level[i] = Math.max(level[i]!, level[j]! + 1)
      }
  })
  const levels: string[][] = []
  components.forEach((component, i) => {
    levels[level[i]!] ??= []
    levels[level[i]!]!.push(...component)
  })
  for (const l of levels) l.sort()

  const cycles: Cycle[] = []
  for (const component of components) {
    const self = out.get(component[0]!)?.find((e) => e.to === component[0])
    if (component.length > 1) cycles.push(cycleThrough(component, out))
    else if (self) cycles.push({ nodes: [component[0]!], edges: [self.edge] })
  }
  return { order: levels.flat(), levels, cycles }
}

/** The shortest cycle through the component's first node, found breadth first inside the component. */
function cycleThrough(component: string[], out: Adjacency): Cycle {
  const members = new Set(component)
  const start = component[0]!
  const parent = new Map<string, { from: string; edge: Edge }>()
  const queue = [start]
  for (let i = 0; i < queue.length; i++) {
    const node = queue[i]!
    for (const { to, edge } of out.get(node) ?? []) {
      if (!members.has(to) || parent.has(to)) continue
      parent.set(to, { from: node, edge })
      if (to === start) {
        const edges: Edge[] = []
        const nodes: string[] = []
        let at = start
        do {
          const step = parent.get(at)!
          edges.unshift(step.edge)
          nodes.unshift(step.from)
          at = step.from
        } while (at !== start)
        return { nodes, edges }
      }
      queue.push(to)
    }
  }
  return { nodes: component, edges: [] } // unreachable: a strongly connected component always closes
}

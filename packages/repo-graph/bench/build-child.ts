// One buildGraph (and optionally one affected query) in a fresh Node process, for the bench's process timings and
// peak RSS. Usage: node bench/build-child.ts '<json>' with { roots, cacheFile, file? } (file: an absolute path whose
// change to query). Prints one JSON line: build and affected times, maxRSS (KiB), sizes and the affected names.

// The built package, as an application that depends on it loads it.
import { buildGraph, affected as runAffected } from '../dist/index.js'

const args = JSON.parse(process.argv[2] ?? '{}') as {
  roots: string[]
  cacheFile: string | null
  file?: string
}
const started = performance.now()
const graph = await buildGraph({ roots: args.roots, cacheFile: args.cacheFile })
const buildMs = performance.now() - started
let affected: string[] | null = null
let affectedMs: number | null = null
if (args.file) {
  const queryStarted = performance.now()
  const result = runAffected(graph, { files: [args.file] })
  affectedMs = performance.now() - queryStarted
  const names = new Map(graph.packages.map((p) => [p.id, p.name]))
  affected = result.packages.map((p) => names.get(p.id) ?? p.id)
}
console.log(
  JSON.stringify({
    buildMs,
    affectedMs,
    /** Since the process's time origin: module loading + build + query. */
    sinceStartMs: performance.now(),
    maxRssKb: process.resourceUsage().maxRSS,
    repos: graph.repos.length,
    packages: graph.packages.length,
    edges: graph.edges.length,
    affected,
  }),
)

// The graph as text for people and tools: Graphviz dot, Mermaid, a self-contained SVG (no Graphviz needed), JSON.

import { orderPackages } from './queries/order.ts'
import type { EdgeKind, RepoGraph } from './types.ts'

export type GraphFormat = 'dot' | 'mermaid' | 'svg' | 'json'

const EDGE_STYLE: Record<EdgeKind, { dot: string; mermaid: string; svg: string }> = {
  path: { dot: 'solid', mermaid: '-->', svg: '' },
  workspace: { dot: 'bold', mermaid: '==>', svg: '' },
  git: { dot: 'dashed', mermaid: '-.->', svg: '6 4' },
  registry: { dot: 'dotted', mermaid: '-.->', svg: '2 3' },
}

/**
 * Renders the graph: packages grouped by repository, edges labelled with their kind, dependents pointing at
 * what they depend on.
 *
 * @example
 * writeFileSync('fleet.svg', renderGraph(graph, 'svg'))
 * renderGraph(graph, 'mermaid') // 'flowchart LR\n  subgraph r0["ares"]\n …'
 */
export function renderGraph(graph: RepoGraph, format: GraphFormat): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(graph, null, 2)}\n`
    case 'dot':
      return dot(graph)
    case 'mermaid':
      return mermaid(graph)
    case 'svg':
      return svg(graph)
  }
}

function quote(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`
}

function byRepo(graph: RepoGraph): Map<string, string[]> {
  const groups = new Map<string, string[]>(graph.repos.map((r) => [r.id, []]))
  for (const p of graph.packages) groups.get(p.repo)?.push(p.id)
  return groups
}

function dot(graph: RepoGraph): string {
  const lines = ['digraph repos {', '  rankdir=LR;', '  node [shape=box, fontname="Helvetica"];']
  let i = 0
  for (const [repo, ids] of byRepo(graph)) {
    if (ids.length === 0) continue
    lines.push(`  subgraph cluster_${i++} {`, `    label=${quote(repo)};`)
    for (const id of ids) lines.push(`    ${quote(id)};`)
    lines.push('  }')
  }
  for (const e of graph.edges)
    lines.push(
      `  ${quote(e.from)} -> ${quote(e.to)} [style=${EDGE_STYLE[e.kind].dot}, label=${quote(e.kind)}];`,
    )
  lines.push('}')
  return `${lines.join('\n')}\n`
}

function mermaid(graph: RepoGraph): string {
  const ids = new Map(graph.packages.map((p, i) => [p.id, `p${i}`]))
  // Mermaid labels cannot hold a raw double quote; #quot; is its escape.
  const label = (text: string) => `"${text.replace(/"/g, '#quot;')}"`
  const lines = ['flowchart LR']
  let i = 0
  for (const [repo, members] of byRepo(graph)) {
    if (members.length === 0) continue
    lines.push(`  subgraph r${i++}[${label(repo)}]`)
    for (const id of members) lines.push(`    ${ids.get(id)}[${label(id)}]`)
    lines.push('  end')
  }
  for (const e of graph.edges)
    lines.push(`  ${ids.get(e.from)} ${EDGE_STYLE[e.kind].mermaid}|${e.kind}| ${ids.get(e.to)}`)
  return `${lines.join('\n')}\n`
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

/** A layered layout: columns are dependency levels (dependencies on the left), rows are packages in name order. */
function svg(graph: RepoGraph): string {
  const { levels } = orderPackages(graph)
  const boxW = 220
  const boxH = 34
  const gapX = 90
  const gapY = 16
  const pad = 20
  const at = new Map<string, { x: number; y: number }>()
  for (const [col, level] of levels.entries())
    for (const [row, id] of level.entries())
      at.set(id, { x: pad + col * (boxW + gapX), y: pad + row * (boxH + gapY) })
  const width = pad * 2 + Math.max(1, levels.length) * (boxW + gapX) - gapX
  const height = pad * 2 + Math.max(1, ...levels.map((l) => l.length)) * (boxH + gapY) - gapY
  const repoOf = new Map(graph.packages.map((p) => [p.id, p.repo]))
  const repos = graph.repos.map((r) => r.id)
  const hue = (id: string) => Math.round((repos.indexOf(repoOf.get(id) ?? '') * 137.5) % 360)
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker></defs>',
  ]
  for (const e of graph.edges) {
    const a = at.get(e.from)
    const b = at.get(e.to)
    if (!a || !b) continue
    // From the dependent's left edge to the dependency's right edge (dependencies sit in earlier columns).
    const x1 = a.x
    const y1 = a.y + boxH / 2
    const x2 = b.x + boxW
    const y2 = b.y + boxH / 2
    const dash = EDGE_STYLE[e.kind].svg ? ` stroke-dasharray="${EDGE_STYLE[e.kind].svg}"` : ''
    const heavy = e.kind === 'workspace' ? 2 : 1.2
    parts.push(
      `<path d="M ${x1} ${y1} C ${x1 - gapX / 2} ${y1}, ${x2 + gapX / 2} ${y2}, ${x2} ${y2}" fill="none" stroke="#555" stroke-width="${heavy}"${dash} marker-end="url(#arrow)"><title>${escapeXml(`${e.from} → ${e.to} (${e.kind}) ${e.source.file}:${e.source.line ?? ''}`)}</title></path>`,
    )
  }
  for (const [id, { x, y }] of at) {
    const text = id.length > 32 ? `${id.slice(0, 31)}…` : id
    parts.push(
      `<g><title>${escapeXml(`${id} (${repoOf.get(id)})`)}</title><rect x="${x}" y="${y}" width="${boxW}" height="${boxH}" rx="6" fill="hsl(${hue(id)} 70% 92%)" stroke="hsl(${hue(id)} 40% 45%)"/><text x="${x + 8}" y="${y + 14}">${escapeXml(text)}</text><text x="${x + 8}" y="${y + 28}" fill="#666" font-size="10">${escapeXml(repoOf.get(id) ?? '')}</text></g>`,
    )
  }
  parts.push('</svg>')
  return `${parts.join('\n')}\n`
}

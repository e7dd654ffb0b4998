// Snapshots: the page as an indented outline of roles and names, one line per element, with refs the agent acts on.
// Hidden elements are left out, injection-like text is flagged, and a token budget keeps one snapshot from filling
// the agent's context (playwright-mcp snapshots run to 45k tokens median, 391k at p95 on real pages).
import type { Frame, Page } from 'playwright-core'
import { z } from 'zod'
import { FLAG, isInjectionLike, safeDecode } from './defences.ts'
import { PageOptionsError, scopeGone } from './errors.ts'
import type { PageEntry, SnapshotResult } from './inpage.ts'
import {
  CHARS_PER_TOKEN,
  callPage,
  estimateTokens,
  type RefInfo,
  resolveElement,
  type TabRefs,
  visibleChildFrames,
} from './refs.ts'

export { extractText, extractTextDetailed } from './defences.ts'
export { RefError, type RefErrorCode } from './errors.ts'
export {
  parseRef,
  type RefInfo,
  resolveRef,
  resolveTarget,
  TabRefs,
} from './refs.ts'

const snapshotOptionsSchema = z.strictObject({
  /** Only interactive elements (controls, links, and elements the page made clickable), as a flat list. */
  interactive: z.boolean().optional(),
  /** Only this part of the page: a @ref or a CSS selector matching one element. */
  selector: z.string().trim().min(1).max(2000).optional(),
  /** Token budget of the returned text (estimated at 2.6 characters a token, a ceiling); default 8000. */
  maxTokens: z.number().int().min(100).max(1_000_000).optional(),
  /** A unified diff against this tab's previous snapshot of the same view, instead of the whole text. */
  diff: z.boolean().optional(),
})

/** Options of `takeSnapshot`. */
export type SnapshotOptions = z.input<typeof snapshotOptionsSchema>

export interface SnapshotStats {
  /** Lines of the whole snapshot (before a diff or the budget). */
  lines: number
  /** Interactive elements in it. */
  interactive: number
  /** Hidden elements (with content) left out. */
  hidden: number
  /** Lines marked `[flagged: injection-like]`. */
  flagged: number
  /** Lines of the returned text left out to stay under the budget. */
  truncatedLines: number
  /** Estimated tokens of the returned text. */
  estTokens: number
}

export interface Snapshot {
  generation: number
  /** The outline, or (diff) a unified diff against snapshot `diffAgainst`. */
  text: string
  /** The refs that appear in `text`. */
  refs: Record<string, RefInfo>
  stats: SnapshotStats
  /** The generation the diff is against; null when `text` is the whole snapshot. */
  diffAgainst: number | null
}

export const DEFAULT_MAX_TOKENS = 8000
const NAME_SHOWN = 100
const VALUE_SHOWN = 300

function clipText(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}

function quote(text: string): string {
  return `"${clipText(text, NAME_SHOWN).replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`
}

function inline(text: string): string {
  return clipText(text.replace(/\r?\n/g, '\\n'), VALUE_SHOWN)
}

/** One formatted line, and whether page text in it reads like an injection. */
function formatEntry(entry: PageEntry): { line: string; flagged: boolean } {
  const indent = '  '.repeat(entry.depth)
  const flagged = isInjectionLike(entry.name) || (entry.value !== null && isInjectionLike(entry.value))
  let line: string
  if (entry.role === 'text') line = `${indent}- text: ${inline(entry.value ?? '')}`
  else {
    line = `${indent}- ${entry.role}`
    if (entry.name) line += ` ${quote(entry.name)}`
    for (const state of entry.states) line += ` [${state}]`
    if (entry.id !== null) line += ` [ref=e${entry.id}]`
    if (entry.value !== null && entry.value !== '') line += `: ${inline(entry.value)}`
  }
  return { line: flagged ? `${line} ${FLAG}` : line, flagged }
}

interface Line {
  text: string
  id: number | null
}

/**
 * Takes a snapshot of the page (every visible frame, each under a `[frame …] url` line) and remembers its refs.
 * Lines look like `- button "Submit" [ref=e2]`, `- textbox "Email" [ref=e3]: a@b.c`, `- checkbox "Remember me"
 * [checked] [ref=e4]`; password values show as `••••`. A ref stays with its element across snapshots and is never
 * given to another element.
 *
 * @example
 * const snap = await takeSnapshot(page, refs, { interactive: true, maxTokens: 2000 })
 * snap.text // '[frame main] http://127.0.0.1:3000/login\n- textbox "Email" [ref=e3]\n…'
 */
export async function takeSnapshot(
  page: Page,
  refs: TabRefs,
  options: SnapshotOptions = {},
): Promise<Snapshot> {
  const parsed = snapshotOptionsSchema.safeParse(options)
  if (!parsed.success)
    throw new PageOptionsError(
      'snapshot',
      parsed.error.issues.map((i) => `${i.path.join('.') || 'options'}: ${i.message}`).join('; '),
    )
  const { interactive = false, selector, maxTokens = DEFAULT_MAX_TOKENS, diff = false } = parsed.data

  return refs.exclusive(page, async () => {
    const generation = refs.nextGeneration()
    const lines: Line[] = []
    const stats = { hidden: 0, interactive: 0, flagged: 0 }

    let start = page.mainFrame()
    let rootId: number | null = null
    if (selector !== undefined) {
      const scope = await resolveElement(page, refs, selector, null)
      await scope.handle.dispose()
      start = scope.frame
      rootId = scope.id
    }

    const visit = async (frame: Frame, root: number | null, label: string): Promise<void> => {
      const result = await callPage<SnapshotResult>(refs, frame, {
        op: 'snapshot',
        rootId: root,
        interactive,
      })
      if (result.missingRoot) throw scopeGone(selector ?? '')
      stats.hidden += result.hidden
      const own: Line[] = []
      for (const entry of result.entries) {
        if (entry.interactive) stats.interactive++
        const { line, flagged } = formatEntry(entry)
        if (flagged) stats.flagged++
        own.push({ text: line, id: entry.id })
        if (entry.id !== null)
          refs.remember({
            id: entry.id,
            role: entry.role,
            name: entry.name,
            frameUrl: result.url,
            generation,
            token: result.token,
            frame,
          })
      }
      // Child frames with nothing visible add no section: an empty header costs tokens and says nothing.
      if (own.length > 0 || root !== null || frame === start) {
        // The URL is page-controlled too (a query string can carry instructions).
        const url = frame.url()
        const urlFlagged = isInjectionLike(safeDecode(url))
        if (urlFlagged) stats.flagged++
        lines.push({ text: `[frame${label}] ${url}${urlFlagged ? ` ${FLAG}` : ''}`, id: null }, ...own)
      }
      for (const child of await visibleChildFrames(refs, frame, result.frames))
        await visit(child.frame, null, ` @e${child.id}`)
    }
    await visit(start, rootId, start === page.mainFrame() ? ' main' : '')

    const full = lines.map((l) => l.text).join('\n')
    const view = `${interactive ? 'interactive' : 'full'}|${selector ?? ''}`
    const base = refs.baseline
    refs.setBaseline({ generation, view, text: full })

    let out: Line[] = lines
    let diffAgainst: number | null = null
    if (diff && base && base.view === view) {
      diffAgainst = base.generation
      const idOf = new Map(lines.map((l) => [l.text, l.id]))
      out = unifiedDiff(base.text, full, `snapshot ${base.generation}`, `snapshot ${generation}`).map(
        (text) => ({
          text,
          id: /^[ +]/.test(text) ? (idOf.get(text.slice(1)) ?? null) : null,
        }),
      )
      if (out.length === 0) out = [{ text: `(no changes since snapshot ${base.generation})`, id: null }]
      // A page that re-rendered everything diffs larger than it is: then the whole snapshot is the cheaper answer.
      if (estimateTokens(out.map((l) => l.text).join('\n')) >= estimateTokens(full)) {
        out = lines
        diffAgainst = null
      }
    }

    const { kept, dropped } = fitBudget(out, maxTokens, estimateTokens(full))
    const text = kept.map((l) => l.text).join('\n')
    const shownRefs: Record<string, RefInfo> = {}
    for (const line of kept) {
      if (line.id === null) continue
      const info = refs.get(`e${line.id}`)
      if (info) shownRefs[`e${line.id}`] = { role: info.role, name: info.name, frameUrl: info.frameUrl }
    }
    return {
      generation,
      text,
      refs: shownRefs,
      stats: {
        lines: lines.length,
        interactive: stats.interactive,
        hidden: stats.hidden,
        flagged: stats.flagged,
        truncatedLines: dropped,
        estTokens: estimateTokens(text),
      },
      diffAgainst,
    }
  })
}

/** Keeps whole lines while they fit `maxTokens`, leaving room for a last line that says what was left out. */
function fitBudget(lines: Line[], maxTokens: number, fullTokens: number): { kept: Line[]; dropped: number } {
  const limit = Math.floor(maxTokens * CHARS_PER_TOKEN)
  const total = lines.reduce((n, l) => n + l.text.length + 1, 0)
  if (total <= limit) return { kept: lines, dropped: 0 }
  const room = limit - 300
  const kept: Line[] = []
  let used = 0
  for (const line of lines) {
    if (used + line.text.length + 1 > room) break
    kept.push(line)
    used += line.text.length + 1
  }
  const dropped = lines.length - kept.length
  kept.push({
    text: `[… ${dropped} more lines left out to stay under ~${maxTokens} tokens (the whole snapshot is ~${fullTokens}). Narrow it: --interactive (controls only), --selector <css|@ref> (one part of the page), --diff (changes only), or raise the budget.]`,
    id: null,
  })
  return { kept, dropped }
}

/**
 * A unified line diff of `before` → `after` (2 lines of context), without the `---`/`+++` lines when there is no
 * change (then it is empty).
 *
 * @example
 * unifiedDiff('a\nb', 'a\nc', 'old', 'new') // ['--- old', '+++ new', '@@ -1,2 +1,2 @@', ' a', '-b', '+c']
 */
export function unifiedDiff(before: string, after: string, beforeName: string, afterName: string): string[] {
  const a = before.split('\n')
  const b = after.split('\n')
  const ops = diffOps(a, b)
  if (ops.every((op) => op.kind === ' ')) return []
  const context = 2
  const out = [`--- ${beforeName}`, `+++ ${afterName}`]
  let i = 0
  while (i < ops.length) {
    if (ops[i]!.kind === ' ') {
      i++
      continue
    }
    // A hunk: from `context` lines before this change to `context` lines after the last change close to it.
    let start = i
    while (start > 0 && i - start < context && ops[start - 1]!.kind === ' ') start--
    let end = i
    let gap = 0
    while (end < ops.length && gap <= context * 2) {
      if (ops[end]!.kind === ' ') gap++
      else gap = 0
      end++
    }
    end -= Math.max(0, gap - context)
    const hunk = ops.slice(start, end)
    const first = hunk[0]!
    const aCount = hunk.filter((op) => op.kind !== '+').length
    const bCount = hunk.filter((op) => op.kind !== '-').length
    out.push(`@@ -${first.a + (aCount ? 1 : 0)},${aCount} +${first.b + (bCount ? 1 : 0)},${bCount} @@`)
    for (const op of hunk) out.push(`${op.kind}${op.line}`)
    i = end
  }
  return out
}

interface DiffOp {
  kind: ' ' | '-' | '+'
  line: string
  /** Lines of `a` / `b` before this one (0-based positions). */
  a: number
  b: number
}

function diffOps(a: string[], b: string[]): DiffOp[] {
  let prefix = 0
  while (prefix < a.length && prefix < b.length && a[prefix] === b[prefix]) prefix++
  let suffix = 0
  while (
    suffix < a.length - prefix &&
    suffix < b.length - prefix &&
    a[a.length - 1 - suffix] === b[b.length - 1 - suffix]
  )
    suffix++
  const midA = a.slice(prefix, a.length - suffix)
  const midB = b.slice(prefix, b.length - suffix)
  const ops: DiffOp[] = []
  for (let k = 0; k < prefix; k++) ops.push({ kind: ' ', line: a[k]!, a: k, b: k })
  const n = midA.length
  const m = midB.length
  if (n * m > 4_000_000) {
    // Too big to align line by line in reasonable time: show the middle as replaced.
    for (let k = 0; k < n; k++) ops.push({ kind: '-', line: midA[k]!, a: prefix + k, b: prefix })
    for (let k = 0; k < m; k++) ops.push({ kind: '+', line: midB[k]!, a: prefix + n, b: prefix + k })
  } else {
    // Longest common subsequence, filled from the end so the walk below goes forwards.
    const lcs = new Uint32Array((n + 1) * (m + 1))
    for (let x = n - 1; x >= 0; x--)
      for (let y = m - 1; y >= 0; y--)
        lcs[x * (m + 1) + y] =
          midA[x] === midB[y]
            ? lcs[(x + 1) * (m + 1) + y + 1]! + 1
            : Math.max(lcs[(x + 1) * (m + 1) + y]!, lcs[x * (m + 1) + y + 1]!)
    let x = 0
    let y = 0
    while (x < n || y < m) {
      if (x < n && y < m && midA[x] === midB[y]) {
        ops.push({ kind: ' ', line: midA[x]!, a: prefix + x, b: prefix + y })
        x++
        y++
      } else if (x < n && (y === m || lcs[(x + 1) * (m + 1) + y]! >= lcs[x * (m + 1) + y + 1]!)) {
        // Removals before additions, as diff(1) prints them.
        ops.push({ kind: '-', line: midA[x]!, a: prefix + x, b: prefix + y })
        x++
      } else {
        ops.push({ kind: '+', line: midB[y]!, a: prefix + x, b: prefix + y })
        y++
      }
    }
  }
  for (let k = 0; k < suffix; k++)
    ops.push({
      kind: ' ',
      line: a[a.length - suffix + k]!,
      a: a.length - suffix + k,
      b: b.length - suffix + k,
    })
  return ops
}

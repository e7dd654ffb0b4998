import { readFileSync, statSync } from 'node:fs'
import { type HookInput, toolString } from './input.ts'

export type LineRange = [number, number]

/** What a file tool did, in the brain's terms. */
export interface ToolEdit {
  /** Absolute path from tool_input (Claude Code always sends file tools an absolute path). */
  file: string
  op: 'edit' | 'write' | 'create' | 'notebook'
  tool: string
  hunks: LineRange[]
}

/** The file tools whose PostToolUse is an edit. MultiEdit is gone from current docs but old setups still send it. */
export const EDIT_TOOLS = new Set(['Edit', 'Write', 'MultiEdit', 'NotebookEdit'])

/** Files above this are not re-read to locate line ranges: the edit is logged without them. */
const MAX_READ_BYTES = 8 * 1024 * 1024

function lineCount(text: string): number {
  if (text.length === 0) return 0
  const newlines = text.split('\n').length - 1
  return text.endsWith('\n') ? newlines : newlines + 1
}

/**
 * Line ranges (1-based, inclusive) where `replacement` now sits in `content`: every occurrence when `all`, else the
 * first. A pure deletion (empty replacement) has no place left in the file, so it gives no range.
 *
 * @example
 * rangesOf('a\nb\nc\n', 'b\nc', false) // [[2, 3]]
 */
export function rangesOf(content: string, replacement: string, all: boolean): LineRange[] {
  if (replacement.length === 0) return []
  const ranges: LineRange[] = []
  let from = 0
  for (;;) {
    const at = content.indexOf(replacement, from)
    if (at < 0) break
    const first = lineCount(content.slice(0, at + 1))
    const last = first + Math.max(0, lineCount(replacement) - 1)
    ranges.push([first, last])
    if (!all) break
    from = at + replacement.length
  }
  return ranges
}

function readIfSmall(file: string): string | null {
  try {
    if (statSync(file).size > MAX_READ_BYTES * 4) return null
    const text = readFileSync(file, 'utf8')
    return text.length <= MAX_READ_BYTES ? text : null
  } catch {
    return null
  }
}

/**
 * The edit a PostToolUse payload describes, with the changed line ranges found in the file as it now is. Null when
 * the payload is not a file edit or carries no usable path.
 *
 * @example
 * toolEdit({ tool_name: 'Edit', tool_input: { file_path: '/r/a.ts', old_string: 'x', new_string: 'y' } })
 */
export function toolEdit(input: HookInput): ToolEdit | null {
  const tool = input.tool_name
  if (!tool || !EDIT_TOOLS.has(tool)) return null
  const file = toolString(input, 'file_path') ?? toolString(input, 'notebook_path')
  if (!file?.startsWith('/')) return null
  if (tool === 'NotebookEdit') return { file, op: 'notebook', tool, hunks: [] }
  const content = readIfSmall(file)
  if (tool === 'Write') {
    const response = input.tool_response as { type?: unknown } | undefined
    const written = toolString(input, 'content') ?? content ?? ''
    const lines = lineCount(written)
    return {
      file,
      op: response?.type === 'create' ? 'create' : 'write',
      tool,
      hunks: lines > 0 ? [[1, lines]] : [],
    }
  }
  const edits =
    tool === 'MultiEdit' && Array.isArray(input.tool_input?.edits)
      ? (input.tool_input.edits as Array<Record<string, unknown>>)
      : [input.tool_input ?? {}]
  const patched = patchRanges(input.tool_response)
  if (patched) return { file, op: 'edit', tool, hunks: mergeRanges(patched) }
  const hunks: LineRange[] = []
  if (content !== null) {
    for (const edit of edits) {
      if (typeof edit !== 'object' || edit === null || typeof edit.new_string !== 'string') continue
      hunks.push(...rangesOf(content, edit.new_string, edit.replace_all === true))
    }
  }
  return { file, op: 'edit', tool, hunks: mergeRanges(hunks) }
}

/**
 * The new-side line ranges of the `structuredPatch` Claude Code returns for Edit and MultiEdit: exact, where
 * searching for new_string finds its first occurrence, which may be an identical line elsewhere. Null when absent.
 *
 * @example
 * patchRanges({ structuredPatch: [{ oldStart: 10, oldLines: 2, newStart: 10, newLines: 3, lines: [] }] }) // [[10, 12]]
 */
export function patchRanges(response: unknown): LineRange[] | null {
  const patch = (response as { structuredPatch?: unknown } | null | undefined)?.structuredPatch
  if (!Array.isArray(patch) || patch.length === 0) return null
  const ranges: LineRange[] = []
  for (const hunk of patch) {
    const { newStart, newLines } = (hunk ?? {}) as { newStart?: unknown; newLines?: unknown }
    if (!Number.isInteger(newStart) || !Number.isInteger(newLines)) return null
    const start = Math.max(1, newStart as number)
    // A pure deletion has no new lines: mark the line where the text was.
    ranges.push([start, start + Math.max(0, (newLines as number) - 1)])
  }
  return ranges
}

/**
 * Sorts and merges overlapping or adjacent ranges.
 *
 * @example
 * mergeRanges([[5, 9], [1, 2], [3, 4]]) // [[1, 9]]
 */
export function mergeRanges(ranges: LineRange[]): LineRange[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0])
  const merged: LineRange[] = []
  for (const [first, last] of sorted) {
    const previous = merged.at(-1)
    if (previous && first <= previous[1] + 1) previous[1] = Math.max(previous[1], last)
    else merged.push([first, last])
  }
  return merged
}

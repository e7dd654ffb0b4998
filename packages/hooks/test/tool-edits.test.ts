import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { HookInput } from '../src/input.ts'
import {
  EDIT_TOOLS,
  type LineRange,
  mergeRanges,
  patchRanges,
  rangesOf,
  toolEdit,
} from '../src/tool-edits.ts'

let dir: string

beforeEach(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'dstack-tool-edits-')))
})

afterEach(() => {
  rmSync(dir, { recursive: true, force: true })
})

/** Writes `content` to a file in the temp dir, as the file tool left it, and returns its absolute path. */
function file(name: string, content: string): string {
  const path = join(dir, name)
  writeFileSync(path, content)
  return path
}

function edit(path: string, toolInput: Record<string, unknown>): HookInput {
  return { tool_name: 'Edit', tool_input: { file_path: path, old_string: 'OLD', ...toolInput } }
}

describe('rangesOf', () => {
  it('gives the lines the replacement sits on, 1-based and inclusive', () => {
    expect(rangesOf('a\nb\nc\n', 'b\nc', false)).toEqual([[2, 3]])
    expect(rangesOf('a\nb\nc\n', 'a', false)).toEqual([[1, 1]])
    expect(rangesOf('a\nb\nc', 'c', false)).toEqual([[3, 3]])
    // A replacement ending in a blank line covers that line too.
    expect(rangesOf('a\nb\n\nc\n', 'b\n\n', false)).toEqual([[2, 3]])
  })

  it('takes the first occurrence only, unless all', () => {
    const content = 'x\ny\nx\ny\nx\n'
    expect(rangesOf(content, 'x', false)).toEqual([[1, 1]])
    expect(rangesOf(content, 'x', true)).toEqual([
      [1, 1],
      [3, 3],
      [5, 5],
    ])
  })

  it('does not count overlapping occurrences twice', () => {
    expect(rangesOf('aaa\naaa\n', 'aa', true)).toEqual([
      [1, 1],
      [2, 2],
    ])
  })

  it('starts on the line where the replacement starts, even mid-line', () => {
    expect(rangesOf('const a = 1\nconst b = 2\nconst c = 3\n', '1\nconst b', false)).toEqual([[1, 2]])
    expect(rangesOf('const a = 1\nconst b = 2\n', 'b = 2', false)).toEqual([[2, 2]])
  })

  it('does not count the line after a trailing newline', () => {
    expect(rangesOf('a\nb\nc\nd\n', 'b\nc\n', false)).toEqual([[2, 3]])
    expect(rangesOf('a\nb\nc\nd\n', 'b\n', false)).toEqual([[2, 2]])
  })

  it('puts a replacement that starts with a newline on the line that newline ends', () => {
    expect(rangesOf('a\nb\n', '\nb', false)).toEqual([[1, 2]])
  })

  it('gives nothing for an empty replacement or one not in the content', () => {
    expect(rangesOf('a\nb\n', '', true)).toEqual([])
    expect(rangesOf('a\nb\n', 'zzz', true)).toEqual([])
    expect(rangesOf('', 'a', false)).toEqual([])
  })
})

describe('mergeRanges', () => {
  it('sorts and merges overlapping and adjacent ranges', () => {
    expect(
      mergeRanges([
        [5, 9],
        [1, 2],
        [3, 4],
      ]),
    ).toEqual([[1, 9]])
    expect(
      mergeRanges([
        [1, 5],
        [3, 4],
      ]),
    ).toEqual([[1, 5]])
    expect(
      mergeRanges([
        [2, 6],
        [1, 3],
      ]),
    ).toEqual([[1, 6]])
  })

  it('keeps ranges with a gap apart', () => {
    expect(
      mergeRanges([
        [4, 5],
        [1, 2],
      ]),
    ).toEqual([
      [1, 2],
      [4, 5],
    ])
  })

  it('handles empty input and does not modify its argument', () => {
    expect(mergeRanges([])).toEqual([])
    const input: LineRange[] = [
      [3, 4],
      [1, 3],
    ]
    mergeRanges(input)
    expect(input).toEqual([
      [3, 4],
      [1, 3],
    ])
  })
})

describe('toolEdit: Edit', () => {
  it('locates a single replacement', () => {
    const path = file('a.ts', 'one\ntwo\nthree\nfour\n')
    expect(toolEdit(edit(path, { new_string: 'three' }))).toEqual({
      file: path,
      op: 'edit',
      tool: 'Edit',
      hunks: [[3, 3]],
    })
  })

  it('locates every occurrence with replace_all, and only the first without', () => {
    const path = file('a.ts', 'a\nx = 1\nb\nx = 1\nc\nx = 1\n')
    expect(toolEdit(edit(path, { new_string: 'x = 1', replace_all: true }))?.hunks).toEqual([
      [2, 2],
      [4, 4],
      [6, 6],
    ])
    expect(toolEdit(edit(path, { new_string: 'x = 1' }))?.hunks).toEqual([[2, 2]])
    // Only a literal true means all.
    expect(toolEdit(edit(path, { new_string: 'x = 1', replace_all: 'true' }))?.hunks).toEqual([[2, 2]])
  })

  it('merges adjacent occurrences found with replace_all', () => {
    const path = file('a.ts', 'y()\ny()\nz\ny()\n')
    expect(toolEdit(edit(path, { new_string: 'y()', replace_all: true }))?.hunks).toEqual([
      [1, 2],
      [4, 4],
    ])
  })

  it('covers every line of a multi-line new_string', () => {
    const path = file('a.ts', 'l1\nl2\nstart\nmid\nend\nl6\n')
    expect(toolEdit(edit(path, { new_string: 'start\nmid\nend' }))?.hunks).toEqual([[3, 5]])
  })

  it('does not count the line after a trailing newline in new_string', () => {
    const path = file('a.ts', 'l1\nl2\nstart\nmid\nend\nl6\n')
    expect(toolEdit(edit(path, { new_string: 'start\nmid\n' }))?.hunks).toEqual([[3, 4]])
  })

  it('is still an edit, without hunks, when new_string is not in the file', () => {
    const path = file('a.ts', 'one\ntwo\n')
    expect(toolEdit(edit(path, { new_string: 'three' }))).toEqual({
      file: path,
      op: 'edit',
      tool: 'Edit',
      hunks: [],
    })
  })

  it('is an edit without hunks for an empty new_string (a deletion)', () => {
    const path = file('a.ts', 'one\ntwo\n')
    expect(toolEdit(edit(path, { old_string: 'two\n', new_string: '' }))).toEqual({
      file: path,
      op: 'edit',
      tool: 'Edit',
      hunks: [],
    })
  })

  it('is an edit without hunks when new_string is missing or not a string, or the file is gone', () => {
    const path = file('a.ts', 'one\ntwo\n')
    expect(toolEdit(edit(path, {}))?.hunks).toEqual([])
    expect(toolEdit(edit(path, { new_string: 42 }))?.hunks).toEqual([])
    const gone = join(dir, 'gone.ts')
    expect(toolEdit(edit(gone, { new_string: 'one' }))).toEqual({
      file: gone,
      op: 'edit',
      tool: 'Edit',
      hunks: [],
    })
  })

  it('locates the new text up to exactly 8 MB of file, and logs a bigger file without hunks', () => {
    const limit = 8 * 1024 * 1024
    const head = 'first\nNEEDLE\n'
    const atLimit = file('limit.txt', head + 'x'.repeat(limit - head.length))
    expect(toolEdit(edit(atLimit, { new_string: 'NEEDLE' }))?.hunks).toEqual([[2, 2]])
    const huge = file('huge.txt', head + 'x'.repeat(limit - head.length + 1))
    expect(toolEdit(edit(huge, { new_string: 'NEEDLE' }))).toEqual({
      file: huge,
      op: 'edit',
      tool: 'Edit',
      hunks: [],
    })
  })
})

describe('toolEdit: MultiEdit', () => {
  it('locates every edit in the edits array, sorted and merged', () => {
    const path = file('m.ts', 'import x\nfoo()\nbar()\nbaz()\nqux()\nend\n')
    const input: HookInput = {
      tool_name: 'MultiEdit',
      tool_input: {
        file_path: path,
        edits: [
          { old_string: 'a', new_string: 'qux()' },
          { old_string: 'b', new_string: 'foo()' },
          { old_string: 'c', new_string: 'missing' },
          { old_string: 'd', new_string: 7 },
        ],
      },
    }
    expect(toolEdit(input)).toEqual({
      file: path,
      op: 'edit',
      tool: 'MultiEdit',
      hunks: [
        [2, 2],
        [5, 5],
      ],
    })
    input.tool_input!.edits = [
      { old_string: 'a', new_string: 'foo()\nbar()' },
      { old_string: 'b', new_string: 'baz()' },
      { old_string: 'c', new_string: 'end', replace_all: true },
    ]
    expect(toolEdit(input)?.hunks).toEqual([
      [2, 4],
      [6, 6],
    ])
  })

  it('reads the edit from tool_input itself when there is no edits array', () => {
    const path = file('m.ts', 'a\nb\n')
    expect(toolEdit({ tool_name: 'MultiEdit', tool_input: { file_path: path, new_string: 'b' } })).toEqual({
      file: path,
      op: 'edit',
      tool: 'MultiEdit',
      hunks: [[2, 2]],
    })
  })
})

describe('toolEdit: Write', () => {
  it('is a create when tool_response says so, covering every line written', () => {
    const path = file('w.ts', 'a\nb\nc\n')
    expect(
      toolEdit({
        tool_name: 'Write',
        tool_input: { file_path: path, content: 'a\nb\nc\n' },
        tool_response: { type: 'create', filePath: path },
      }),
    ).toEqual({ file: path, op: 'create', tool: 'Write', hunks: [[1, 3]] })
  })

  it('is a write for an update or an unknown response', () => {
    const path = file('w.ts', 'a\nb')
    const input = (tool_response: unknown): HookInput => ({
      tool_name: 'Write',
      tool_input: { file_path: path, content: 'a\nb' },
      tool_response,
    })
    const expected = { file: path, op: 'write', tool: 'Write', hunks: [[1, 2]] }
    expect(toolEdit(input({ type: 'update', filePath: path }))).toEqual(expected)
    expect(toolEdit(input(undefined))).toEqual(expected)
    expect(toolEdit(input('create'))).toEqual(expected)
  })

  it('has no hunks for empty content', () => {
    const path = file('w.ts', '')
    expect(
      toolEdit({
        tool_name: 'Write',
        tool_input: { file_path: path, content: '' },
        tool_response: { type: 'create' },
      }),
    ).toEqual({ file: path, op: 'create', tool: 'Write', hunks: [] })
  })

  it('counts the lines of the file when tool_input has no content', () => {
    const path = file('w.ts', '1\n2\n3\n4\n')
    expect(toolEdit({ tool_name: 'Write', tool_input: { file_path: path } })).toEqual({
      file: path,
      op: 'write',
      tool: 'Write',
      hunks: [[1, 4]],
    })
  })
})

describe('toolEdit: NotebookEdit and what is not an edit', () => {
  it('takes notebook_path for NotebookEdit, without hunks', () => {
    const path = join(dir, 'analysis.ipynb')
    expect(
      toolEdit({ tool_name: 'NotebookEdit', tool_input: { notebook_path: path, new_source: 'x = 1' } }),
    ).toEqual({ file: path, op: 'notebook', tool: 'NotebookEdit', hunks: [] })
  })

  it('is null for a relative or missing path', () => {
    file('a.ts', 'a\n')
    expect(toolEdit({ tool_name: 'Edit', tool_input: { file_path: 'a.ts', new_string: 'a' } })).toBeNull()
    expect(toolEdit({ tool_name: 'Write', tool_input: { file_path: './a.ts', content: 'a' } })).toBeNull()
    expect(toolEdit({ tool_name: 'Edit', tool_input: { file_path: '', new_string: 'a' } })).toBeNull()
    expect(toolEdit({ tool_name: 'Edit', tool_input: { file_path: 5, new_string: 'a' } })).toBeNull()
    expect(toolEdit({ tool_name: 'Edit', tool_input: { new_string: 'a' } })).toBeNull()
    expect(toolEdit({ tool_name: 'Edit' })).toBeNull()
  })

  it('is null for tools that do not edit files', () => {
    const path = file('a.ts', 'a\n')
    expect([...EDIT_TOOLS].sort()).toEqual(['Edit', 'MultiEdit', 'NotebookEdit', 'Write'])
    for (const tool of ['Read', 'Bash', 'Grep', 'edit', 'mcp__fs__write']) {
      expect(toolEdit({ tool_name: tool, tool_input: { file_path: path, new_string: 'a' } })).toBeNull()
    }
    expect(toolEdit({ tool_input: { file_path: path, new_string: 'a' } })).toBeNull()
  })
})

describe('patchRanges: the structuredPatch Claude Code returns', () => {
  it('gives exact new-side ranges, a deletion marking its line', () => {
    expect(
      patchRanges({
        structuredPatch: [
          { oldStart: 10, oldLines: 2, newStart: 10, newLines: 3, lines: [] },
          { oldStart: 40, oldLines: 1, newStart: 41, newLines: 0, lines: [] },
        ],
      }),
    ).toEqual([
      [10, 12],
      [41, 41],
    ])
    expect(patchRanges({ filePath: '/x', success: true })).toBeNull()
    expect(patchRanges({ structuredPatch: [{ newStart: 'x' }] })).toBeNull()
    expect(patchRanges(null)).toBeNull()
  })

  it('wins over searching for new_string, which finds an identical line higher up', () => {
    const file = join(dir, 'dup.ts')
    writeFileSync(file, 'return null\nx\ny\nreturn null\n')
    const edit = toolEdit({
      tool_name: 'Edit',
      tool_input: { file_path: file, old_string: 'return 1', new_string: 'return null' },
      tool_response: { structuredPatch: [{ oldStart: 4, oldLines: 1, newStart: 4, newLines: 1, lines: [] }] },
    })
    expect(edit?.hunks).toEqual([[4, 4]])
  })
})

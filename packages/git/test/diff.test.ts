import { describe, expect, it } from 'vitest'
import { parseUnifiedDiff } from '../src/diff.ts'

const HUNKS = `diff --git a/src/app.ts b/src/app.ts
index 1111111..2222222 100644
--- a/src/app.ts
+++ b/src/app.ts
@@ -5 +5 @@ function x() {
-old five
+new five
@@ -7,2 +6,0 @@
-seven
-eight
@@ -20,0 +19,3 @@
+a
+b
+c
@@ -25 +25,0 @@
-gone
@@ -30,2 +32 @@
-x
-y
+z
\\ No newline at end of file
diff --git a/new.ts b/new.ts
new file mode 100644
index 0000000..3333333
--- /dev/null
+++ b/new.ts
@@ -0,0 +1,3 @@
+one
+--- tricky
+diff --git a/fake b/fake
diff --git a/gone.ts b/gone.ts
deleted file mode 100644
index 4444444..0000000
--- a/gone.ts
+++ /dev/null
@@ -1,2 +0,0 @@
-+++ also tricky
-@@ -1 +1 @@
`

const HUNKS_EXPECTED = [
  {
    path: 'src/app.ts',
    oldPath: null,
    status: 'modified',
    added: [
      [5, 5],
      [19, 21],
      [32, 32],
    ],
    removed: [
      [5, 5],
      [7, 8],
      [25, 25],
      [30, 31],
    ],
    binary: false,
  },
  { path: 'new.ts', oldPath: null, status: 'added', added: [[1, 3]], removed: [], binary: false },
  { path: 'gone.ts', oldPath: null, status: 'deleted', added: [], removed: [[1, 2]], binary: false },
]

describe('parseUnifiedDiff', () => {
  it('turns hunk headers into ranges: omitted counts, pure deletions, new and deleted files', () => {
    expect(parseUnifiedDiff(HUNKS)).toEqual(HUNKS_EXPECTED)
  })

  it('reads CRLF text the same way', () => {
    expect(parseUnifiedDiff(HUNKS.replace(/\n/g, '\r\n'))).toEqual(HUNKS_EXPECTED)
  })

  it('handles renames, copies, spaces, quoted paths with octal escapes and mode-only changes', () => {
    const text = [
      'diff --git a/old name.ts b/new name.ts',
      'similarity index 80%',
      'rename from old name.ts',
      'rename to new name.ts',
      'index 5555555..6666666 100644',
      '--- a/old name.ts\t',
      '+++ b/new name.ts\t',
      '@@ -2 +2,2 @@',
      '-b',
      '+c',
      '+d',
      'diff --git "a/sp\\303\\251cial.ts" "b/sp\\303\\251cial.ts"',
      'index 7777777..8888888 100644',
      '--- "a/sp\\303\\251cial.ts"',
      '+++ "b/sp\\303\\251cial.ts"',
      '@@ -1 +1 @@',
      '-x',
      '+y',
      'diff --git "a/quo\\"te\\\\d.ts" "b/r\\303\\251named \\"x\\".ts"',
      'similarity index 100%',
      'rename from "quo\\"te\\\\d.ts"',
      'rename to "r\\303\\251named \\"x\\".ts"',
      'diff --git a/with space.sh b/with space.sh',
      'old mode 100644',
      'new mode 100755',
      'diff --git a/plain.ts "b/t\\tab.ts"',
      'similarity index 100%',
      'copy from plain.ts',
      'copy to "t\\tab.ts"',
      '',
    ].join('\n')
    expect(parseUnifiedDiff(text)).toEqual([
      {
        path: 'new name.ts',
        oldPath: 'old name.ts',
        status: 'renamed',
        added: [[2, 3]],
        removed: [[2, 2]],
        binary: false,
      },
      {
        path: 'spécial.ts',
        oldPath: null,
        status: 'modified',
        added: [[1, 1]],
        removed: [[1, 1]],
        binary: false,
      },
      {
        path: 'rénamed "x".ts',
        oldPath: 'quo"te\\d.ts',
        status: 'renamed',
        added: [],
        removed: [],
        binary: false,
      },
      { path: 'with space.sh', oldPath: null, status: 'modified', added: [], removed: [], binary: false },
      { path: 't\tab.ts', oldPath: 'plain.ts', status: 'copied', added: [], removed: [], binary: false },
    ])
  })

  it('marks binary files, skips binary patches and merges a type change back into one entry', () => {
    const text = [
      'diff --git a/img.png b/img.png',
      'index 9999999..aaaaaaa 100644',
      'Binary files a/img.png and b/img.png differ',
      'diff --git a/new.bin b/new.bin',
      'new file mode 100644',
      'index 0000000..bbbbbbb',
      'GIT binary patch',
      'literal 4',
      'LcmZQzWMT#Y01f~L',
      '',
      'literal 0',
      'HcmV?d00001',
      '',
      'diff --git a/link b/link',
      'deleted file mode 100644',
      'index ccccccc..0000000',
      '--- a/link',
      '+++ /dev/null',
      '@@ -1,2 +0,0 @@',
      '-a',
      '-b',
      'diff --git a/link b/link',
      'new file mode 120000',
      'index 0000000..ddddddd',
      '--- /dev/null',
      '+++ b/link',
      '@@ -0,0 +1 @@',
      '+target',
      '\\ No newline at end of file',
      'diff --git a/mod b/mod',
      'old mode 100644',
      'new mode 120000',
    ].join('\n')
    expect(parseUnifiedDiff(text)).toEqual([
      { path: 'img.png', oldPath: null, status: 'modified', added: [], removed: [], binary: true },
      { path: 'new.bin', oldPath: null, status: 'added', added: [], removed: [], binary: true },
      {
        path: 'link',
        oldPath: null,
        status: 'type-changed',
        added: [[1, 1]],
        removed: [[1, 2]],
        binary: false,
      },
      { path: 'mod', oldPath: null, status: 'type-changed', added: [], removed: [], binary: false },
    ])
  })

  it('follows context lines in plain unified diffs without git headers', () => {
    const text = [
      '--- a/one.txt\t2024-01-01 00:00:00',
      '+++ b/one.txt\t2024-01-01 00:00:01',
      '@@ -1,6 +1,7 @@',
      ' a',
      '-b',
      '+B',
      '+B2',
      ' c',
      '',
      ' e',
      '-f',
      '+F',
      '--- a/two.txt',
      '+++ b/two.txt',
      '@@ -10,3 +10,2 @@ ctx',
      ' x',
      '-y',
      ' z',
    ].join('\n')
    expect(parseUnifiedDiff(text)).toEqual([
      {
        path: 'one.txt',
        oldPath: null,
        status: 'modified',
        added: [
          [2, 3],
          [7, 7],
        ],
        removed: [
          [2, 2],
          [6, 6],
        ],
        binary: false,
      },
      { path: 'two.txt', oldPath: null, status: 'modified', added: [], removed: [[11, 11]], binary: false },
    ])
  })

  it('survives garbage and truncated hunks without throwing', () => {
    expect(parseUnifiedDiff('')).toEqual([])
    expect(parseUnifiedDiff('hello\n@@ -1 +1 @@\n+x\n')).toEqual([])
    expect(parseUnifiedDiff('diff --git nonsense\n@@ -1 +1 @@\n-a\n+b\n')).toEqual([])
    expect(parseUnifiedDiff('diff --cc merged.ts\n@@@ -1,1 -1,1 +1,1 @@@\n- a\n +b\n')).toEqual([])
    const truncated = [
      'diff --git a/a.ts b/a.ts',
      '--- a/a.ts',
      '+++ b/a.ts',
      '@@ -1,5 +1,5 @@',
      '-one',
      'diff --git a/b.ts b/b.ts',
      '--- a/b.ts',
      '+++ b/b.ts',
      '@@ -3,0 +4 @@ not a number: @@ -x +y @@',
      '+four',
    ].join('\n')
    expect(parseUnifiedDiff(truncated)).toEqual([
      { path: 'a.ts', oldPath: null, status: 'modified', added: [], removed: [[1, 1]], binary: false },
      { path: 'b.ts', oldPath: null, status: 'modified', added: [[4, 4]], removed: [], binary: false },
    ])
  })
})

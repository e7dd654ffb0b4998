export type ChangeStatus = 'added' | 'modified' | 'deleted' | 'renamed' | 'copied' | 'type-changed'

/** Inclusive 1-based line range `[first, last]`. */
export type LineRange = [number, number]

/** One file in a diff, with the lines it touches on each side. */
export interface ChangedFile {
  /** Repo-relative path on the new side (on the old side for a deleted file). */
  path: string
  /** The source path of a rename or copy; null otherwise. */
  oldPath: string | null
  status: ChangeStatus
  /** New-side lines added or changed. */
  added: LineRange[]
  /** Old-side lines removed or changed. Also the only trace of a pure deletion. */
  removed: LineRange[]
  /** Binary content: the status is known, the ranges are empty. */
  binary: boolean
}

interface Draft {
  headerOld: string | null
  headerNew: string | null
  minus: string | null
  plus: string | null
  minusNull: boolean
  plusNull: boolean
  renameFrom: string | null
  renameTo: string | null
  copyFrom: string | null
  copyTo: string | null
  created: boolean
  deleted: boolean
  oldMode: string | null
  newMode: string | null
  binary: boolean
  hunks: number
  added: LineRange[]
  removed: LineRange[]
}

function draft(): Draft {
  return {
    headerOld: null,
    headerNew: null,
    minus: null,
    plus: null,
    minusNull: false,
    plusNull: false,
    renameFrom: null,
    renameTo: null,
    copyFrom: null,
    copyTo: null,
    created: false,
    deleted: false,
    oldMode: null,
    newMode: null,
    binary: false,
    hunks: 0,
    added: [],
    removed: [],
  }
}

const C_ESCAPES: Record<string, number> = { a: 7, b: 8, t: 9, n: 10, v: 11, f: 12, r: 13 }

/**
 * Reads a C-style quoted string starting at `start` (which must be `"`), as git writes unusual paths: `\t`, `\"`,
 * `\\` and octal bytes (`\303\251` is `é` in UTF-8). Returns the decoded text and the index after the closing quote.
 */
function readQuoted(text: string, start: number): { value: string; end: number } | null {
  const bytes: number[] = []
  let i = start + 1
  while (i < text.length) {
    const c = text[i]!
    if (c === '"') return { value: Buffer.from(bytes).toString('utf8'), end: i + 1 }
    if (c === '\\') {
      const octal = /^[0-7]{1,3}/.exec(text.slice(i + 1, i + 4))
      if (octal) {
        bytes.push(Number.parseInt(octal[0], 8) & 0xff)
        i += 1 + octal[0].length
        continue
      }
      const escaped = text[i + 1]
      if (escaped === undefined) return null
      const code = C_ESCAPES[escaped]
      if (code !== undefined) bytes.push(code)
      else bytes.push(...Buffer.from(escaped, 'utf8'))
      i += 2
      continue
    }
    const code = text.codePointAt(i)!
    const char = String.fromCodePoint(code)
    bytes.push(...Buffer.from(char, 'utf8'))
    i += char.length
  }
  return null
}

function stripPrefix(path: string, prefix: string): string {
  return path.startsWith(prefix) ? path.slice(prefix.length) : path
}

/** A path on a `rename from`-style line: quoted or verbatim, no prefix. */
function plainPath(text: string): string {
  return text.startsWith('"') ? (readQuoted(text, 0)?.value ?? text) : text
}

/** The path on a `---`/`+++` line, or null for /dev/null. Git adds a tab after names containing spaces. */
function markerPath(text: string, prefix: string): string | null {
  if (text.startsWith('"')) {
    const quoted = readQuoted(text, 0)
    return quoted ? stripPrefix(quoted.value, prefix) : null
  }
  const tab = text.indexOf('\t')
  const name = tab === -1 ? text : text.slice(0, tab)
  return name === '/dev/null' ? null : stripPrefix(name, prefix)
}

/** The two names on a `diff --git a/x b/y` line. Unquoted names with spaces are ambiguous unless both are equal. */
function headerPaths(rest: string): [string, string] | null {
  let oldName: string
  let newRaw: string
  if (rest.startsWith('"')) {
    const quoted = readQuoted(rest, 0)
    if (!quoted || rest[quoted.end] !== ' ') return null
    oldName = quoted.value
    newRaw = rest.slice(quoted.end + 1)
  } else if (rest.endsWith('"') && rest.includes(' "')) {
    // Unquoted names never contain `"`, so ` "` starts the quoted new name.
    const at = rest.indexOf(' "')
    oldName = rest.slice(0, at)
    newRaw = rest.slice(at + 1)
  } else {
    const half = (rest.length - 1) / 2
    if (Number.isInteger(half) && rest[half] === ' ' && rest.slice(2, half) === rest.slice(half + 3)) {
      oldName = rest.slice(0, half)
      newRaw = rest.slice(half + 1)
    } else {
      const at = rest.indexOf(' b/')
      if (at === -1) return null
      oldName = rest.slice(0, at)
      newRaw = rest.slice(at + 1)
    }
  }
  const newName = newRaw.startsWith('"') ? readQuoted(newRaw, 0)?.value : newRaw
  if (newName === undefined) return null
  return [stripPrefix(oldName, 'a/'), stripPrefix(newName, 'b/')]
}

function addLine(ranges: LineRange[], line: number): void {
  const last = ranges[ranges.length - 1]
  if (last && last[1] === line - 1) last[1] = line
  else ranges.push([line, line])
}

/** File type bits of an octal mode: regular file, symlink, gitlink. */
function fileType(mode: string): string {
  return mode.padStart(6, '0').slice(0, 2)
}

function finish(d: Draft): ChangedFile | null {
  const deleted = d.deleted || d.plusNull
  const created = d.created || d.minusNull
  const oldName = d.renameFrom ?? d.copyFrom ?? d.minus ?? d.headerOld
  const newName = d.renameTo ?? d.copyTo ?? d.plus ?? d.headerNew
  const path = deleted ? (oldName ?? newName) : (newName ?? oldName)
  if (path === null) return null
  let status: ChangeStatus = 'modified'
  let oldPath: string | null = null
  if (deleted) status = 'deleted'
  else if (created) status = 'added'
  else if (d.renameFrom !== null || d.copyFrom !== null) {
    status = d.renameFrom !== null ? 'renamed' : 'copied'
    oldPath = oldName
  } else if (d.oldMode !== null && d.newMode !== null && fileType(d.oldMode) !== fileType(d.newMode)) {
    status = 'type-changed'
  }
  return { path, oldPath, status, added: d.added, removed: d.removed, binary: d.binary }
}

/**
 * Parses unified diff text (git's format, any context size) into the files it touches and the line ranges changed
 * on each side. Handles renames and copies, quoted paths with octal escapes, new and deleted files, mode and type
 * changes (git prints a type change as a deletion followed by an addition; they are merged back into one entry),
 * binary files, omitted hunk counts and `\ No newline at end of file`. Never throws: lines it does not understand
 * are skipped.
 *
 * @example
 * parseUnifiedDiff('diff --git a/x.ts b/x.ts\n--- a/x.ts\n+++ b/x.ts\n@@ -3,2 +3 @@\n-a\n-b\n+c\n')
 * // [{ path: 'x.ts', oldPath: null, status: 'modified', added: [[3, 3]], removed: [[3, 4]], binary: false }]
 */
export function parseUnifiedDiff(text: string): ChangedFile[] {
  const files: ChangedFile[] = []
  const lines = text.split('\n')
  let current: Draft | null = null
  let oldLeft = 0
  let newLeft = 0
  let oldLine = 0
  let newLine = 0

  const close = (): void => {
    const file = current && finish(current)
    if (file) files.push(file)
    current = null
  }

  for (let index = 0; index < lines.length; index++) {
    const raw = lines[index]!
    if (current !== null && (oldLeft > 0 || newLeft > 0)) {
      const marker = raw[0]
      if (marker === '+') {
        addLine(current.added, newLine++)
        newLeft--
        continue
      }
      if (marker === '-') {
        addLine(current.removed, oldLine++)
        oldLeft--
        continue
      }
      // Some tools strip the lone space of an empty context line.
      if (marker === ' ' || raw === '' || raw === '\r') {
        oldLine++
        newLine++
        oldLeft--
        newLeft--
        continue
      }
      if (marker === '\\') continue
      // A hunk shorter than its header claims: read on as headers.
      oldLeft = 0
      newLeft = 0
    }
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw

    if (line.startsWith('diff --git ')) {
      close()
      current = draft()
      const names = headerPaths(line.slice('diff --git '.length))
      if (names) [current.headerOld, current.headerNew] = names
      continue
    }
    if (line.startsWith('diff --cc ') || line.startsWith('diff --combined ')) {
      // Combined (merge) diffs have a different hunk format; not supported.
      close()
      continue
    }
    if (line.startsWith('--- ') && lines[index + 1]?.startsWith('+++ ')) {
      // A plain unified diff has no `diff --git` line: `---` then starts the next file.
      if (current === null || current.hunks > 0 || current.minus !== null || current.minusNull) {
        close()
        current = draft()
      }
      const name = markerPath(line.slice(4), 'a/')
      if (name === null) current.minusNull = true
      else current.minus = name
      continue
    }
    if (current === null) continue
    const d: Draft = current

    if (line.startsWith('+++ ')) {
      const name = markerPath(line.slice(4), 'b/')
      if (name === null) d.plusNull = true
      else d.plus = name
    } else if (line.startsWith('@@ ')) {
      const hunk = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/.exec(line)
      if (!hunk) continue
      d.hunks++
      oldLine = Number(hunk[1])
      oldLeft = hunk[2] === undefined ? 1 : Number(hunk[2])
      newLine = Number(hunk[3])
      newLeft = hunk[4] === undefined ? 1 : Number(hunk[4])
    } else if (line.startsWith('rename from ')) d.renameFrom = plainPath(line.slice(12))
    else if (line.startsWith('rename to ')) d.renameTo = plainPath(line.slice(10))
    else if (line.startsWith('copy from ')) d.copyFrom = plainPath(line.slice(10))
    else if (line.startsWith('copy to ')) d.copyTo = plainPath(line.slice(8))
    else if (line.startsWith('new file mode ')) {
      d.created = true
      d.newMode = line.slice(14).trim()
    } else if (line.startsWith('deleted file mode ')) {
      d.deleted = true
      d.oldMode = line.slice(18).trim()
    } else if (line.startsWith('old mode ')) d.oldMode = line.slice(9).trim()
    else if (line.startsWith('new mode ')) d.newMode = line.slice(9).trim()
    else if (line.startsWith('Binary files ') || line === 'GIT binary patch') d.binary = true
  }
  close()
  return mergeTypeChanges(files)
}

/** Git shows a file that became a symlink (or back) as a deletion then an addition of the same path. */
function mergeTypeChanges(files: ChangedFile[]): ChangedFile[] {
  const merged: ChangedFile[] = []
  for (let i = 0; i < files.length; i++) {
    const file = files[i]!
    const next = files[i + 1]
    if (file.status === 'deleted' && next?.status === 'added' && next.path === file.path) {
      merged.push({
        path: file.path,
        oldPath: null,
        status: 'type-changed',
        added: next.added,
        removed: file.removed,
        binary: file.binary || next.binary,
      })
      i++
    } else {
      merged.push(file)
    }
  }
  return merged
}

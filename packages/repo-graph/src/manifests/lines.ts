// Line numbers for values the manifest parsers read. TOML and JSON parsers return values without positions, so these
// scanners walk the text once more and note the line where each key (and each array element) is written. They
// assume text the real parser has already accepted.

/** Lines of a document's keys and array elements, looked up by path: `['dependencies', 'serde']`, `['members', 2]`. */
export class LineIndex {
  readonly #lines = new Map<string, number>()

  set(path: ReadonlyArray<string | number>, line: number): void {
    const key = JSON.stringify(path)
    if (!this.#lines.has(key)) this.#lines.set(key, line)
  }

  /**
   * The line of `path`, else of its nearest ancestor that has one, else null.
   *
   * @example
   * tomlLines('[dependencies]\nserde = "1"\n').find(['dependencies', 'serde']) // 2
   */
  find(path: ReadonlyArray<string | number>): number | null {
    for (let n = path.length; n > 0; n--) {
      const line = this.#lines.get(JSON.stringify(path.slice(0, n)))
      if (line !== undefined) return line
    }
    return null
  }
}

const BARE_KEY = /^[A-Za-z0-9_-]+/

/** Splits a dotted TOML key (`a."b.c".d`) into its parts; returns the parts and where the key ended. */
function readKey(text: string, start: number): { parts: string[]; end: number } | null {
  const parts: string[] = []
  let i = start
  for (;;) {
    while (text[i] === ' ' || text[i] === '\t') i++
    const ch = text[i]
    if (ch === '"' || ch === "'") {
      const close = findStringEnd(text, i, ch)
      if (close === -1) return null
      const raw = text.slice(i + 1, close)
      parts.push(ch === '"' ? unescapeBasic(raw) : raw)
      i = close + 1
    } else {
      const bare = BARE_KEY.exec(text.slice(i))
      if (!bare) return null
      parts.push(bare[0])
      i += bare[0].length
    }
    while (text[i] === ' ' || text[i] === '\t') i++
    if (text[i] !== '.') return { parts, end: i }
    i++
  }
}

function findStringEnd(text: string, open: number, quote: string): number {
  for (let i = open + 1; i < text.length; i++) {
    if (quote === '"' && text[i] === '\\') i++
    else if (text[i] === quote) return i
    else if (text[i] === '\n') return -1
  }
  return -1
}

function unescapeBasic(raw: string): string {
  try {
    return JSON.parse(`"${raw}"`) as string
  } catch {
    return raw
  }
}

/**
 * Indexes a TOML document: each table header, each key (under its table, dotted keys expanded; keys of an inline
 * table under their parent) and each element of an array value (by position, also across lines).
 *
 * @example
 * const lines = tomlLines('[workspace]\nmembers = [\n  "a",\n  "b",\n]\n')
 * lines.find(['workspace', 'members', 1]) // 4
 */
export function tomlLines(text: string): LineIndex {
  const index = new LineIndex()
  let table: string[] = []
  let i = 0
  let line = 1
  const n = text.length

  const skipSpace = () => {
    while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === '\r')) i++
  }
  const skipComment = () => {
    if (text[i] === '#') while (i < n && text[i] !== '\n') i++
  }
  // Reads one value starting at i, recording array elements and inline-table keys under `path`.
  const readValue = (path: Array<string | number>): void => {
    skipSpace()
    const ch = text[i]
    if (ch === '"' || ch === "'") {
      const triple = text.startsWith(ch.repeat(3), i)
      if (triple) {
        const close = text.indexOf(ch.repeat(3), i + 3)
        const end = close === -1 ? n : close + 3
        for (let k = i; k < end; k++) if (text[k] === '\n') line++
        i = end
        while (text[i] === ch) i++ // """a"""" ends with the extra quote in the string
        return
      }
      const close = findStringEnd(text, i, ch)
      i = close === -1 ? n : close + 1
      return
    }
    if (ch === '[') {
      i++
      let element = 0
      for (;;) {
        while (i < n && /[\s,]/.test(text[i]!)) {
          if (text[i] === '\n') line++
          if (text[i] === ',') element++
          i++
        }
        skipComment()
        if (i >= n) return
        if (text[i] === ']') {
          i++
          return
        }
        if (/[\s,#]/.test(text[i]!)) continue
        index.set([...path, element], line)
        readValue([...path, element])
      }
    }
    if (ch === '{') {
      i++
      for (;;) {
        skipSpace()
        if (i >= n || text[i] === '\n') return
        if (text[i] === '}') {
          i++
          return
        }
        if (text[i] === ',') {
          i++
          continue
        }
        const key = readKey(text, i)
        if (!key) return
        i = key.end
        skipSpace()
        if (text[i] === '=') i++
        index.set([...path, ...key.parts], line)
        readValue([...path, ...key.parts])
      }
    }
    // number, boolean, date: up to a delimiter
    while (i < n && !/[,\]}\n#]/.test(text[i]!)) i++
  }

  while (i < n) {
    skipSpace()
    skipComment()
    if (i >= n) break
    if (text[i] === '\n') {
      line++
      i++
      continue
    }
    if (text[i] === '[') {
      const array = text[i + 1] === '['
      const key = readKey(text, i + (array ? 2 : 1))
      if (key) {
        table = key.parts
        index.set(table, line)
      }
      while (i < n && text[i] !== '\n') i++
      continue
    }
    const key = readKey(text, i)
    if (!key) {
      while (i < n && text[i] !== '\n') i++
      continue
    }
    i = key.end
    skipSpace()
    if (text[i] === '=') i++
    const path = [...table, ...key.parts]
    // A dotted key (`core.workspace = true`) also places its prefixes: `core` is written on this line.
    for (let n = table.length + 1; n <= path.length; n++) index.set(path.slice(0, n), line)
    readValue(path)
    while (i < n && text[i] !== '\n') i++
  }
  return index
}

/**
 * Indexes a JSON document: the line of every object key and array element, by path.
 *
 * @example
 * jsonLines('{\n  "dependencies": {\n    "core": "file:../core"\n  }\n}').find(['dependencies', 'core']) // 3
 */
export function jsonLines(text: string): LineIndex {
  const index = new LineIndex()
  let i = 0
  let line = 1
  const n = text.length
  const space = () => {
    while (i < n && /\s/.test(text[i]!)) {
      if (text[i] === '\n') line++
      i++
    }
  }
  const string = (): string => {
    const start = i
    i++
    while (i < n && text[i] !== '"') i += text[i] === '\\' ? 2 : 1
    i++
    return unescapeBasic(text.slice(start + 1, i - 1))
  }
  const value = (path: Array<string | number>): void => {
    space()
    const ch = text[i]
    if (ch === '{') {
      i++
      for (;;) {
        space()
        if (i >= n || text[i] === '}') {
          i++
          return
        }
        if (text[i] === ',') {
          i++
          continue
        }
        const keyLine = line
        const key = string()
        space()
        i++ // ':'
        index.set([...path, key], keyLine)
        value([...path, key])
      }
    }
    if (ch === '[') {
      i++
      let element = 0
      for (;;) {
        space()
        if (i >= n || text[i] === ']') {
          i++
          return
        }
        if (text[i] === ',') {
          i++
          element++
          continue
        }
        index.set([...path, element], line)
        value([...path, element])
      }
    }
    if (ch === '"') {
      string()
      return
    }
    while (i < n && !/[\s,\]}]/.test(text[i]!)) i++
  }
  value([])
  return index
}

/**
 * The 1-based line of character offset `offset` in `text`.
 *
 * @example
 * lineAt('a\nb\nc', 4) // 3
 */
export function lineAt(text: string, offset: number): number {
  let line = 1
  for (let k = 0; k < Math.min(offset, text.length); k++) if (text[k] === '\n') line++
  return line
}

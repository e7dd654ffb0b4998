/** One `key = value` line of a git config file. */
export interface ConfigEntry {
  /** Lowercased section name: `remote` in `[remote "origin"]`. */
  section: string
  /** Case-sensitive subsection: `origin` in `[remote "origin"]`; null when the section has none. */
  subsection: string | null
  /** Lowercased key name. */
  key: string
  /** The value with quotes and escapes resolved; null for a bare key (which git reads as boolean true). */
  value: string | null
}

const NAME_CHAR = /[A-Za-z0-9-]/
const SECTION_CHAR = /[A-Za-z0-9.-]/

function skipLine(text: string, i: number): number {
  const end = text.indexOf('\n', i)
  return end === -1 ? text.length : end + 1
}

/**
 * Parses git config text the way git does where it matters for reading: sections with quoted or legacy dotted
 * subsections, case-insensitive section and key names, quoted values, `\` escapes and line continuations, `#` and
 * `;` comments (also after a value). Malformed lines are skipped rather than failing the whole file.
 *
 * @example
 * parseGitConfig('[remote "origin"]\n\turl = "git@github.com:org/repo.git" # fork')
 * // [{ section: 'remote', subsection: 'origin', key: 'url', value: 'git@github.com:org/repo.git' }]
 */
export function parseGitConfig(source: string): ConfigEntry[] {
  const text = source.replace(/\r\n/g, '\n')
  const entries: ConfigEntry[] = []
  let section = ''
  let subsection: string | null = null
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0
  while (i < text.length) {
    const c = text[i]!
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++
    } else if (c === '#' || c === ';') {
      i = skipLine(text, i)
    } else if (c === '[') {
      const header = parseHeader(text, i + 1)
      if (header === null) {
        // Keys under a broken header must not land in the previous section.
        section = ''
        subsection = null
        i = skipLine(text, i)
      } else {
        ;({ section, subsection } = header)
        i = header.end
      }
    } else if (/[A-Za-z]/.test(c) && section !== '') {
      let end = i
      while (end < text.length && NAME_CHAR.test(text[end]!)) end++
      const key = text.slice(i, end).toLowerCase()
      while (text[end] === ' ' || text[end] === '\t') end++
      const next = text[end]
      if (next === '=') {
        const { value, end: valueEnd } = parseValue(text, end + 1)
        entries.push({ section, subsection, key, value })
        i = valueEnd
      } else if (next === undefined || next === '\n' || next === '#' || next === ';') {
        entries.push({ section, subsection, key, value: null })
        i = next === '\n' ? end + 1 : skipLine(text, end)
      } else {
        i = skipLine(text, i)
      }
    } else {
      i = skipLine(text, i)
    }
  }
  return entries
}

function parseHeader(
  text: string,
  start: number,
): { section: string; subsection: string | null; end: number } | null {
  let i = start
  while (i < text.length && SECTION_CHAR.test(text[i]!)) i++
  const name = text.slice(start, i)
  if (name === '') return null
  if (text[i] === ']') {
    // Legacy `[section.sub]`: git lowercases the whole thing.
    const dot = name.indexOf('.')
    const lower = name.toLowerCase()
    return dot === -1
      ? { section: lower, subsection: null, end: i + 1 }
      : { section: lower.slice(0, dot), subsection: lower.slice(dot + 1), end: i + 1 }
  }
  if (text[i] !== ' ' && text[i] !== '\t') return null
  while (text[i] === ' ' || text[i] === '\t') i++
  if (text[i] !== '"') return null
  i++
  let sub = ''
  for (;;) {
    const c = text[i]
    if (c === undefined || c === '\n') return null
    if (c === '"') break
    if (c === '\\') {
      const escaped = text[i + 1]
      if (escaped === undefined || escaped === '\n') return null
      sub += escaped
      i += 2
    } else {
      sub += c
      i++
    }
  }
  if (text[i + 1] !== ']') return null
  return { section: name.toLowerCase(), subsection: sub, end: i + 2 }
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', b: '\b', '"': '"', '\\': '\\' }

function parseValue(text: string, start: number): { value: string; end: number } {
  let value = ''
  let pendingSpace = ''
  let quoted = false
  let i = start
  while (i < text.length) {
    const c = text[i]!
    if (c === '\n') return { value, end: i + 1 }
    if (!quoted && (c === '#' || c === ';')) return { value, end: skipLine(text, i) }
    if (!quoted && (c === ' ' || c === '\t' || c === '\r')) {
      // Leading and trailing whitespace is dropped, inner whitespace kept.
      if (value !== '') pendingSpace += c === '\r' ? '' : c
      i++
      continue
    }
    value += pendingSpace
    pendingSpace = ''
    if (c === '\\') {
      const escaped = text[i + 1]
      if (escaped === '\n') {
        i += 2
        continue
      }
      if (escaped === undefined) break
      value += ESCAPES[escaped] ?? escaped
      i += 2
    } else if (c === '"') {
      quoted = !quoted
      i++
    } else {
      value += c
      i++
    }
  }
  return { value, end: i }
}

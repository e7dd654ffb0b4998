// JSON helpers for rewriting a file someone else owns: keep what we did not touch as it was written, and say
// exactly where a broken file is broken.

interface JsonWithRaw {
  rawJSON?: (text: string) => unknown
  isRawJSON?: (value: unknown) => boolean
}
const rawJson = (JSON as unknown as JsonWithRaw).rawJSON
const isRawJson = (JSON as unknown as JsonWithRaw).isRawJSON ?? (() => false)

/** A JSON text that failed to parse: where (1-based) and why. */
export interface JsonSyntaxProblem {
  line: number | null
  column: number | null
  message: string
}

/**
 * Parses JSON, keeping each number's original text when re-serialising it would change it (`1.0`, `1e3`, integers
 * beyond 2^53), so rewriting a settings file does not alter values we never meant to touch.
 *
 * @example
 * JSON.stringify(parseJsonPreservingNumbers('{"a": 1.0}')) // '{"a":1.0}'
 */
export function parseJsonPreservingNumbers(text: string): unknown {
  if (!rawJson) return JSON.parse(text)
  return JSON.parse(text, (_key: string, value: unknown, context?: { source?: string }) =>
    typeof value === 'number' && context?.source !== undefined && String(value) !== context.source
      ? rawJson(context.source)
      : value,
  )
}

/**
 * Describes why `text` is not valid JSON: V8's reason without its echo of the input, and the line and column of
 * the first error (found by our own scan, since V8 omits the position for some errors).
 *
 * @example
 * describeJsonError('{\n  "a": }', new SyntaxError("Unexpected token '}'")) // { line: 2, column: 8, message: "Unexpected token '}'" }
 */
export function describeJsonError(text: string, error: unknown): JsonSyntaxProblem {
  const raw = error instanceof Error ? error.message : String(error)
  const message =
    raw
      .replace(/ in JSON at position \d+.*$/s, '')
      .replace(/, (".*"|\.\.\..*) is not valid JSON$/s, '')
      .trim() || 'invalid JSON'
  let offset = firstSyntaxErrorOffset(text)
  if (offset === null) {
    const match = /at position (\d+)/.exec(raw)
    offset = match ? Number(match[1]) : null
  }
  if (offset === null) return { line: null, column: null, message }
  const before = text.slice(0, offset)
  const line = before.split('\n').length
  const column = offset - (before.lastIndexOf('\n') + 1) + 1
  return { line, column, message }
}

const WHITESPACE = new Set([' ', '\t', '\n', '\r'])
const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't'])
const HEX = /^[0-9a-fA-F]{4}$/
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y

/** Offset of the first character that makes `text` invalid JSON (RFC 8259), or null if it is valid. */
function firstSyntaxErrorOffset(text: string): number | null {
  let i = 0
  const skip = () => {
    while (i < text.length && WHITESPACE.has(text[i]!)) i++
  }
  // Each parser returns false with `i` at the offending character.
  const string = (): boolean => {
    i++ // opening quote
    while (i < text.length) {
      const c = text[i]!
      if (c === '"') {
        i++
        return true
      }
      if (c < ' ') return false
      if (c === '\\') {
        const next = text[i + 1]
        if (next === 'u') {
          if (!HEX.test(text.slice(i + 2, i + 6))) {
            i += 2
            return false
          }
          i += 6
        } else if (next !== undefined && ESCAPES.has(next)) i += 2
        else {
          i++
          return false
        }
      } else i++
    }
    return false
  }
  const value = (): boolean => {
    skip()
    const c = text[i]
    if (c === '{') {
      i++
      skip()
      if (text[i] === '}') {
        i++
        return true
      }
      for (;;) {
        skip()
        if (text[i] !== '"' || !string()) return false
        skip()
        if (text[i] !== ':') return false
        i++
        if (!value()) return false
        skip()
        if (text[i] === '}') {
          i++
          return true
        }
        if (text[i] !== ',') return false
        i++
      }
    }
    if (c === '[') {
      i++
      skip()
      if (text[i] === ']') {
        i++
        return true
      }
      for (;;) {
        if (!value()) return false
        skip()
        if (text[i] === ']') {
          i++
          return true
        }
        if (text[i] !== ',') return false
        i++
      }
    }
    if (c === '"') return string()
    const word = ['true', 'false', 'null'].find((w) => w[0] === c)
    if (word) {
      // Stop at the first wrong letter, which is where V8 reports the error too.
      for (const letter of word) {
        if (text[i] !== letter) return false
        i++
      }
      return true
    }
    NUMBER.lastIndex = i
    const number = NUMBER.exec(text)
    if (!number) return false
    i += number[0].length
    return true
  }
  try {
    if (!value()) return i
    skip()
    return i < text.length ? i : null
  } catch {
    return null // nesting too deep for our recursion: let the caller fall back to V8's position
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !isRawJson(value)
}

/**
 * Serialises JSON with object keys sorted, so two values compare equal regardless of key order.
 *
 * @example
 * canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] }) === canonicalJson({ a: [{ c: 3, d: 2 }], b: 1 }) // true
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => {
    if (!isPlainObject(item)) return item
    // fromEntries defines own properties, so a "__proto__" key stays a key.
    return Object.fromEntries(
      Object.keys(item)
        .sort()
        .map((key) => [key, item[key]]),
    )
  })
}

import { InvalidMemoryError } from './errors.ts'

// One canonical key scheme, used by every writer and by the session-start loader: segments joined by `/`.
// A segment is any Unicode text without `/`, control characters or surrounding spaces (NFC-normalised); `.` and `..`
// are refused so a key never names a relative path. Dots inside a segment are ordinary characters: `v1.2` and `v1.3`
// are different keys (the dirmacs store split keys on dots and let them overwrite each other).

const MAX_KEY = 1024
const CONTROL = /\p{Cc}/u

/**
 * Validates and normalises a key path; throws InvalidMemoryError with the reason.
 *
 * @example
 * canonicalKey(' project/api/token-ttl ') // 'project/api/token-ttl'
 */
export function canonicalKey(key: string): string {
  const normal = key.normalize('NFC').trim()
  if (normal.length === 0) throw new InvalidMemoryError('a memory key cannot be empty')
  if (normal.length > MAX_KEY) throw new InvalidMemoryError(`a memory key is at most ${MAX_KEY} characters`)
  if (CONTROL.test(normal))
    throw new InvalidMemoryError(`memory key ${JSON.stringify(key)} has a control character`)
  const segments = normal.split('/')
  for (const segment of segments) {
    if (segment === '') throw new InvalidMemoryError(`memory key ${JSON.stringify(key)} has an empty segment`)
    if (segment !== segment.trim()) {
      throw new InvalidMemoryError(`memory key ${JSON.stringify(key)}: a segment starts or ends with a space`)
    }
    if (segment === '.' || segment === '..') {
      throw new InvalidMemoryError(`memory key ${JSON.stringify(key)}: "." and ".." are not segments`)
    }
  }
  return normal
}

/**
 * A prefix for load/search: '' (everything) or a canonical key (a trailing `/` or `/*` is accepted and dropped).
 *
 * @example
 * canonicalPrefix('project/api/*') // 'project/api'
 */
export function canonicalPrefix(prefix: string): string {
  const trimmed = prefix.normalize('NFC').trim().replace(/\/\*$/, '').replace(/\/$/, '')
  return trimmed === '' || trimmed === '*' ? '' : canonicalKey(trimmed)
}

/**
 * Whether `key` is at or under `prefix`, on a segment boundary (`a/b` covers `a/b` and `a/b/c`, not `a/bc`).
 *
 * @example
 * underPrefix('products/x', 'products') // true; underPrefix('products_old/x', 'products') // false
 */
export function underPrefix(key: string, prefix: string): boolean {
  return prefix === '' || key === prefix || key.startsWith(`${prefix}/`)
}

// Lowercase only: on a case-insensitive file system (macOS, Windows) `Foo` and `foo` must not share a file.
const SAFE = /^[a-z0-9_-]$/

/**
 * Encodes one key segment as a file-name component: reversible and collision-free (every character outside
 * [a-z0-9_-] is %XX-encoded as UTF-8, `.`, `%` and capitals included), so `v1.2` and `v1.3` never meet, `Foo` and
 * `foo` stay apart on case-insensitive file systems, and no segment can be `..` on disk.
 *
 * @example
 * encodeSegment('v1.2') // 'v1%2E2'
 */
export function encodeSegment(segment: string): string {
  let out = ''
  for (const char of segment) {
    if (SAFE.test(char)) out += char
    else
      for (const byte of new TextEncoder().encode(char))
        out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return out
}

/**
 * Decodes encodeSegment's output; throws InvalidMemoryError for anything it could not have produced.
 *
 * @example
 * decodeSegment('v1%2E2') // 'v1.2'
 */
export function decodeSegment(encoded: string): string {
  if (!/^(?:[a-z0-9_-]|%[0-9A-F]{2})+$/.test(encoded)) {
    throw new InvalidMemoryError(`${JSON.stringify(encoded)} is not an encoded key segment`)
  }
  const decoded = decodeURIComponent(encoded)
  if (encodeSegment(decoded) !== encoded) {
    throw new InvalidMemoryError(`${JSON.stringify(encoded)} is not the canonical encoding of a key segment`)
  }
  return decoded
}

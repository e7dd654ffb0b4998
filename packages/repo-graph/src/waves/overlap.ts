// Whether two tasks' declared file patterns can touch the same file. The answer must never be "no" when the truth is
// "yes" (two tasks in one wave would then race on a file), so glob against glob errs towards overlap.

import picomatch from 'picomatch'

/** Why two patterns overlap. */
export type OverlapRule =
  /** Two literal paths that are equal. */
  | 'same-path'
  /** A literal path that a glob matches. */
  | 'path-matches-glob'
  /** Two globs that may match a common file: neither their directories nor their fixed endings keep them apart. */
  | 'globs-may-intersect'

export interface PatternOverlap {
  /** The pattern from the first list. */
  left: string
  /** The pattern from the second list. */
  right: string
  rule: OverlapRule
  /** Files known to be touched by both: the literal path, or tracked files both globs match (may be empty). */
  files: string[]
}

export interface OverlapOptions {
  /** The repository's tracked files (`git ls-files`), to name the files two globs share. */
  trackedFiles?: readonly string[]
}

// Declared patterns cover dotfiles too: `src/**` touching `src/.env` is still inside `src/**`.
const MATCH_OPTIONS = { dot: true } as const
const MAX_CACHED = 10_000
const matchers = new Map<string, picomatch.Matcher>()
// Per tracked-file list (by identity): pattern → the tracked files it matches. Lets the scheduler compare many
// pairs against a large repository without rescanning the list for every pair.
const expansions = new WeakMap<readonly string[], Map<string, string[]>>()

function matcher(glob: string): picomatch.Matcher {
  let match = matchers.get(glob)
  if (!match) {
    if (matchers.size >= MAX_CACHED) matchers.clear()
    match = picomatch(glob, MATCH_OPTIONS)
    matchers.set(glob, match)
  }
  return match
}

/**
 * Whether a file pattern is a glob (has `*`, `?`, `[…]`, `{…}` or an extglob) rather than a literal path.
 *
 * @example
 * isGlob('src/**\/*.ts') // true
 * isGlob('src/index.ts') // false
 */
export function isGlob(pattern: string): boolean {
  return picomatch.scan(pattern).isGlob
}

/**
 * Whether `file` (repo-relative) is covered by any of `patterns` (literal paths or globs).
 *
 * @example
 * matchesAny('src/a/x.ts', ['src/**\/*.ts']) // true
 */
export function matchesAny(file: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => (isGlob(p) ? matcher(p)(file) : p === file))
}

function expand(glob: string, tracked: readonly string[]): string[] {
  let cache = expansions.get(tracked)
  if (!cache) {
    cache = new Map()
    expansions.set(tracked, cache)
  }
  let files = cache.get(glob)
  if (!files) {
    const match = matcher(glob)
    files = tracked.filter((f) => match(f))
    cache.set(glob, files)
  }
  return files
}

/** Whether one static directory prefix contains the other (segment-wise: `src` contains `src/a`, not `srcx`). */
function prefixesRelated(a: string, b: string): boolean {
  return a === '' || b === '' || a === b || b.startsWith(`${a}/`) || a.startsWith(`${b}/`)
}

/**
 * The fixed text every match of a glob ends with: what follows the last special character in its last segment
 * (`.ts` for `src/**\/*.ts`, `index.ts` for `**\/index.ts`, '' for `src/**` or `*.{ts,js}`).
 */
function fixedEnding(glob: string): string {
  const last = glob.slice(glob.lastIndexOf('/') + 1)
  const special = Math.max(...[...'*?[]{}()!+@\\'].map((c) => last.lastIndexOf(c)))
  return last.slice(special + 1)
}

/**
 * Whether two file patterns can touch the same file, and why. Literal vs literal: equal paths. Literal vs glob: the
 * glob matches the path. Glob vs glob: they overlap unless their static directory prefixes are disjoint (`src/a/**`
 * vs `src/b/**`) or their fixed endings cannot both hold (`*.ts` vs `*.md`); with `trackedFiles`, the overlap names
 * the tracked files both match. Returns null when they cannot overlap.
 *
 * @example
 * patternOverlap('src/**\/*.ts', 'src/a/x.ts') // { left: 'src/**\/*.ts', right: 'src/a/x.ts', rule: 'path-matches-glob', files: ['src/a/x.ts'] }
 * patternOverlap('src/**\/*.ts', 'docs/**') // null
 */
export function patternOverlap(a: string, b: string, options: OverlapOptions = {}): PatternOverlap | null {
  const globA = isGlob(a)
  const globB = isGlob(b)
  if (!globA && !globB) return a === b ? { left: a, right: b, rule: 'same-path', files: [a] } : null
  if (!globA || !globB) {
    const [literal, glob] = globA ? [b, a] : [a, b]
    return matcher(glob)(literal) ? { left: a, right: b, rule: 'path-matches-glob', files: [literal] } : null
  }
  if (!prefixesRelated(picomatch.scan(a).base, picomatch.scan(b).base)) return null
  const endA = fixedEnding(a)
  const endB = fixedEnding(b)
  if (!endA.endsWith(endB) && !endB.endsWith(endA)) return null
  let files: string[] = []
  const tracked = options.trackedFiles
  if (tracked) {
    const inB = new Set(expand(b, tracked))
    files = expand(a, tracked).filter((f) => inB.has(f))
  }
  return { left: a, right: b, rule: 'globs-may-intersect', files }
}

/**
 * Every pair of patterns, one from each list, that can touch the same file (see `patternOverlap`); empty when the
 * two lists are disjoint. Used to keep two tasks out of one wave and to say why.
 *
 * @example
 * findOverlaps(['src/**\/*.ts'], ['src/a/x.ts', 'docs/a.md'])
 * // [{ left: 'src/**\/*.ts', right: 'src/a/x.ts', rule: 'path-matches-glob', files: ['src/a/x.ts'] }]
 */
export function findOverlaps(
  left: readonly string[],
  right: readonly string[],
  options: OverlapOptions = {},
): PatternOverlap[] {
  const found: PatternOverlap[] = []
  for (const a of left) {
    for (const b of right) {
      const overlap = patternOverlap(a, b, options)
      if (overlap) found.push(overlap)
    }
  }
  return found
}

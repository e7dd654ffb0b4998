import { isNode, LineCounter, parseDocument } from 'yaml'
import type { z } from 'zod'

/** One thing wrong in a YAML document, located. */
export interface YamlIssue {
  /** `syntax`: not valid YAML (or a duplicate key); `schema`: valid YAML with a wrong value. */
  kind: 'syntax' | 'schema'
  /** 1-based; null when no node of the document can be pointed at. */
  line: number | null
  column: number | null
  /** The key path, dotted (`repos.ares.build`); empty for the document or a syntax error. */
  path: string
  message: string
}

/** A successful parse: the value, and the line of any path in it. */
export interface YamlParsed<T> {
  ok: true
  value: T
  /** The line of the value at `path`, or of the closest enclosing one that exists; null for an empty document. */
  lineOf: (path: ReadonlyArray<string | number>) => number | null
}

/**
 * Parses YAML text and validates it with `schema`. Syntax errors, duplicate keys and schema violations come back as
 * issues located at the offending value (or the closest enclosing key that exists), never thrown. On success,
 * `lineOf(path)` gives the line of any value, for checks a schema cannot make (duplicate ids, unknown references).
 *
 * @example
 * const result = parseYaml('repos:\n  api: 3\n', z.object({ repos: z.record(z.string(), z.object({})) }))
 * // { ok: false, issues: [{ kind: 'schema', line: 2, column: 8, path: 'repos.api', message: 'Invalid input: expected object, received number' }] }
 */
export function parseYaml<T>(
  text: string,
  schema: z.ZodType<T>,
): YamlParsed<T> | { ok: false; issues: YamlIssue[] } {
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true })
  if (doc.errors.length > 0) {
    return {
      ok: false,
      issues: doc.errors.map((e) => ({
        kind: 'syntax' as const,
        line: e.linePos?.[0].line ?? null,
        column: e.linePos?.[0].col ?? null,
        path: '',
        message: e.message.split('\n')[0]!,
      })),
    }
  }
  // A missing key has no node of its own: point at the closest enclosing one that exists.
  const locate = (path: ReadonlyArray<PropertyKey>): { line: number; col: number } | null => {
    for (let depth = path.length; depth >= 0; depth--) {
      const node = doc.getIn(path.slice(0, depth) as string[], true)
      if (isNode(node) && node.range) return lines.linePos(node.range[0])
    }
    return null
  }
  let value: unknown
  try {
    value = doc.toJS({ maxAliasCount: 1000 }) ?? {}
  } catch (error) {
    // An alias bomb (`a: &a [*a, *a, …]` nested) expands past the limit: refuse it, with where it starts.
    const at = doc.contents?.range ? lines.linePos(doc.contents.range[0]) : null
    return {
      ok: false,
      issues: [
        {
          kind: 'syntax',
          line: at?.line ?? null,
          column: at?.col ?? null,
          path: '',
          message: (error as Error).message,
        },
      ],
    }
  }
  const result = schema.safeParse(value)
  if (result.success) return { ok: true, value: result.data, lineOf: (path) => locate(path)?.line ?? null }
  return {
    ok: false,
    issues: result.error.issues.map((issue) => {
      // An unknown key is reported on its parent: point at the key itself.
      const at = locate(issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]!] : issue.path)
      return {
        kind: 'schema' as const,
        line: at?.line ?? null,
        column: at?.col ?? null,
        path: issue.path.join('.'),
        message: issue.message,
      }
    }),
  }
}

/**
 * An issue as one line for people: `line 2, column 8: repos.api: expected object`.
 *
 * @example
 * formatYamlIssue({ kind: 'schema', line: 2, column: 8, path: 'repos.api', message: 'expected object' })
 */
export function formatYamlIssue(issue: YamlIssue): string {
  const at = issue.line === null ? '' : `line ${issue.line}, column ${issue.column ?? '?'}: `
  const path = issue.path ? `${issue.path}: ` : issue.kind === 'schema' ? '(top level): ' : ''
  return `${at}${path}${issue.message}`
}

// Helpers the TOML manifests (Cargo.toml, pyproject.toml) share.
import { parse, TomlError } from 'smol-toml'
import { type LineIndex, tomlLines } from './lines.ts'
import type { ParsedManifest } from './types.ts'

export type Table = Record<string, unknown>

/** True for a plain object (a TOML table, a JSON object), false for arrays, dates and scalars. */
export function isTable(value: unknown): value is Table {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date)
}

/** Reads TOML, or returns the parse problem with its line. */
export function readToml(
  text: string,
  file: string,
  result: ParsedManifest,
): { doc: Table; lines: LineIndex } | null {
  try {
    return { doc: parse(text) as Table, lines: tomlLines(text) }
  } catch (error) {
    const line = error instanceof TomlError ? error.line : null
    const message = (error as Error).message.split('\n')[0]!.replace(/^Invalid TOML document: /, '')
    result.problems.push({ kind: 'parse', message: `invalid TOML: ${message}`, source: { file, line } })
    return null
  }
}

/** Members and exclude globs of a `[workspace]`-like table, with problems for wrong shapes. */
export function readMembers(
  table: Table,
  path: string[],
  lines: LineIndex,
  result: ParsedManifest,
): { members: string[]; exclude: string[]; line: number | null } {
  const list = (key: string): string[] => {
    const value = table[key]
    if (value === undefined) return []
    if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[]
    result.problems.push({
      kind: 'invalid',
      message: `${[...path, key].join('.')} must be an array of strings`,
      source: { file: result.file, line: lines.find([...path, key]) },
    })
    return []
  }
  return { members: list('members'), exclude: list('exclude'), line: lines.find(path) }
}

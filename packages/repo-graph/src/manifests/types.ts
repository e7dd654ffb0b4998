import type { DependencyScope, Ecosystem, Problem } from '../types.ts'

/** Where a declared dependency says to get the package from, before it is resolved against the fleet. */
export type DepSpec =
  /** Relative to the directory of the manifest that declares it (or of the workspace root, for inherited ones). */
  | { type: 'path'; path: string }
  | { type: 'git'; url: string }
  /** Taken from the workspace: Cargo `workspace = true`, npm `workspace:`, uv `{ workspace = true }`. */
  | { type: 'workspace' }
  | { type: 'registry' }

export interface DeclaredDep {
  /** The package's real name (a Cargo `package =` rename and an npm `npm:` alias are undone). */
  name: string
  scope: DependencyScope
  spec: DepSpec
  /** The manifest line that creates the dependency, trimmed: what `why` shows. */
  raw: string
  line: number | null
}

export interface DeclaredPackage {
  name: string
  version: string | null
  deps: DeclaredDep[]
}

/** What a workspace root says about its members; globs are relative to the manifest's directory. */
export interface DeclaredWorkspace {
  members: string[]
  exclude: string[]
  line: number | null
}

/** One manifest file, read: pure data, so it can be cached by the file's mtime and size. */
export interface ParsedManifest {
  file: string
  ecosystem: Ecosystem
  /** Null for a manifest that declares no package (a Cargo virtual manifest, pnpm-workspace.yaml, go.work). */
  package: DeclaredPackage | null
  workspace: DeclaredWorkspace | null
  /** Specs a Cargo workspace root gives its members for `x = { workspace = true }`, by dependency name. */
  inherited: Record<string, DeclaredDep>
  problems: Problem[]
}

/** An empty result for `file`, to fill in. */
export function emptyManifest(file: string, ecosystem: Ecosystem): ParsedManifest {
  return { file, ecosystem, package: null, workspace: null, inherited: {}, problems: [] }
}

/** The trimmed text of 1-based `line`, capped so a minified manifest cannot bloat the graph. */
export function lineText(lines: readonly string[], line: number | null): string {
  if (line === null) return ''
  const text = (lines[line - 1] ?? '').trim()
  return text.length > 200 ? `${text.slice(0, 197)}...` : text
}

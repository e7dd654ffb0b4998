import { type Dirent, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { GENERATED_DIRS } from '../fs.ts'
import type { Ecosystem } from '../types.ts'
import { parseCargo } from './cargo.ts'
import { parseGoMod, parseGoWork } from './go.ts'
import { parsePackageJson, parsePnpmWorkspace } from './npm.ts'
import { parsePyproject } from './python.ts'
import type { ParsedManifest } from './types.ts'

export type { DeclaredDep, DeclaredPackage, DeclaredWorkspace, DepSpec, ParsedManifest } from './types.ts'

/** The manifest files the graph reads, by file name: which ecosystem each belongs to and its parser. */
export const MANIFESTS: Readonly<
  Record<string, { ecosystem: Ecosystem; parse: (text: string, file: string) => ParsedManifest }>
> = {
  'Cargo.toml': { ecosystem: 'cargo', parse: parseCargo },
  'package.json': { ecosystem: 'npm', parse: parsePackageJson },
  'pnpm-workspace.yaml': { ecosystem: 'npm', parse: parsePnpmWorkspace },
  'go.mod': { ecosystem: 'go', parse: parseGoMod },
  'go.work': { ecosystem: 'go', parse: parseGoWork },
  'pyproject.toml': { ecosystem: 'python', parse: parsePyproject },
}

/** The manifest that declares a package, per ecosystem (for messages). */
export const PACKAGE_MANIFEST: Readonly<Record<Ecosystem, string>> = {
  cargo: 'Cargo.toml',
  npm: 'package.json',
  go: 'go.mod',
  python: 'pyproject.toml',
}

/**
 * The manifest files of one working tree, up to `depth` directories down, skipping dependency and build directories,
 * hidden directories and nested repositories (each of those is a repository of its own).
 *
 * @example
 * findManifests('/opt/ares') // ['/opt/ares/Cargo.toml', '/opt/ares/crates/api/Cargo.toml']
 */
export function findManifests(root: string, depth = 6): string[] {
  const found: string[] = []
  const walk = (dir: string, level: number) => {
    let entries: Dirent[]
    try {
      entries = readdirSync(dir, { withFileTypes: true })
    } catch {
      return
    }
    if (level > 0 && entries.some((e) => e.name === '.git')) return
    for (const entry of entries) {
      const manifest = Object.hasOwn(MANIFESTS, entry.name)
      // A manifest may be a symlink to a shared one; a link to a directory is not followed (it may loop).
      if (manifest && (entry.isFile() || (entry.isSymbolicLink() && isFile(join(dir, entry.name)))))
        found.push(join(dir, entry.name))
      else if (
        entry.isDirectory() &&
        level < depth &&
        !entry.name.startsWith('.') &&
        !GENERATED_DIRS.has(entry.name)
      )
        walk(join(dir, entry.name), level + 1)
    }
  }
  walk(root, 0)
  return found.sort()
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile()
  } catch {
    return false
  }
}

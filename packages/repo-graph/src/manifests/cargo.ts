import type { DependencyScope } from '../types.ts'
import { isTable, readMembers, readToml } from './toml.ts'
import { type DeclaredDep, type DepSpec, emptyManifest, lineText, type ParsedManifest } from './types.ts'

const SECTIONS: ReadonlyArray<[string, DependencyScope]> = [
  ['dependencies', 'normal'],
  ['dev-dependencies', 'dev'],
  ['build-dependencies', 'build'],
]

/**
 * Reads a Cargo.toml: the package, its dependencies in every section (also `[target.'cfg(…)'.*]`), renames
 * (`package = "real"`), and a `[workspace]` with its members and `[workspace.dependencies]`. Never throws: bad TOML
 * or a dependency of the wrong shape becomes a problem with its line.
 *
 * @example
 * parseCargo('[package]\nname = "ares"\n[dependencies]\ncore = { path = "../core" }\n', '/opt/ares/Cargo.toml')
 * // package: { name: 'ares', deps: [{ name: 'core', spec: { type: 'path', path: '../core' }, line: 4, … }] }
 */
export function parseCargo(text: string, file: string): ParsedManifest {
  const result = emptyManifest(file, 'cargo')
  const read = readToml(text, file, result)
  if (!read) return result
  const { doc, lines } = read
  const rawLines = text.split('\n')

  // Each dependency with the key it is written under (which a `package =` rename makes differ from its name).
  const depsOf = (section: unknown, path: string[], scope: DependencyScope): Array<[string, DeclaredDep]> => {
    if (section === undefined) return []
    if (!isTable(section)) {
      result.problems.push({
        kind: 'invalid',
        message: `[${path.join('.')}] must be a table`,
        source: { file, line: lines.find(path) },
      })
      return []
    }
    const deps: Array<[string, DeclaredDep]> = []
    for (const [key, value] of Object.entries(section)) {
      const line = lines.find([...path, key])
      const dep = cargoDep(key, value, scope, line, lineText(rawLines, line))
      if (dep) deps.push([key, dep])
      else
        result.problems.push({
          kind: 'invalid',
          message: `dependency ${key} in [${path.join('.')}] must be a version string or a table`,
          source: { file, line },
        })
    }
    return deps
  }

  const pkg = doc.package
  if (pkg !== undefined) {
    const name = isTable(pkg) ? pkg.name : undefined
    if (typeof name !== 'string' || name === '') {
      result.problems.push({
        kind: 'invalid',
        message: '[package] has no name',
        source: { file, line: lines.find(['package']) },
      })
    } else {
      const deps: DeclaredDep[] = []
      for (const [section, scope] of SECTIONS)
        deps.push(...depsOf(doc[section], [section], scope).map(([, d]) => d))
      const targets = doc.target
      if (isTable(targets)) {
        for (const [cfg, table] of Object.entries(targets)) {
          if (!isTable(table)) continue
          for (const [section, scope] of SECTIONS)
            deps.push(...depsOf(table[section], ['target', cfg, section], scope).map(([, d]) => d))
        }
      }
      const version = (pkg as Record<string, unknown>).version
      result.package = { name, version: typeof version === 'string' ? version : null, deps }
    }
  }

  const workspace = doc.workspace
  if (isTable(workspace)) {
    result.workspace = readMembers(workspace, ['workspace'], lines, result)
    // Keyed as members write them: `alias = { workspace = true }` names the key, which may rename (`package =`).
    for (const [key, dep] of depsOf(workspace.dependencies, ['workspace', 'dependencies'], 'normal'))
      result.inherited[key] = dep
  }
  return result
}

function cargoDep(
  key: string,
  value: unknown,
  scope: DependencyScope,
  line: number | null,
  raw: string,
): DeclaredDep | null {
  if (typeof value === 'string') return { name: key, scope, spec: { type: 'registry' }, raw, line }
  if (!isTable(value)) return null
  const name = typeof value.package === 'string' ? value.package : key
  let spec: DepSpec = { type: 'registry' }
  if (value.workspace === true) spec = { type: 'workspace' }
  else if (typeof value.path === 'string') spec = { type: 'path', path: value.path }
  else if (typeof value.git === 'string') spec = { type: 'git', url: value.git }
  return { name, scope: value.optional === true && scope === 'normal' ? 'optional' : scope, spec, raw, line }
}

import { fileURLToPath } from 'node:url'
import type { DependencyScope } from '../types.ts'
import type { LineIndex } from './lines.ts'
import { isTable, readMembers, readToml, type Table } from './toml.ts'
import { type DeclaredDep, type DepSpec, emptyManifest, lineText, type ParsedManifest } from './types.ts'

/**
 * A Python distribution name in its comparable form (PEP 503): lowercase, runs of `-`, `_` and `.` as one `-`.
 *
 * @example
 * normalizePythonName('My_Package.Core') // 'my-package-core'
 */
export function normalizePythonName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-')
}

const REQUIREMENT = /^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(\[[^\]]*\])?\s*(@\s*([^;\s]+))?/

/** The name and, for a direct reference (`name @ file:///…`, `name @ git+https://…`), the spec of a PEP 508 string. */
function requirement(text: string): { name: string; spec: DepSpec } | null {
  const match = REQUIREMENT.exec(text)
  if (!match) return null
  const name = normalizePythonName(match[1]!)
  const url = match[4]
  if (url?.startsWith('file://')) {
    try {
      return { name, spec: { type: 'path', path: fileURLToPath(url) } }
    } catch {
      return { name, spec: { type: 'path', path: decodeURIComponent(url.slice('file://'.length)) } }
    }
  }
  // `file:../lib` (relative, as uv and pip accept it): relative to the project, not to the file system root.
  if (url?.startsWith('file:'))
    return { name, spec: { type: 'path', path: decodeURIComponent(url.slice('file:'.length)) } }
  if (url?.startsWith('git+'))
    return { name, spec: { type: 'git', url: url.slice(4).replace(/@[^/@]*$/, '') } }
  return { name, spec: { type: 'registry' } }
}

/** A uv or Poetry source/dependency table: `{ path = … }`, `{ git = … }`, `{ workspace = true }`. */
function tableSpec(value: Table): DepSpec | null {
  if (value.workspace === true) return { type: 'workspace' }
  if (typeof value.path === 'string') return { type: 'path', path: value.path }
  if (typeof value.git === 'string') return { type: 'git', url: value.git }
  return null
}

/**
 * Reads a pyproject.toml: the PEP 621 `[project]` (dependencies, optional-dependencies, PEP 735 dependency-groups)
 * or Poetry's `[tool.poetry]` (dependencies and groups), uv's `[tool.uv.sources]` (path, git and workspace sources
 * override the matching requirement) and `[tool.uv.workspace]` members. Names are PEP 503-normalized.
 *
 * @example
 * parsePyproject('[project]\nname = "api"\ndependencies = ["core>=1"]\n[tool.uv.sources]\ncore = { path = "../core" }\n', f)
 * // package: { name: 'api', deps: [{ name: 'core', spec: { type: 'path', path: '../core' }, line: 5 }] }
 */
export function parsePyproject(text: string, file: string): ParsedManifest {
  const result = emptyManifest(file, 'python')
  const read = readToml(text, file, result)
  if (!read) return result
  const { doc, lines } = read
  const rawLines = text.split('\n')
  const tool = isTable(doc.tool) ? doc.tool : {}
  const uv = isTable(tool.uv) ? tool.uv : {}
  const poetry = isTable(tool.poetry) ? tool.poetry : undefined
  const project = isTable(doc.project) ? doc.project : undefined
  const invalid = (message: string, path: Array<string | number>) =>
    result.problems.push({ kind: 'invalid', message, source: { file, line: lines.find(path) } })

  if (isTable(uv.workspace))
    result.workspace = readMembers(uv.workspace, ['tool', 'uv', 'workspace'], lines, result)

  const deps: DeclaredDep[] = []
  const add = (name: string, spec: DepSpec, scope: DependencyScope, path: Array<string | number>) => {
    const line = lines.find(path)
    deps.push({ name, scope, spec, raw: lineText(rawLines, line), line })
  }
  const requirements = (list: unknown, path: Array<string | number>, scope: DependencyScope) => {
    if (list === undefined) return
    if (!Array.isArray(list))
      return invalid(`${path.join('.')} must be an array of requirement strings`, path)
    list.forEach((item, i) => {
      // PEP 735 groups may include other groups: { include-group = "x" }.
      if (isTable(item)) return
      const req = typeof item === 'string' ? requirement(item) : null
      if (req) add(req.name, req.spec, scope, [...path, i])
      else invalid(`${path.join('.')}[${i}] is not a requirement: ${JSON.stringify(item)}`, [...path, i])
    })
  }

  let name: unknown
  let version: unknown
  if (project) {
    name = project.name
    version = project.version
    requirements(project.dependencies, ['project', 'dependencies'], 'normal')
    if (isTable(project['optional-dependencies']))
      for (const [extra, list] of Object.entries(project['optional-dependencies']))
        requirements(list, ['project', 'optional-dependencies', extra], 'optional')
  }
  if (isTable(doc['dependency-groups']))
    for (const [group, list] of Object.entries(doc['dependency-groups']))
      requirements(list, ['dependency-groups', group], 'dev')
  if (poetry) {
    name ??= poetry.name
    version ??= poetry.version
    const poetryDeps = (table: unknown, path: string[], scope: DependencyScope) => {
      if (!isTable(table)) return
      for (const [key, value] of Object.entries(table)) {
        if (key.toLowerCase() === 'python') continue
        const spec = isTable(value)
          ? (tableSpec(value) ?? { type: 'registry' })
          : { type: 'registry' as const }
        if (typeof value !== 'string' && !isTable(value) && !Array.isArray(value))
          invalid(`${[...path, key].join('.')} must be a version string or a table`, [...path, key])
        else add(normalizePythonName(key), spec, scope, [...path, key])
      }
    }
    poetryDeps(poetry.dependencies, ['tool', 'poetry', 'dependencies'], 'normal')
    poetryDeps(poetry['dev-dependencies'], ['tool', 'poetry', 'dev-dependencies'], 'dev')
    if (isTable(poetry.group))
      for (const [group, table] of Object.entries(poetry.group))
        if (isTable(table))
          poetryDeps(table.dependencies, ['tool', 'poetry', 'group', group, 'dependencies'], 'dev')
  }

  // uv sources say where a requirement comes from; they make it local (or git, or workspace) without adding one.
  if (isTable(uv.sources)) applySources(uv.sources, deps, lines, rawLines, invalid)

  if (name === undefined) return result
  if (typeof name !== 'string' || name === '') {
    invalid(
      'project name must be a non-empty string',
      project ? ['project', 'name'] : ['tool', 'poetry', 'name'],
    )
    return result
  }
  result.package = {
    name: normalizePythonName(name),
    version: typeof version === 'string' ? version : null,
    deps,
  }
  return result
}

function applySources(
  sources: Table,
  deps: DeclaredDep[],
  lines: LineIndex,
  rawLines: readonly string[],
  invalid: (message: string, path: Array<string | number>) => void,
): void {
  for (const [key, value] of Object.entries(sources)) {
    const path = ['tool', 'uv', 'sources', key]
    // A list of sources applies per platform marker; the first local one is what a dev checkout uses.
    const tables = Array.isArray(value) ? value.filter(isTable) : isTable(value) ? [value] : []
    const spec = tables.map(tableSpec).find((s) => s !== null)
    if (tables.length === 0) {
      invalid(`tool.uv.sources.${key} must be a table`, path)
      continue
    }
    if (!spec) continue
    const line = lines.find(path)
    for (const dep of deps)
      if (dep.name === normalizePythonName(key))
        Object.assign(dep, { spec, line, raw: lineText(rawLines, line) })
  }
}

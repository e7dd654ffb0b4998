import { parseDocument } from 'yaml'
import type { DependencyScope } from '../types.ts'
import { jsonLines, lineAt } from './lines.ts'
import { isTable } from './toml.ts'
import { type DeclaredDep, type DepSpec, emptyManifest, lineText, type ParsedManifest } from './types.ts'

const SECTIONS: ReadonlyArray<[string, DependencyScope]> = [
  ['dependencies', 'normal'],
  ['devDependencies', 'dev'],
  ['peerDependencies', 'peer'],
  ['optionalDependencies', 'optional'],
]

// github:o/r, gitlab:o/r, bitbucket:o/r, and the bare o/r shorthand npm reads as GitHub.
const HOSTED = /^(github|gitlab|bitbucket):([^/\s#]+\/[^/\s#]+?)(?:\.git)?(?:#.*)?$/
const SHORTHAND = /^([A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+?)(?:\.git)?(?:#.*)?$/
const HOSTS: Record<string, string> = {
  github: 'github.com',
  gitlab: 'gitlab.com',
  bitbucket: 'bitbucket.org',
}

/**
 * What an npm/pnpm/yarn dependency version string points at: `workspace:*`, `file:../x`, `link:../x` and bare
 * relative paths are local; `git+ssh://…`, `github:o/r` and `o/r` are git; `npm:real@^1` is the registry package
 * `real`; anything else is a registry range.
 *
 * @example
 * npmSpec('core', 'file:../core') // { name: 'core', spec: { type: 'path', path: '../core' } }
 * npmSpec('ui', 'github:acme/ui#v2') // { name: 'ui', spec: { type: 'git', url: 'https://github.com/acme/ui' } }
 */
export function npmSpec(key: string, value: string): { name: string; spec: DepSpec } {
  const v = value.trim()
  if (v.startsWith('workspace:')) return { name: key, spec: { type: 'workspace' } }
  const local = /^(?:file|link|portal):(.*)$/.exec(v)
  if (local) return { name: key, spec: { type: 'path', path: local[1]! } }
  if (/^(?:\.{1,2}\/|\/|~\/)/.test(v)) return { name: key, spec: { type: 'path', path: v } }
  const alias = /^npm:((?:@[^/@]+\/)?[^@]+)(?:@.*)?$/.exec(v)
  if (alias) return { name: alias[1]!, spec: { type: 'registry' } }
  const hosted = HOSTED.exec(v)
  if (hosted) return { name: key, spec: { type: 'git', url: `https://${HOSTS[hosted[1]!]}/${hosted[2]}` } }
  if (/^git(?:\+[a-z]+)?:\/\/|^git@|^https?:\/\/.*\.git(?:#.*)?$/.test(v))
    return { name: key, spec: { type: 'git', url: v.replace(/^git\+/, '').replace(/#.*$/, '') } }
  const shorthand = SHORTHAND.exec(v)
  if (shorthand && !v.includes(':'))
    return { name: key, spec: { type: 'git', url: `https://github.com/${shorthand[1]}` } }
  return { name: key, spec: { type: 'registry' } }
}

/**
 * Reads a package.json: name, version, the four dependency sections, and `workspaces` (npm/yarn, array or
 * `{ packages }`). Never throws: invalid JSON or a wrong shape becomes a problem with its line.
 *
 * @example
 * parsePackageJson('{"name":"web","dependencies":{"ui":"workspace:*"}}', '/opt/web/package.json')
 * // package: { name: 'web', deps: [{ name: 'ui', spec: { type: 'workspace' }, … }] }
 */
export function parsePackageJson(text: string, file: string): ParsedManifest {
  const result = emptyManifest(file, 'npm')
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (error) {
    const message = (error as Error).message
    const position = /position (\d+)/.exec(message)
    const line = /\(line (\d+)/.exec(message)?.[1]
    result.problems.push({
      kind: 'parse',
      message: `invalid JSON: ${message}`,
      source: {
        file,
        // "Unexpected end of JSON input" has no position: the end is the place.
        line: line ? Number(line) : lineAt(text, position ? Number(position[1]) : text.length),
      },
    })
    return result
  }
  if (!isTable(doc)) {
    result.problems.push({
      kind: 'invalid',
      message: 'package.json must be an object',
      source: { file, line: 1 },
    })
    return result
  }
  const lines = jsonLines(text)
  const rawLines = text.split('\n')
  const invalid = (message: string, path: string[]) =>
    result.problems.push({ kind: 'invalid', message, source: { file, line: lines.find(path) } })

  const workspaces = doc.workspaces
  const globs = Array.isArray(workspaces) ? workspaces : isTable(workspaces) ? workspaces.packages : undefined
  if (workspaces !== undefined) {
    if (Array.isArray(globs) && globs.every((g) => typeof g === 'string'))
      result.workspace = { ...splitNegated(globs as string[]), line: lines.find(['workspaces']) }
    else invalid('workspaces must be an array of globs or { packages: [...] }', ['workspaces'])
  }

  if (doc.name === undefined) return result
  if (typeof doc.name !== 'string' || doc.name === '') {
    invalid('name must be a non-empty string', ['name'])
    return result
  }
  const deps: DeclaredDep[] = []
  for (const [section, scope] of SECTIONS) {
    const table = doc[section]
    if (table === undefined) continue
    if (!isTable(table)) {
      invalid(`${section} must be an object`, [section])
      continue
    }
    for (const [key, value] of Object.entries(table)) {
      const line = lines.find([section, key])
      if (typeof value !== 'string') {
        invalid(`${section}.${key} must be a version string`, [section, key])
        continue
      }
      deps.push({ ...npmSpec(key, value), scope, raw: lineText(rawLines, line), line })
    }
  }
  result.package = { name: doc.name, version: typeof doc.version === 'string' ? doc.version : null, deps }
  return result
}

/**
 * Reads pnpm-workspace.yaml's `packages` globs (`!glob` excludes).
 *
 * @example
 * parsePnpmWorkspace("packages:\n  - 'packages/*'\n  - '!**\/test/**'\n", '/opt/web/pnpm-workspace.yaml').workspace
 * // { members: ['packages/*'], exclude: ['**\/test/**'], line: 1 }
 */
export function parsePnpmWorkspace(text: string, file: string): ParsedManifest {
  const result = emptyManifest(file, 'npm')
  const doc = parseDocument(text, { prettyErrors: false })
  if (doc.errors.length > 0) {
    const error = doc.errors[0]!
    result.problems.push({
      kind: 'parse',
      message: `invalid YAML: ${error.message.split('\n')[0]}`,
      source: { file, line: lineAt(text, error.pos[0]) },
    })
    return result
  }
  const value = doc.toJS() as unknown
  const packages = isTable(value) ? value.packages : undefined
  if (packages === undefined) return result
  if (!Array.isArray(packages) || !packages.every((p) => typeof p === 'string')) {
    result.problems.push({
      kind: 'invalid',
      message: 'packages must be a list of globs',
      source: { file, line: lineAt(text, text.indexOf('packages')) },
    })
    return result
  }
  result.workspace = { ...splitNegated(packages as string[]), line: lineAt(text, text.indexOf('packages')) }
  return result
}

function splitNegated(globs: readonly string[]): { members: string[]; exclude: string[] } {
  return {
    members: globs.filter((g) => !g.startsWith('!')),
    exclude: globs.filter((g) => g.startsWith('!')).map((g) => g.slice(1)),
  }
}

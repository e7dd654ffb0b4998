import { type DeclaredDep, emptyManifest, type ParsedManifest } from './types.ts'

// Directives go.mod and go.work may hold; anything else is a syntax error for `go` too.
const DIRECTIVES = new Set([
  'module',
  'go',
  'toolchain',
  'godebug',
  'require',
  'replace',
  'exclude',
  'retract',
  'tool',
  'ignore',
  'use',
])

interface Directive {
  verb: string
  args: string[]
  line: number
  raw: string
}

/** Splits go.mod syntax into directives, expanding `verb ( … )` blocks; bad lines become problems. */
function directives(text: string, result: ParsedManifest): Directive[] {
  const out: Directive[] = []
  let block: string | null = null
  const lines = text.split('\n')
  for (let n = 0; n < lines.length; n++) {
    const raw = lines[n]!.trim()
    const code = raw.replace(/\/\/.*$/, '').trim()
    if (code === '') continue
    if (block !== null) {
      if (code === ')') block = null
      else out.push({ verb: block, args: words(code), line: n + 1, raw })
      continue
    }
    const [verb, ...args] = words(code)
    if (!DIRECTIVES.has(verb!)) {
      result.problems.push({
        kind: 'parse',
        message: `unknown directive: ${verb}`,
        source: { file: result.file, line: n + 1 },
      })
      continue
    }
    if (args.length === 1 && args[0] === '(') block = verb!
    else out.push({ verb: verb!, args, line: n + 1, raw })
  }
  if (block !== null)
    result.problems.push({
      kind: 'parse',
      message: `${block} block is not closed with )`,
      source: { file: result.file, line: lines.length },
    })
  return out
}

function words(code: string): string[] {
  return (code.match(/"(?:[^"\\]|\\.)*"|`[^`]*`|\S+/g) ?? []).map((w) =>
    /^["`]/.test(w) ? w.slice(1, -1) : w,
  )
}

const LOCAL = /^(?:\.{1,2}\/|\/|\.{1,2}$)/

/**
 * Reads a go.mod: the module path, its requirements, and `replace` directives. A requirement replaced by a local
 * directory (`replace x => ../x`) becomes a path dependency; the replace line is its provenance, since that is what
 * makes it local.
 *
 * @example
 * parseGoMod('module example.com/api\nrequire example.com/core v1.0.0\nreplace example.com/core => ../core\n', f)
 * // package: { name: 'example.com/api', deps: [{ name: 'example.com/core', spec: { type: 'path', path: '../core' }, line: 3 }] }
 */
export function parseGoMod(text: string, file: string): ParsedManifest {
  const result = emptyManifest(file, 'go')
  const list = directives(text, result)
  const module = list.find((d) => d.verb === 'module')
  if (!module?.args[0]) {
    result.problems.push({
      kind: 'invalid',
      message: 'go.mod has no module line',
      source: { file, line: null },
    })
    return result
  }
  const replaced = new Map<string, Directive>()
  for (const d of list) {
    if (d.verb !== 'replace') continue
    const arrow = d.args.indexOf('=>')
    if (arrow < 1 || arrow === d.args.length - 1) {
      result.problems.push({
        kind: 'invalid',
        message: 'replace needs `old => new`',
        source: { file, line: d.line },
      })
      continue
    }
    replaced.set(d.args[0]!, d)
  }
  const deps: DeclaredDep[] = []
  for (const d of list) {
    if (d.verb !== 'require') continue
    const [name, version] = d.args
    if (!name || !version) {
      result.problems.push({
        kind: 'invalid',
        message: 'require needs a module path and a version',
        source: { file, line: d.line },
      })
      continue
    }
    const replace = replaced.get(name)
    const target = replace?.args[replace.args.indexOf('=>') + 1]
    if (replace && target && LOCAL.test(target))
      deps.push({
        name,
        scope: 'normal',
        spec: { type: 'path', path: target },
        raw: replace.raw,
        line: replace.line,
      })
    else deps.push({ name, scope: 'normal', spec: { type: 'registry' }, raw: d.raw, line: d.line })
  }
  result.package = { name: module.args[0], version: null, deps }
  return result
}

/**
 * Reads a go.work: its `use` directories are the workspace's members.
 *
 * @example
 * parseGoWork('go 1.22\nuse (\n  ./api\n  ./core\n)\n', '/opt/svc/go.work').workspace
 * // { members: ['./api', './core'], exclude: [], line: 3 }
 */
export function parseGoWork(text: string, file: string): ParsedManifest {
  const result = emptyManifest(file, 'go')
  const uses = directives(text, result).filter((d) => d.verb === 'use')
  result.workspace = {
    members: uses.flatMap((d) => d.args),
    exclude: [],
    line: uses[0]?.line ?? null,
  }
  return result
}

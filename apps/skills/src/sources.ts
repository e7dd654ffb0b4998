import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { isMap, LineCounter, parseDocument } from 'yaml'
import { z } from 'zod'

/** Claude Code's cap on a skill's description (with when_to_use) in the always-loaded listing. */
export const DESCRIPTION_LIMIT = 1536

/** Frontmatter keys this bundle uses; anything else is a mistake (and non-portable under the Agent Skills spec). */
export const frontmatterSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'lowercase letters, digits and -, at most 64'),
  description: z.string().trim().min(20, 'say what it does and when to use it').max(DESCRIPTION_LIMIT),
  'allowed-tools': z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
  paths: z.array(z.string().min(1)).min(1).optional(),
  'argument-hint': z.string().min(1).optional(),
  'disable-model-invocation': z.boolean().optional(),
  'user-invocable': z.boolean().optional(),
})

export type Frontmatter = z.infer<typeof frontmatterSchema>

/** A SKILL.md or a command .md, read and checked. */
export interface SourceDoc {
  kind: 'skill' | 'command'
  /** The skill's folder name, or the command file's name without .md. */
  name: string
  /** Absolute path. */
  file: string
  /** Relative to the bundle root, for messages. */
  path: string
  text: string
  frontmatter: Frontmatter | null
  body: string
  /** The line the body starts on (1-based), so problems in it point at the file's real lines. */
  bodyLine: number
}

export interface Problem {
  path: string
  line: number
  message: string
}

export interface Bundle {
  root: string
  skills: SourceDoc[]
  commands: SourceDoc[]
  /** Template files (relative paths under templates/). */
  templates: string[]
  problems: Problem[]
}

/**
 * Reads a skills folder: `<name>/SKILL.md` skills, `commands/*.md`, `templates/*`. Frontmatter is parsed and
 * checked (keys, name = folder, description length); problems name their file and line, and never stop the read.
 *
 * @example
 * const bundle = readBundle('/work/dstack/skills')
 * bundle.skills.map((s) => s.name) // ['00-using-dstack', …, 'why']
 */
export function readBundle(root: string): Bundle {
  const bundle: Bundle = { root, skills: [], commands: [], templates: [], problems: [] }
  for (const entry of readdirSync(root).sort()) {
    const dir = join(root, entry)
    if (!statSync(dir).isDirectory() || ['commands', 'templates', 'hooks'].includes(entry)) continue
    const file = join(dir, 'SKILL.md')
    if (!existsSync(file)) {
      bundle.problems.push({ path: relative(root, dir), line: 0, message: 'a skill folder without SKILL.md' })
      continue
    }
    bundle.skills.push(readDoc(bundle, 'skill', entry, file))
  }
  const commands = join(root, 'commands')
  if (existsSync(commands))
    for (const entry of readdirSync(commands).sort())
      if (entry.endsWith('.md'))
        bundle.commands.push(readDoc(bundle, 'command', entry.slice(0, -3), join(commands, entry)))
  const templates = join(root, 'templates')
  if (existsSync(templates)) bundle.templates = readdirSync(templates).sort()
  const names = new Map<string, string>()
  for (const doc of [...bundle.skills, ...bundle.commands]) {
    const other = names.get(doc.name)
    // Claude Code lets a skill shadow a command of the same name: one of them would never run.
    if (other)
      bundle.problems.push({ path: doc.path, line: 1, message: `name "${doc.name}" is also ${other}` })
    else names.set(doc.name, doc.path)
  }
  return bundle
}

function readDoc(bundle: Bundle, kind: SourceDoc['kind'], name: string, file: string): SourceDoc {
  const path = relative(bundle.root, file)
  const text = readFileSync(file, 'utf8')
  const doc: SourceDoc = { kind, name, file, path, text, frontmatter: null, body: text, bodyLine: 1 }
  const match = /^---\n([\s\S]*?)\n---\n?/.exec(text)
  if (!match) {
    bundle.problems.push({ path, line: 1, message: 'no frontmatter (--- name, description ---) at the top' })
    return doc
  }
  doc.body = text.slice(match[0].length)
  doc.bodyLine = match[0].split('\n').length
  const lines = new LineCounter()
  const yaml = parseDocument(match[1]!, { lineCounter: lines, uniqueKeys: true })
  if (yaml.errors.length > 0 || !isMap(yaml.contents)) {
    const error = yaml.errors[0]
    const line = error ? lines.linePos(error.pos[0]).line + 1 : 2
    bundle.problems.push({
      path,
      line,
      message: `frontmatter is not valid YAML: ${error?.message.split('\n')[0] ?? 'not a map'}`,
    })
    return doc
  }
  const parsed = frontmatterSchema.safeParse(yaml.toJS())
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const node = issue.path.length ? yaml.getIn(issue.path.slice(0, 1), true) : null
      const range = (node as { range?: [number] } | null)?.range
      const line = range ? lines.linePos(range[0]).line + 1 : 2
      bundle.problems.push({
        path,
        line,
        message: `${issue.path.join('.') || 'frontmatter'}: ${issue.message}`,
      })
    }
    return doc
  }
  doc.frontmatter = parsed.data
  if (parsed.data.name !== name)
    bundle.problems.push({
      path,
      line: 2,
      message: `name "${parsed.data.name}" must be the ${kind === 'skill' ? 'folder' : 'file'} name "${name}"`,
    })
  return doc
}

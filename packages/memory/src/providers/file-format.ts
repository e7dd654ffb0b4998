import { CorruptMemoryError } from '../errors.ts'
import { canonicalKey } from '../keys.ts'
import {
  type JsonValue,
  KNOWLEDGE_STATES,
  type KnowledgeState,
  type Memory,
  provenanceSchema,
} from '../types.ts'

// One memory per Markdown file, readable and reviewable in a pull request:
//
//   ---
//   key: "release/v1.2"
//   state: "CONFIRMED"
//   ...
//   value: "text"
//   ---
//   <the string itself, or a ```json fenced block>
//
// Every front-matter line is `name: <JSON scalar>`, so it parses without a YAML library and a value can never be
// mistaken for the closing `---`. `value` says how the body is encoded: "text" (a string, stored raw plus one
// final newline) or "json" (anything else, pretty-printed in a fence). The body is everything after the closing
// line, so a string holding ``` or starting with `---` survives untouched.

const PROVENANCE_FIELDS = ['agent', 'session', 'repo', 'branch', 'commit', 'source'] as const
const KNOWN_FIELDS = new Set<string>([
  'key',
  'state',
  'confidence',
  'created',
  'updated',
  'expires',
  'supersedes',
  ...PROVENANCE_FIELDS,
  'value',
])
const FENCE_OPEN = '```json\n'
const FENCE_CLOSE = '\n```'

/**
 * The file text for a memory (the workspace is not stored: it is the directory the file lives in).
 *
 * @example
 * formatMemoryFile(memory) // '---\nkey: "release/v1.2"\nstate: "CONFIRMED"\n...\nvalue: "text"\n---\nShip it\n'
 */
export function formatMemoryFile(memory: Memory): string {
  const lines = ['---']
  const field = (name: string, value: string | number | null): void => {
    lines.push(`${name}: ${JSON.stringify(value)}`)
  }
  field('key', memory.key)
  field('state', memory.state)
  field('confidence', memory.confidence)
  field('created', memory.createdAt)
  field('updated', memory.updatedAt)
  field('expires', memory.expiresAt)
  field('supersedes', memory.supersedes)
  for (const name of PROVENANCE_FIELDS) {
    const value = memory.provenance[name]
    if (value !== undefined) field(name, value)
  }
  const text = typeof memory.value === 'string'
  field('value', text ? 'text' : 'json')
  lines.push('---')
  const body = text
    ? `${memory.value}\n`
    : `${FENCE_OPEN}${JSON.stringify(memory.value, null, 2)}${FENCE_CLOSE}\n`
  return `${lines.join('\n')}\n${body}`
}

/**
 * Reads a memory file's text; throws CorruptMemoryError naming `location` and what is wrong.
 *
 * @example
 * parseMemoryFile(readFileSync(file, 'utf8'), { workspace: 'acme', location: file }).value
 */
export function parseMemoryFile(text: string, options: { workspace: string; location: string }): Memory {
  const parsed = tryParseMemoryFile(text, options.workspace)
  if ('problem' in parsed) throw new CorruptMemoryError(options.location, parsed.problem)
  return parsed.memory
}

/**
 * parseMemoryFile without the throw: the memory, or a one-line description of the problem.
 *
 * @example
 * const result = tryParseMemoryFile(text, 'acme')
 * if ('problem' in result) console.warn(result.problem)
 */
export function tryParseMemoryFile(
  text: string,
  workspace: string,
): { memory: Memory } | { problem: string } {
  try {
    return { memory: parse(text.replace(/^\uFEFF/, ''), workspace) }
  } catch (error) {
    if (error instanceof FormatError) return { problem: error.message }
    throw error
  }
}

class FormatError extends Error {}

function fail(message: string): never {
  throw new FormatError(message)
}

function parse(text: string, workspace: string): Memory {
  if (!/^---\r?\n/.test(text)) fail('does not start with a --- front-matter line')
  const fields = new Map<string, string | number | boolean | null>()
  let pos = text.indexOf('\n') + 1
  let body: string | null = null
  while (pos <= text.length) {
    const end = text.indexOf('\n', pos)
    const line = text.slice(pos, end === -1 ? text.length : end).replace(/\r$/, '')
    if (line === '---') {
      body = end === -1 ? '' : text.slice(end + 1)
      break
    }
    if (end === -1) break
    pos = end + 1
    if (line.trim() === '' || line.startsWith('#')) continue
    const match = /^([A-Za-z][\w-]*):(.*)$/.exec(line)
    if (!match) fail(`front-matter line ${JSON.stringify(line)} is not "name: value"`)
    const [, name, raw] = match as unknown as [string, string, string]
    if (!KNOWN_FIELDS.has(name)) continue // a person's addition: kept out of the way, not an error
    if (fields.has(name)) fail(`front-matter field ${name} appears twice`)
    fields.set(name, scalar(name, raw))
  }
  if (body === null) fail('the front matter is not closed by a --- line')

  const key = required(fields, 'key', 'string')
  try {
    if (canonicalKey(key) !== key) fail(`key ${JSON.stringify(key)} is not in canonical form`)
  } catch (error) {
    if (error instanceof FormatError) throw error
    fail(`key ${JSON.stringify(key)} is not a valid key: ${(error as Error).message}`)
  }
  const state = required(fields, 'state', 'string')
  if (!(KNOWLEDGE_STATES as readonly string[]).includes(state))
    fail(`state ${JSON.stringify(state)} is not one of ${KNOWLEDGE_STATES.join(', ')}`)
  const confidence = fields.has('confidence') ? required(fields, 'confidence', 'number') : 1
  if (!(confidence >= 0 && confidence <= 1)) fail(`confidence ${confidence} is not between 0 and 1`)
  const createdAt = date(required(fields, 'created', 'string'), 'created')
  const updatedAt = date(required(fields, 'updated', 'string'), 'updated')
  const expires = optional(fields, 'expires')
  const expiresAt = expires === null ? null : date(expires, 'expires')
  const supersedes = optional(fields, 'supersedes')
  if (supersedes !== null) {
    try {
      canonicalKey(supersedes)
    } catch {
      fail(`supersedes ${JSON.stringify(supersedes)} is not a valid key`)
    }
  }
  const provenanceInput: Record<string, string | null> = {}
  for (const name of PROVENANCE_FIELDS) if (fields.has(name)) provenanceInput[name] = optional(fields, name)
  const provenance = provenanceSchema.safeParse(provenanceInput)
  if (!provenance.success) fail(`provenance: ${provenance.error.issues[0]!.path.join('.')} is not valid`)

  const encoding = fields.has('value') ? required(fields, 'value', 'string') : 'text'
  let value: JsonValue
  if (encoding === 'text') value = body.endsWith('\n') ? body.slice(0, -1) : body
  else if (encoding === 'json') {
    const block = body.replace(/\s+$/, '').replace(/\r\n/g, '\n')
    if (
      !block.startsWith(FENCE_OPEN) ||
      !block.endsWith(FENCE_CLOSE) ||
      block.length < FENCE_OPEN.length + FENCE_CLOSE.length
    )
      fail('value: "json" but the body is not one ```json fenced block')
    try {
      value = JSON.parse(block.slice(FENCE_OPEN.length, -FENCE_CLOSE.length)) as JsonValue
    } catch (error) {
      fail(`the value is not valid JSON (${(error as Error).message})`)
    }
  } else fail(`value ${JSON.stringify(encoding)} is neither "text" nor "json"`)

  return {
    workspace,
    key,
    value,
    state: state as KnowledgeState,
    confidence,
    provenance: provenance.data,
    createdAt,
    updatedAt,
    supersedes,
    expiresAt,
  }
}

/** A JSON scalar; a bare word a person typed (`state: CONFIRMED`) reads as that string. */
function scalar(name: string, raw: string): string | number | boolean | null {
  const trimmed = raw.trim()
  let value: unknown
  try {
    value = JSON.parse(trimmed)
  } catch {
    return trimmed
  }
  if (value !== null && typeof value === 'object') fail(`front-matter field ${name} is not a single value`)
  return value as string | number | boolean | null
}

function required<T extends 'string' | 'number'>(
  fields: Map<string, unknown>,
  name: string,
  type: T,
): T extends 'string' ? string : number {
  const value = fields.get(name)
  if (value === undefined) fail(`front-matter field ${name} is missing`)
  if (typeof value !== type) fail(`front-matter field ${name} is not a ${type}`)
  return value as T extends 'string' ? string : number
}

function optional(fields: Map<string, unknown>, name: string): string | null {
  const value = fields.get(name) ?? null
  if (value !== null && typeof value !== 'string') fail(`front-matter field ${name} is not a string or null`)
  return value
}

/** An ISO 8601 time; our own files already hold this form, so it round-trips unchanged. */
function date(value: string, name: string): string {
  const time = Date.parse(value)
  if (Number.isNaN(time)) fail(`${name} ${JSON.stringify(value)} is not a date`)
  return new Date(time).toISOString() // a hand-typed "2025-01-31" reads as the ISO form every provider returns
}

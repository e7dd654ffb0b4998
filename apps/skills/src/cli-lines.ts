import type { Problem, SourceDoc } from './sources.ts'

/** What the validator needs from the CLI's oclif.manifest.json. */
export interface CliManifest {
  commands: Record<
    string,
    {
      id: string
      strict?: boolean
      args: Record<string, { name: string; required?: boolean }>
      flags: Record<
        string,
        {
          name: string
          char?: string
          type: 'boolean' | 'option'
          allowNo?: boolean
          required?: boolean
          options?: readonly string[]
          /** Takes every following word up to the next flag (oclif's greedy `multiple`). */
          multiple?: boolean
        }
      >
    }
  >
}

/** A `dstack …` command line found in a document: `run` when it sits in a code block (a command to execute). */
export interface CommandMention {
  path: string
  line: number
  text: string
  run: boolean
}

/**
 * Every `dstack …` command line of a skill or command: lines of fenced code blocks (after an optional `$ `, with
 * `\` continuations joined and trailing `# comments` dropped) and inline code spans.
 *
 * @example
 * mentionedCommands(doc) // [{ path: 'ship/SKILL.md', line: 14, text: 'dstack precheck --json', run: true }]
 */
export function mentionedCommands(doc: Pick<SourceDoc, 'body' | 'bodyLine' | 'path'>): CommandMention[] {
  const found: CommandMention[] = []
  const lines = doc.body.split('\n')
  let fence: string | null = null
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!
    const marker = /^\s*(```+|~~~+)/.exec(raw)
    if (marker) {
      if (fence === null) fence = marker[1]!
      else if (marker[1]!.startsWith(fence[0]!) && marker[1]!.length >= fence.length) fence = null
      continue
    }
    const line = doc.bodyLine + i
    if (fence !== null) {
      let text = raw.replace(/^\s*\$\s+/, '').trim()
      while (text.endsWith('\\') && i + 1 < lines.length)
        text = `${text.slice(0, -1).trimEnd()} ${lines[++i]!.trim()}`
      // Each command of a line: `cd api && dstack repos plan`, `VAR=1 dstack sync | head`.
      for (const segment of dropComment(text).split(/\s(?:&&|\|\||;|\|)\s/)) {
        const command = segment.trim().replace(/^(?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)+/, '')
        if (/^dstack(\s|$)/.test(command)) found.push({ path: doc.path, line, text: command, run: true })
      }
      continue
    }
    for (const span of raw.matchAll(/`(dstack(?:\s[^`]*)?)`/g))
      found.push({ path: doc.path, line, text: span[1]!.trim(), run: false })
  }
  return found
}

function dropComment(text: string): string {
  let quote: string | null = null
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (quote) {
      if (c === quote) quote = null
    } else if (c === '"' || c === "'") quote = c
    else if (c === '#' && /\s/.test(text[i - 1] ?? ' ')) return text.slice(0, i).trim()
  }
  return text
}

/** Shell-like words: quotes group, `<placeholders with spaces>` stay one word. */
export function words(text: string): string[] {
  const out: string[] = []
  let current = ''
  let quote: string | null = null
  let angle = false
  let started = false
  for (const c of text) {
    if (quote) {
      if (c === quote) quote = null
      else current += c
    } else if (angle) {
      current += c
      if (c === '>') angle = false
    } else if (c === '"' || c === "'") {
      quote = c
      started = true
    } else if (c === '<' && current === '') {
      angle = true
      current += c
      started = true
    } else if (/\s/.test(c)) {
      if (started) out.push(current)
      current = ''
      started = false
    } else {
      current += c
      started = true
    }
  }
  if (started) out.push(current)
  return out
}

const SHELL_STOP = new Set(['|', '||', '&&', ';', '>', '>>', '<', '2>&1', '&'])
const GLOBAL_FLAGS = new Set(['--help', '-h', '--version'])

/**
 * Why a `dstack …` line is not a real command of the CLI (unknown command or flag, a value outside a flag's options,
 * too many arguments; and for lines to run, a missing required argument or flag), or null when it is.
 *
 * @example
 * checkCommand({ path: 'x', line: 1, text: 'dstack deploy api --dryrun', run: true }, manifest)
 * // 'dstack deploy has no flag --dryrun'
 */
export function checkCommand(mention: CommandMention, manifest: CliManifest): string | null {
  const tokens = words(mention.text).slice(1)
  const stop = tokens.findIndex((t) => SHELL_STOP.has(t))
  const argv = stop === -1 ? tokens : tokens.slice(0, stop)
  let idLength = 0
  for (let n = 1; n <= argv.length && !argv[n - 1]!.startsWith('-'); n++)
    if (manifest.commands[argv.slice(0, n).join(':')]) idLength = n
  if (idLength === 0) {
    const topic = argv[0] && !argv[0].startsWith('-') ? argv[0] : ''
    const isTopic = topic && Object.keys(manifest.commands).some((id) => id.startsWith(`${topic}:`))
    if (isTopic && argv.length === 1) return null
    if (argv.length === 0 || (argv.length === 1 && GLOBAL_FLAGS.has(argv[0]!))) return null
    return `no command "dstack ${argv
      .filter((t) => !t.startsWith('-'))
      .slice(0, 2)
      .join(' ')}"`
  }
  const id = argv.slice(0, idLength).join(':')
  const command = manifest.commands[id]!
  const shown = `dstack ${id.replaceAll(':', ' ')}`
  const flags = Object.values(command.flags)
  const seen = new Set<string>()
  let positionals = 0
  for (let i = idLength; i < argv.length; i++) {
    const token = argv[i]!
    // A command that passes its arguments on (`dstack browse snapshot -i`): after the first positional, its own
    // sub-command's flags follow, which the manifest does not list.
    if (command.strict === false && positionals > 0) break
    if (token === '--') {
      positionals += argv.length - i - 1
      break
    }
    if (token === '...' || token === '…') continue
    if (GLOBAL_FLAGS.has(token)) continue
    if (token.startsWith('--')) {
      const [rawName, inline] = token.slice(2).split(/=(.*)/s, 2) as [string, string | undefined]
      let flag = flags.find((f) => f.name === rawName)
      if (!flag && rawName.startsWith('no-'))
        flag = flags.find((f) => f.allowNo && f.name === rawName.slice(3))
      if (!flag) return `${shown} has no flag --${rawName}`
      seen.add(flag.name)
      if (flag.type === 'option') {
        const value = inline ?? argv[++i]
        if (value === undefined) return `${shown} --${flag.name} needs a value`
        if (flag.options && !isPlaceholder(value) && !flag.options.includes(value))
          return `${shown} --${flag.name} takes ${flag.options.join('|')}, not ${value}`
        // oclif's `multiple` options take every following word up to the next flag.
        if (flag.multiple) while (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('-')) i++
      } else if (inline !== undefined) return `${shown} --${flag.name} takes no value`
      continue
    }
    if (/^-[A-Za-z]/.test(token)) {
      // `-i`, `-Xvalue`, or a cluster of boolean short flags (`-iD`).
      for (let c = 1; c < token.length; c++) {
        const flag = flags.find((f) => f.char === token[c])
        if (!flag) return `${shown} has no flag -${token[c]}${token.length > 2 ? ` (in ${token})` : ''}`
        seen.add(flag.name)
        if (flag.type === 'option') {
          if (c === token.length - 1 && argv[++i] === undefined) return `${shown} -${token[c]} needs a value`
          if (flag.multiple) while (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('-')) i++
          break
        }
      }
      continue
    }
    positionals++
  }
  const args = Object.values(command.args)
  if (command.strict !== false && positionals > args.length)
    return `${shown} takes ${args.length} argument(s), got ${positionals}`
  if (mention.run) {
    const required = args.filter((a) => a.required).length
    if (positionals < required) return `${shown} needs <${args.map((a) => a.name).join('> <')}>`
    const missing = flags.filter((f) => f.required && !seen.has(f.name)).map((f) => `--${f.name}`)
    if (missing.length > 0) return `${shown} needs ${missing.join(', ')}`
  }
  return null
}

function isPlaceholder(value: string): boolean {
  return /^<.*>$/.test(value) || value.includes('|')
}

/**
 * Every `dstack …` line of the documents that the CLI would not accept.
 *
 * @example
 * checkCommandLines(bundle.skills, manifest) // [{ path: 'ship/SKILL.md', line: 12, message: 'dstack precheck has no flag --strict-mode' }]
 */
export function checkCommandLines(docs: readonly SourceDoc[], manifest: CliManifest): Problem[] {
  const problems: Problem[] = []
  for (const doc of docs)
    for (const mention of mentionedCommands(doc)) {
      const message = checkCommand(mention, manifest)
      if (message)
        problems.push({ path: mention.path, line: mention.line, message: `${message}: ${mention.text}` })
    }
  return problems
}

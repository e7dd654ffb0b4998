import { homedir } from 'node:os'
import { resolve } from 'node:path'

/**
 * A Bash command line as segments of words: split on `&&`, `||`, `;`, `|` and newlines outside quotes, each segment
 * into words with single and double quotes removed (no expansion besides a leading `~`). Enough to find the git
 * calls in the command lines agents write; not a full shell parser.
 *
 * @example
 * shellSegments('cd "My App" && git commit -m "a; b"') // [['cd', 'My App'], ['git', 'commit', '-m', 'a; b']]
 */
export function shellSegments(command: string): string[][] {
  const segments: string[][] = []
  let words: string[] = []
  let word = ''
  let inWord = false
  let quote: '"' | "'" | null = null
  const endWord = () => {
    if (inWord) words.push(word.startsWith('~/') || word === '~' ? homedir() + word.slice(1) : word)
    word = ''
    inWord = false
  }
  const endSegment = () => {
    endWord()
    if (words.length > 0) segments.push(words)
    words = []
  }
  for (let i = 0; i < command.length; i++) {
    const c = command[i]!
    if (quote) {
      if (c === quote) quote = null
      else if (c === '\\' && quote === '"' && i + 1 < command.length) word += command[++i]
      else word += c
      continue
    }
    if (c === '"' || c === "'") {
      quote = c
      inWord = true
    } else if (c === '\\' && i + 1 < command.length) {
      word += command[++i]
      inWord = true
    } else if (c === ';' || c === '\n' || c === '|' || c === '&') {
      endSegment()
      if ((c === '|' || c === '&') && command[i + 1] === c) i++
    } else if (/\s/.test(c)) endWord()
    else {
      word += c
      inWord = true
    }
  }
  endSegment()
  return segments
}

/** A git call in a command line: where it runs, its subcommand's arguments, and the segments before it. */
export interface GitCall {
  dir: string
  args: string[]
  /** Git subcommands that ran earlier in the same command line (`add` before a `commit`). */
  before: string[]
}

/**
 * Every `git <subcommand>` in a Bash command line, with the directory it runs in (following `cd` and `-C`) and its
 * arguments; `VAR=value` prefixes and git's own options are skipped.
 *
 * @example
 * gitCalls('cd api && git add -A && git commit -m x', '/work', 'commit')
 * // [{ dir: '/work/api', args: ['-m', 'x'], before: ['add'] }]
 */
export function gitCalls(command: string, cwd: string, subcommand: string): GitCall[] {
  const calls: GitCall[] = []
  const before: string[] = []
  let dir = cwd
  for (const words of shellSegments(command)) {
    while (words[0] && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0])) words.shift() // VAR=value prefixes
    if (words[0] === 'cd' && words[1]) {
      dir = resolve(dir, words[1])
      continue
    }
    if (words[0] !== 'git') continue
    let here = dir
    let i = 1
    for (; i < words.length && words[i]!.startsWith('-'); i++) {
      if (words[i] === '-C' && words[i + 1]) here = resolve(here, words[++i]!)
      else if (words[i] === '-c') i++
    }
    const sub = words[i]
    if (sub === subcommand) calls.push({ dir: here, args: words.slice(i + 1), before: [...before] })
    if (sub) before.push(sub)
  }
  return calls
}

import { resolve } from 'node:path'

/**
 * Every `git <subcommand>` in a Bash command line, with the directory it runs in (following `cd` and `-C`) and its
 * arguments; `VAR=value` prefixes and git's own options are skipped.
 *
 * @example
 * gitCalls('cd api && git commit -m x', '/work', 'commit') // [{ dir: '/work/api', args: ['-m', 'x'] }]
 */
export function gitCalls(
  command: string,
  cwd: string,
  subcommand: string,
): Array<{ dir: string; args: string[] }> {
  const calls: Array<{ dir: string; args: string[] }> = []
  let dir = cwd
  for (const segment of command.split(/&&|\|\||;|\n/)) {
    const words = segment.trim().split(/\s+/).filter(Boolean)
    while (words[0] && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0])) words.shift() // VAR=value prefixes
    if (words[0] === 'cd' && words[1]) {
      dir = resolve(dir, words[1].replace(/^["']|["']$/g, ''))
      continue
    }
    if (words[0] !== 'git') continue
    let here = dir
    let i = 1
    for (; i < words.length && words[i]!.startsWith('-'); i++) {
      if (words[i] === '-C' && words[i + 1]) here = resolve(here, words[++i]!.replace(/^["']|["']$/g, ''))
      else if (words[i] === '-c') i++
    }
    if (words[i] === subcommand) calls.push({ dir: here, args: words.slice(i + 1) })
  }
  return calls
}

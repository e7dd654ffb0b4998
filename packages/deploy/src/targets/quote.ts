/**
 * Quotes one argument for a POSIX shell: safe characters stay as they are, anything else is wrapped in single quotes
 * (a `'` inside becomes `'\''`). The remote side of ssh joins its arguments into one shell line, so every argument
 * of a command sent over ssh goes through this — nothing from the config is ever pasted into a command line raw.
 *
 * @example
 * shellQuote("it's $HOME") // 'it'\''s $HOME'
 */
export function shellQuote(arg: string): string {
  if (arg === '') return "''"
  if (/^[A-Za-z0-9_./:=@%+,-]+$/.test(arg)) return arg
  return `'${arg.replaceAll("'", `'\\''`)}'`
}

/**
 * An argv as one shell line (for ssh, and for people reading a plan).
 *
 * @example
 * shellLine(['ln', '-sfn', 'releases/a b', 'current']) // "ln -sfn 'releases/a b' current"
 */
export function shellLine(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ')
}

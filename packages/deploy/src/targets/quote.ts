import { shellQuote } from '@dstack/daemon'

export { shellQuote }

/**
 * An argv as one shell line (for ssh, and for people reading a plan): every argument through shellQuote, since the
 * remote side of ssh joins its arguments into one shell line — nothing from the config is pasted into it raw.
 *
 * @example
 * shellLine(['ln', '-sfn', 'releases/a b', 'current']) // "ln -sfn 'releases/a b' current"
 */
export function shellLine(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ')
}

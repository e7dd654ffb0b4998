/**
 * `value` in POSIX single quotes, always (a `'` inside becomes `'\''`): the one quoting rule dstack uses wherever a
 * value goes into a shell line or a file a shell reads (launchers, .env files, ssh command lines).
 *
 * @example
 * singleQuote("it's") // 'it'\''s'
 */
export function singleQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`
}

/**
 * One argument for a POSIX shell: safe characters stay as they are, anything else goes through singleQuote.
 *
 * @example
 * shellQuote('releases/a') // releases/a
 * shellQuote("it's $HOME") // 'it'\''s $HOME'
 */
export function shellQuote(arg: string): string {
  if (arg === '') return "''"
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(arg) ? arg : singleQuote(arg)
}

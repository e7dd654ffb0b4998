/**
 * Splits a comma-separated flag value (`--files a.ts,b.ts`), dropping empty items.
 *
 * @example
 * splitList('a.ts, b.ts,') // ['a.ts', 'b.ts']
 */
export function splitList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined
  return value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)
}

// What the public functions share for their options and messages.
import { z } from 'zod'

export const DAY_MS = 86_400_000

/**
 * A zod schema for a callback option (zod checks only that it is a function).
 *
 * @example
 * z.object({ onProgress: callback<(done: number) => void>().optional() })
 */
export const callback = <T>() => z.custom<T>((value) => typeof value === 'function', 'expected a function')

/**
 * Validates options handed to a public function, with one readable message for everything wrong.
 *
 * @example
 * const { concurrency } = parseOptions(z.object({ concurrency: z.int().default(8) }), {}, 'repoStates') // 8
 */
export function parseOptions<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(value ?? {})
  if (parsed.success) return parsed.data
  const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'options'}: ${issue.message}`)
  throw new TypeError(`invalid ${what} options: ${issues.join('; ')}`)
}

/**
 * `n` and the word, plural unless n is 1.
 *
 * @example
 * plural(3, 'commit') // '3 commits'
 */
export const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`

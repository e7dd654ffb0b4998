/**
 * Runs `fn` over `items` with at most `concurrency` calls in flight and returns the results in input order. A
 * rejection rejects the whole call (after the calls already started have settled, so no work is left running);
 * callers that must not fail per item catch inside `fn`.
 *
 * @example
 * const sizes = await mapPool(['a', 'b', 'c'], 2, async (path) => (await stat(path)).size) // [12, 40, 7]
 */
export async function mapPool<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`)
  }
  const results = new Array<R>(items.length)
  let next = 0
  let failure: { error: unknown } | null = null
  const worker = async (): Promise<void> => {
    // Single-threaded: reading and bumping `next` between awaits cannot race.
    while (failure === null && next < items.length) {
      const index = next++
      try {
        results[index] = await fn(items[index] as T, index)
      } catch (error) {
        failure ??= { error }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker))
  if (failure !== null) throw (failure as { error: unknown }).error
  return results
}

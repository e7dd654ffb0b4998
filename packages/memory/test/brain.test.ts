import { DRIVERS, freshBrain, type TestBrain } from '@dstack/brain-schema/testing'
import { afterAll, describe, expect, it } from 'vitest'
import { MemoryConflictError } from '../src/errors.ts'
import { BrainProvider } from '../src/providers/brain.ts'
import { stateRank } from '../src/state.ts'
import { KNOWLEDGE_STATES } from '../src/types.ts'
import { runConformance } from './conformance.ts'

// The brain provider on both brain drivers: a fresh embedded data directory and a fresh Postgres database.
for (const driver of DRIVERS) {
  let brain: Promise<TestBrain> | undefined
  const shared = () => {
    brain ??= freshBrain(driver)
    return brain
  }
  afterAll(async () => {
    if (brain) await (await brain).dispose()
  })
  runConformance(`brain (${driver})`, () => ({
    async open(workspace) {
      return BrainProvider.open({ brain: (await shared()).brain, workspace })
    },
  }))

  describe(`brain provider under concurrent writers (${driver})`, () => {
    it('8 writers on their own connections: distinct keys all land, shared keys end in the highest state written', async () => {
      const t = await shared()
      // Each writer opens its own brain from the config (its own pool and connections), as 8 processes would.
      const writers = await Promise.all(
        Array.from({ length: 8 }, () => BrainProvider.open({ brain: t.config, workspace: 'race' })),
      )
      const highest = new Map<string, number>()
      await Promise.all(
        writers.map(async (writer, w) => {
          for (let i = 0; i < 40; i++) {
            await writer.write({ key: `mine/${w}/${i}`, value: `writer ${w} note ${i}`, state: 'INFERRED' })
            const key = `shared/${i % 10}`
            const state = KNOWLEDGE_STATES[(w + i) % 4]!
            try {
              await writer.write({ key, value: { w, i, state }, state })
              highest.set(key, Math.max(highest.get(key) ?? 0, stateRank(state)))
            } catch (error) {
              if (!(error instanceof MemoryConflictError)) throw error
            }
          }
        }),
      )
      const all = await writers[0]!.load('')
      expect(all.filter((m) => m.key.startsWith('mine/'))).toHaveLength(8 * 40)
      for (const memory of all.filter((m) => m.key.startsWith('shared/'))) {
        // The stored value is one a writer wrote in the state stored, and no write ever lowered it.
        expect((memory.value as { state: string }).state).toBe(memory.state)
        expect(stateRank(memory.state)).toBe(highest.get(memory.key))
      }
      await Promise.all(writers.map((w) => w.close()))
    })
  })
}

describe('brain provider watch', () => {
  it('sees writes and deletes by another connection, in its own workspace only', async () => {
    const t = await freshBrain('postgres')
    try {
      const watcher = await BrainProvider.open({ brain: t.config, workspace: 'watched' })
      const other = await BrainProvider.open({ brain: t.config, workspace: 'watched' })
      const elsewhere = await BrainProvider.open({ brain: t.config, workspace: 'elsewhere' })
      const seen: Array<{ op: string; key: string }> = []
      const watch = await watcher.watch((change) => seen.push(change))
      await other.write({ key: 'a/b', value: 1, state: 'INFERRED' })
      await elsewhere.write({ key: 'x', value: 1, state: 'INFERRED' })
      await other.delete('a/b')
      const deadline = Date.now() + 5_000
      while (seen.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
      expect(seen).toEqual([
        { op: 'write', key: 'a/b' },
        { op: 'delete', key: 'a/b' },
      ])
      await watch.close()
      for (const p of [watcher, other, elsewhere]) await p.close()
    } finally {
      await t.dispose()
    }
  })
})

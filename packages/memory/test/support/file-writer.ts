// Spawned by file.test.ts (plain `node`, types stripped): one of several processes writing into one workspace at
// once. Even writes go to keys only this writer uses; odd writes go to 20 shared keys in pseudo-random states
// (each shared key has a ceiling state, so different keys end in different states). Prints every attempt as JSON.
import { MemoryConflictError } from '../../src/errors.ts'
import { FileProvider } from '../../src/providers/file.ts'
import type { JsonValue, KnowledgeState } from '../../src/types.ts'

export interface WriterAttempt {
  key: string
  value: JsonValue
  state: KnowledgeState
  ok: boolean
  /** On refusal: the state the stored memory had. */
  stored?: KnowledgeState
  /** On success: the written memory's updatedAt (taken under the workspace lock, so it orders the writes). */
  at?: string
}

const [root, workspace, id, count] = process.argv.slice(2) as [string, string, string, string]
const writer = Number(id)
const RANKED: KnowledgeState[] = ['UNKNOWN', 'UNCERTAIN', 'INFERRED', 'CONFIRMED']

let seed = writer * 0x9e3779b9 + 1
const random = (): number => {
  // mulberry32: deterministic per writer
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const memory = await FileProvider.open({ root, workspace, lockTimeoutMs: 120_000 })
const attempts: WriterAttempt[] = []
for (let i = 0; i < Number(count); i++) {
  if (i % 2 === 0) {
    const key = `distinct/w${writer}/m${i}`
    const value = `distinct memory uniqw${writer}n${i} written by writer ${writer}`
    await memory.write({ key, value, state: 'INFERRED', provenance: { agent: `writer-${writer}` } })
    attempts.push({ key, value, state: 'INFERRED', ok: true })
  } else {
    const shared = Math.floor(random() * 20)
    const ceiling = 3 - (shared % 4) // shared/s0 can reach CONFIRMED, shared/s3 stays UNKNOWN
    const state = RANKED[Math.floor(random() * (ceiling + 1))]!
    const key = `shared/s${shared}`
    const value = { writer, i, state }
    try {
      const written = await memory.write({ key, value, state })
      attempts.push({ key, value, state, ok: true, at: written.updatedAt })
    } catch (error) {
      if (!(error instanceof MemoryConflictError)) throw error
      attempts.push({ key, value, state, ok: false, stored: error.stored })
    }
  }
}
await memory.close()
process.stdout.write(JSON.stringify(attempts))

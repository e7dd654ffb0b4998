// The conformance suite every MemoryProvider must pass: one set of semantics, whatever the back-end. Each provider's
// test file calls runConformance with a factory that opens a fresh, empty store for a workspace.
import { randomUUID } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { InvalidMemoryError, MemoryConflictError, SecretRefusedError } from '../src/errors.ts'
import type { MemoryProvider } from '../src/types.ts'

export interface ConformanceTarget {
  /** Opens a provider for `workspace` on a store shared by every call within one test (so workspaces can be compared). */
  open(workspace: string): Promise<MemoryProvider>
  /** Called after each test. */
  reset?(): Promise<void>
  /**
   * false for a back-end that cannot really remove a memory (Eruka has no delete route): deleted and expired
   * memories become tombstones that still hold their knowledge state, so a later write must match or beat it.
   */
  removesState?: boolean
}

export function runConformance(name: string, target: () => ConformanceTarget): void {
  describe(`MemoryProvider conformance: ${name}`, () => {
    const opened: MemoryProvider[] = []
    let t: ConformanceTarget
    const open = async (workspace = `ws-${randomUUID().slice(0, 8)}`) => {
      t ??= target()
      const provider = await t.open(workspace)
      opened.push(provider)
      return provider
    }
    afterEach(async () => {
      for (const provider of opened.splice(0)) await provider.close()
      await t?.reset?.()
    })

    it('writes, reads back exactly, and reports provenance and times', async () => {
      const m = await open()
      const before = Date.now()
      const written = await m.write({
        key: 'project/api/token-ttl',
        value: { seconds: 3600, why: 'security review' },
        state: 'CONFIRMED',
        confidence: 0.9,
        provenance: {
          agent: 'alice',
          session: 's1',
          repo: 'github.com/acme/api',
          branch: 'main',
          commit: 'abc1234',
        },
      })
      expect(written).toMatchObject({
        workspace: m.workspace,
        key: 'project/api/token-ttl',
        value: { seconds: 3600, why: 'security review' },
        state: 'CONFIRMED',
        confidence: 0.9,
        provenance: {
          agent: 'alice',
          session: 's1',
          repo: 'github.com/acme/api',
          branch: 'main',
          commit: 'abc1234',
        },
        supersedes: null,
        expiresAt: null,
      })
      expect(Date.parse(written.createdAt)).toBeGreaterThanOrEqual(before - 1000)
      const read = await m.get('project/api/token-ttl')
      expect(read).toEqual(written)
      expect(await m.get('project/api/missing')).toBeNull()
    })

    it('keeps keys that differ only after a dot apart (v1.2 vs v1.3), and Unicode keys', async () => {
      const m = await open()
      await m.write({ key: 'release/v1.2', value: 'old', state: 'CONFIRMED' })
      await m.write({ key: 'release/v1.3', value: 'new', state: 'CONFIRMED' })
      await m.write({ key: 'équipe/日本語/naïve key', value: 'unicode', state: 'INFERRED' })
      expect((await m.get('release/v1.2'))?.value).toBe('old')
      expect((await m.get('release/v1.3'))?.value).toBe('new')
      expect((await m.get('équipe/日本語/naïve key'))?.value).toBe('unicode')
      // NFC: the decomposed spelling is the same key.
      expect((await m.get('e\u0301quipe/日本語/nai\u0308ve key'))?.value).toBe('unicode')
    })

    it('never lets a lower state overwrite a higher one, and keeps the stored value', async () => {
      const m = await open()
      await m.write({ key: 'db/engine', value: 'postgres', state: 'CONFIRMED' })
      for (const state of ['INFERRED', 'UNCERTAIN', 'UNKNOWN'] as const) {
        const attempt = m.write({ key: 'db/engine', value: 'mysql', state })
        await expect(attempt).rejects.toBeInstanceOf(MemoryConflictError)
        await expect(attempt).rejects.toMatchObject({
          key: 'db/engine',
          stored: 'CONFIRMED',
          incoming: state,
        })
      }
      expect(await m.get('db/engine')).toMatchObject({ value: 'postgres', state: 'CONFIRMED' })
      // Same or higher rank replaces.
      await m.write({ key: 'db/engine', value: 'postgres 16', state: 'CONFIRMED' })
      await m.write({ key: 'db/cache', value: 'maybe redis', state: 'UNCERTAIN' })
      await m.write({ key: 'db/cache', value: 'redis', state: 'INFERRED' })
      expect((await m.get('db/engine'))?.value).toBe('postgres 16')
      expect(await m.get('db/cache')).toMatchObject({ value: 'redis', state: 'INFERRED' })
    })

    it('keeps createdAt and moves updatedAt on rewrite', async () => {
      const m = await open()
      const first = await m.write({ key: 'a/b', value: 1, state: 'INFERRED' })
      await new Promise((resolve) => setTimeout(resolve, 20))
      const second = await m.write({ key: 'a/b', value: 2, state: 'INFERRED' })
      expect(second.createdAt).toBe(first.createdAt)
      expect(Date.parse(second.updatedAt)).toBeGreaterThan(Date.parse(first.updatedAt))
    })

    it('loads by prefix on segment boundaries, sorted by key', async () => {
      const m = await open()
      for (const key of [
        'products/b',
        'products/a',
        'products/a/deep',
        'products_old/x',
        'productsX',
        'other',
      ]) {
        await m.write({ key, value: key, state: 'INFERRED' })
      }
      expect((await m.load('products')).map((x) => x.key)).toEqual([
        'products/a',
        'products/a/deep',
        'products/b',
      ])
      expect((await m.load('products/*')).map((x) => x.key)).toEqual([
        'products/a',
        'products/a/deep',
        'products/b',
      ])
      expect((await m.load('products/a')).map((x) => x.key)).toEqual(['products/a', 'products/a/deep'])
      expect(await m.load('')).toHaveLength(6)
      expect(await m.load('nothing/here')).toEqual([])
    })

    it('isolates workspaces', async () => {
      const one = await open()
      const two = await open()
      await one.write({ key: 'shared/key', value: 'one', state: 'CONFIRMED' })
      expect(await two.get('shared/key')).toBeNull()
      expect(await two.load('')).toEqual([])
      expect(await two.search('one')).toEqual([])
      await two.write({ key: 'shared/key', value: 'two', state: 'UNKNOWN' })
      expect((await one.get('shared/key'))?.value).toBe('one')
    })

    it('ranks search hits: the memory about the query first, filters by prefix, state and confidence', async () => {
      const m = await open()
      await m.write({
        key: 'auth/password-hashing',
        value: 'Use argon2id for password hashing; bcrypt is retired',
        state: 'CONFIRMED',
      })
      await m.write({
        key: 'auth/session',
        value: 'Sessions expire after one hour',
        state: 'INFERRED',
        confidence: 0.4,
      })
      await m.write({
        key: 'billing/invoices',
        value: 'Invoices are immutable; corrections are credit notes',
        state: 'CONFIRMED',
      })
      await m.write({ key: 'notes/misc', value: 'the password for nothing is a joke', state: 'UNCERTAIN' })
      const hits = await m.search('password hashing')
      expect(hits[0]?.memory.key).toBe('auth/password-hashing')
      expect(hits.map((h) => h.memory.key)).not.toContain('billing/invoices')
      for (let i = 1; i < hits.length; i++) expect(hits[i - 1]!.score).toBeGreaterThanOrEqual(hits[i]!.score)
      expect((await m.search('invoices credit')).map((h) => h.memory.key)).toEqual(['billing/invoices'])
      expect((await m.search('password', { prefix: 'notes' })).map((h) => h.memory.key)).toEqual([
        'notes/misc',
      ])
      expect((await m.search('sessions expire', { minConfidence: 0.5 })).map((h) => h.memory.key)).toEqual([])
      expect((await m.search('password', { states: ['CONFIRMED'] })).map((h) => h.memory.key)).toEqual([
        'auth/password-hashing',
      ])
      expect(await m.search('zzzzqqq')).toEqual([])
      // Words from the key count too, and odd punctuation is harmless.
      expect((await m.search('invoices')).map((h) => h.memory.key)).toContain('billing/invoices')
      expect(await m.search("'); drop table x; --")).toEqual([])
      expect((await m.search('argon2id', { limit: 1 })).length).toBe(1)
    })

    it('deletes', async () => {
      const m = await open()
      await m.write({ key: 'x/y', value: 1, state: 'INFERRED' })
      expect(await m.delete('x/y')).toBe(true)
      expect(await m.delete('x/y')).toBe(false)
      expect(await m.get('x/y')).toBeNull()
      expect(await m.search('x')).toEqual([])
      expect(await m.load('x')).toEqual([])
      expect((await m.exportAll()).map((x) => x.key)).toEqual([])
    })

    it('hides expired memories from get, load and search, but exports them', async () => {
      const m = await open()
      await m.write({
        key: 'tmp/old',
        value: 'stale fact about deploys',
        state: 'INFERRED',
        expiresAt: new Date(Date.now() - 1000),
      })
      await m.write({
        key: 'tmp/new',
        value: 'fresh fact about deploys',
        state: 'INFERRED',
        ttlSeconds: 3600,
      })
      expect(await m.get('tmp/old')).toBeNull()
      expect((await m.load('tmp')).map((x) => x.key)).toEqual(['tmp/new'])
      expect((await m.search('deploys')).map((h) => h.memory.key)).toEqual(['tmp/new'])
      expect((await m.exportAll()).map((x) => x.key)).toEqual(['tmp/new', 'tmp/old'])
      if (t.removesState === false) {
        // A tombstone keeps its state: a lower write is refused, an equal one revives the key.
        await expect(m.write({ key: 'tmp/old', value: 'renewed', state: 'UNKNOWN' })).rejects.toBeInstanceOf(
          MemoryConflictError,
        )
        await m.write({ key: 'tmp/old', value: 'renewed', state: 'INFERRED' })
      } else {
        // An expired memory does not block a new write, whatever its state was.
        await m.write({ key: 'tmp/old', value: 'renewed', state: 'UNKNOWN' })
      }
      expect((await m.get('tmp/old'))?.value).toBe('renewed')
    })

    it('expires the memory a write supersedes', async () => {
      const m = await open()
      await m.write({ key: 'decisions/hashing-v1', value: 'bcrypt', state: 'CONFIRMED' })
      const next = await m.write({
        key: 'decisions/hashing-v2',
        value: 'argon2id',
        state: 'CONFIRMED',
        supersedes: 'decisions/hashing-v1',
      })
      expect(next.supersedes).toBe('decisions/hashing-v1')
      expect(await m.get('decisions/hashing-v1')).toBeNull()
      expect((await m.load('decisions')).map((x) => x.key)).toEqual(['decisions/hashing-v2'])
      // A write may not expire a memory it could not overwrite: nothing is written, both stay as they were.
      await m.write({ key: 'facts/db', value: 'postgres', state: 'CONFIRMED' })
      await expect(
        m.write({ key: 'facts/db-guess', value: 'mysql', state: 'INFERRED', supersedes: 'facts/db' }),
      ).rejects.toBeInstanceOf(MemoryConflictError)
      expect((await m.get('facts/db'))?.value).toBe('postgres')
      expect(await m.get('facts/db-guess')).toBeNull()
    })

    it('refuses secrets, bad keys and bad values, writing nothing', async () => {
      const m = await open()
      const token = `ghp_${'a1B2'.repeat(9)}`
      await expect(
        m.write({ key: 'ci/token', value: `use ${token}`, state: 'CONFIRMED' }),
      ).rejects.toBeInstanceOf(SecretRefusedError)
      await expect(
        m.write({ key: 'db/conn', value: { url: 'postgres://app:hunter22@db/prod' }, state: 'CONFIRMED' }),
      ).rejects.toThrow(/password in a URL at \$\.url/)
      for (const key of ['', '/abs', 'a//b', 'a/../b', 'trail/', 'ctl\u0001x']) {
        await expect(m.write({ key, value: 1, state: 'INFERRED' })).rejects.toBeInstanceOf(InvalidMemoryError)
      }
      await expect(m.write({ key: 'a', value: 1, state: 'SURE' as never })).rejects.toBeInstanceOf(
        InvalidMemoryError,
      )
      await expect(m.write({ key: 'a', value: 1, state: 'INFERRED', confidence: 2 })).rejects.toBeInstanceOf(
        InvalidMemoryError,
      )
      await expect(
        m.write({ key: 'a', value: 'x'.repeat(2 * 1024 * 1024), state: 'INFERRED' }),
      ).rejects.toThrow(/at most/)
      expect(await m.exportAll()).toEqual([])
    })

    it('stores large values (500 KB) and awkward JSON intact', async () => {
      const m = await open()
      const big = { text: 'ü'.repeat(250_000), list: [1, 2.5, null, true, { deep: ['x'] }] }
      await m.write({ key: 'big/value', value: big, state: 'INFERRED' })
      expect((await m.get('big/value'))?.value).toEqual(big)
      const odd = [null, 0, '', false, [], {}, 'line\nbreak "quotes" \\ and ---']
      for (const [i, value] of odd.entries()) await m.write({ key: `odd/${i}`, value, state: 'INFERRED' })
      expect((await m.load('odd')).map((x) => x.value)).toEqual(odd)
    })
  })
}

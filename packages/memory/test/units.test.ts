import { describe, expect, it } from 'vitest'
import { InvalidMemoryError } from '../src/errors.ts'
import { importMemories, mergeMemories, parseJsonl, toJsonl } from '../src/exchange.ts'
import { applyGc, findDuplicates, planGc } from '../src/hygiene.ts'
import { canonicalKey, canonicalPrefix, decodeSegment, encodeSegment, underPrefix } from '../src/keys.ts'
import { workspaceForRepo } from '../src/open.ts'
import { prepareWrite } from '../src/prepare.ts'
import { findSecrets, redactSecrets } from '../src/secrets.ts'
import { canOverwrite } from '../src/state.ts'
import type { Memory } from '../src/types.ts'

const at = (iso: string) => new Date(iso).toISOString()
function memory(key: string, value: Memory['value'], extra: Partial<Memory> = {}): Memory {
  return {
    workspace: 'ws',
    key,
    value,
    state: 'INFERRED',
    confidence: 1,
    provenance: {},
    createdAt: at('2026-01-01T00:00:00Z'),
    updatedAt: at('2026-01-01T00:00:00Z'),
    supersedes: null,
    expiresAt: null,
    ...extra,
  }
}

describe('keys', () => {
  it('encodes segments reversibly and without collisions', () => {
    const segments = ['v1.2', 'v1.3', 'v1%2E2', 'a b', '..x', 'ü', '日本', '%', '-_', 'Foo', 'foo']
    const encoded = segments.map(encodeSegment)
    expect(new Set(encoded).size).toBe(segments.length)
    expect(encoded.map(decodeSegment)).toEqual(segments)
    expect(encodeSegment('v1.2')).toBe('v1%2E2')
    expect(encodeSegment('Foo')).toBe('%46oo')
    expect(encodeSegment('Foo')).not.toBe(encodeSegment('foo'))
    expect(encoded.every((e) => /^[A-Za-z0-9_%-]+$/.test(e))).toBe(true)
    expect(() => decodeSegment('v1.2')).toThrow(InvalidMemoryError)
    expect(() => decodeSegment('%2e')).toThrow(InvalidMemoryError) // lowercase hex is not what encodeSegment writes
  })

  it('normalises keys and prefixes, and matches prefixes on segment boundaries', () => {
    expect(canonicalKey(' a/b ')).toBe('a/b')
    expect(canonicalKey('e\u0301')).toBe('é')
    expect(canonicalPrefix('products/*')).toBe('products')
    expect(canonicalPrefix('*')).toBe('')
    expect(underPrefix('products/a', 'products')).toBe(true)
    expect(underPrefix('products_old/a', 'products')).toBe(false)
    expect(underPrefix('anything', '')).toBe(true)
    expect(() => canonicalKey('x'.repeat(1025))).toThrow(/at most 1024/)
  })
})

describe('knowledge states', () => {
  it('lets only the same or a higher rank overwrite', () => {
    expect(canOverwrite('CONFIRMED', 'CONFIRMED')).toBe(true)
    expect(canOverwrite('UNKNOWN', 'CONFIRMED')).toBe(true)
    expect(canOverwrite('CONFIRMED', 'UNCERTAIN')).toBe(false) // openeruka's code allows this one
    expect(canOverwrite('INFERRED', 'UNKNOWN')).toBe(false)
  })
})

describe('secrets', () => {
  it('finds the usual token formats and secret-named fields, with where they are', () => {
    const value = {
      ok: 'the deploy key lives in 1Password under "prod deploy"',
      aws: 'AKIAABCDEFGHIJKLMNOP',
      nested: [{ password: 'correct horse battery' }],
      slack: 'xoxb-1234567890-abcdefghij',
      pem: '-----BEGIN OPENSSH PRIVATE KEY-----\nabc',
      assign: 'export API_KEY=abcd1234efgh5678',
    }
    expect(findSecrets(value)).toEqual([
      { path: '$.aws', kind: 'AWS access key' },
      { path: '$.nested[0].password', kind: '"password" field' },
      { path: '$.slack', kind: 'Slack token' },
      { path: '$.pem', kind: 'private key' },
      { path: '$.assign', kind: 'secret assignment' },
    ])
    expect(findSecrets('we rotate the token every 90 days')).toEqual([])
    const redacted = redactSecrets({
      a: 'key AKIAABCDEFGHIJKLMNOP here',
      b: 'fine',
      token: 'abcdefgh12345678',
    })
    expect(redacted).toEqual({
      a: 'key [REDACTED AWS access key] here',
      b: 'fine',
      token: '[REDACTED "token" field]',
    })
    // What redaction leaves is storable.
    expect(findSecrets(redacted)).toEqual([])
  })
})

describe('prepareWrite', () => {
  it('computes expiry from a ttl and keeps createdAt of the stored memory', () => {
    const now = new Date('2026-03-01T00:00:00Z')
    const stored = memory('a', 1)
    const next = prepareWrite('ws', { key: 'a', value: 2, state: 'INFERRED', ttlSeconds: 60 }, stored, now)
    expect(next).toMatchObject({
      createdAt: stored.createdAt,
      updatedAt: now.toISOString(),
      expiresAt: '2026-03-01T00:01:00.000Z',
    })
  })
})

describe('JSONL', () => {
  it('round-trips and reports bad lines by number without losing good ones', () => {
    const memories = [memory('a', { x: 1 }), memory('b/c', 'text\nwith newline')]
    const text = toJsonl(memories)
    expect(parseJsonl(text)).toEqual({ memories, errors: [] })
    const broken = `${text}{not json\n${JSON.stringify({ ...memories[0], state: 'SURE' })}\n`
    const parsed = parseJsonl(broken)
    expect(parsed.memories).toEqual(memories)
    expect(parsed.errors.map((e) => e.line)).toEqual([3, 4])
    expect(parsed.errors[1]!.problem).toMatch(/state/)
  })
})

describe('merge', () => {
  it('keeps the higher state, else the newer, and reports each disagreement', () => {
    const a = [
      memory('db', 'postgres', { state: 'CONFIRMED' }),
      memory('cache', 'memcached', { updatedAt: at('2026-01-02T00:00:00Z') }),
      memory('same', 'x'),
      memory('only-a', 1),
    ]
    const b = [
      memory('db', 'mysql', { state: 'INFERRED', updatedAt: at('2026-02-01T00:00:00Z') }),
      memory('cache', 'redis', { updatedAt: at('2026-01-03T00:00:00Z') }),
      memory('same', 'x'),
      memory('only-b', 2),
    ]
    const { merged, conflicts } = mergeMemories(a, b)
    expect(merged.map((m) => [m.key, m.value])).toEqual([
      ['cache', 'redis'],
      ['db', 'postgres'],
      ['only-a', 1],
      ['only-b', 2],
      ['same', 'x'],
    ])
    expect(conflicts.map((c) => [c.key, c.reason, c.kept.value, c.dropped.value])).toEqual([
      ['db', 'higher-state', 'postgres', 'mysql'],
      ['cache', 'newer', 'redis', 'memcached'],
    ])
  })
})

describe('gc', () => {
  it('lists expired memories and near-identical duplicates, keeping the best-established', () => {
    const now = Date.parse('2026-06-01T00:00:00Z')
    const memories = [
      memory('notes/a', 'We deploy the API with Kamal to the Hetzner box every Friday', {
        state: 'INFERRED',
      }),
      memory('notes/b', 'we deploy the API with kamal to the hetzner box every friday.', {
        state: 'CONFIRMED',
      }),
      memory('notes/c', 'We deploy the API with Kamal to the Hetzner box, every Friday!', {
        confidence: 0.5,
      }),
      memory('notes/d', 'Invoices are immutable; corrections are credit notes'),
      memory('old', 'stale', { expiresAt: at('2026-05-01T00:00:00Z') }),
    ]
    const plan = planGc(memories, now)
    expect(plan.expired.map((m) => m.key)).toEqual(['old'])
    expect(plan.duplicates.map((g) => [g.keep.key, g.drop.map((m) => m.key)])).toEqual([
      ['notes/b', ['notes/a', 'notes/c']],
    ])
    expect(findDuplicates([memories[3]!, memory('x', 'Invoices are mutable drafts until sent')])).toEqual([])
  })
})

describe('workspaceForRepo', () => {
  it('makes a readable, valid, stable workspace name that two repositories never share', () => {
    const api = workspaceForRepo('github.com/acme/api')
    expect(api).toMatch(/^github\.com-acme-api-[0-9a-f]{8}$/)
    expect(workspaceForRepo('github.com/acme/api')).toBe(api)
    const lookalikes = [
      'github.com/acme/api-v2',
      'github.com/acme-api/v2',
      'github.com/acme/api--v2',
      'github.com/Acme/api-v2',
    ]
    expect(new Set(lookalikes.map(workspaceForRepo)).size).toBe(4)
    expect(workspaceForRepo('local:/home/me/src/tool')).toMatch(/^local-home-me-src-tool-[0-9a-f]{8}$/)
    for (const name of [...lookalikes, `github.com/${'x'.repeat(300)}`, 'local:/', '日本'].map(
      workspaceForRepo,
    )) {
      expect(name).toMatch(/^[a-z0-9][a-z0-9._-]{0,127}$/)
    }
  })
})

describe('secrets in the forms people actually paste', () => {
  it.each([
    'DB_PASSWORD=hunter2hunter2',
    'AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    'export GITHUB_TOKEN=abcdef1234567890abcd',
    'Authorization: Bearer abcdefghijklmnopqrstuvwxyz012345',
    '{"apiKey": "abcd1234efgh5678"}',
  ])('finds %s', (text) => {
    expect(findSecrets(text)).not.toEqual([])
  })

  it('checks secret-named fields of any case or type, and leaves ordinary words alone', () => {
    expect(
      findSecrets({
        DB_PASSWORD: 'hunter2hunter2',
        dbPassword: 'x'.repeat(9),
        pin: 123456789012,
        password: 123456789012,
      }),
    ).toEqual([
      { path: '$.DB_PASSWORD', kind: '"DB_PASSWORD" field' },
      { path: '$.dbPassword', kind: '"dbPassword" field' },
      { path: '$.password', kind: '"password" field' },
    ])
    for (const ok of [
      'rotate the token every 90 days',
      'password reset emails expire after 1h',
      'tokenizer: bm25',
    ]) {
      expect(findSecrets(ok)).toEqual([])
    }
  })

  it('refuses a secret in the key or the provenance, not only in the value', () => {
    expect(() =>
      prepareWrite('ws', { key: `creds/ghp_${'a1B2'.repeat(9)}`, value: 1, state: 'INFERRED' }, null),
    ).toThrow(/GitHub token at key/)
    expect(() =>
      prepareWrite(
        'ws',
        { key: 'a', value: 1, state: 'INFERRED', provenance: { source: 'AKIAABCDEFGHIJKLMNOP' } },
        null,
      ),
    ).toThrow(/AWS access key at provenance\.source/)
  })
})

describe('merge, import and gc keep what is live and distinct', () => {
  it('merge: a live memory beats an expired one of a higher state', () => {
    const expired = memory('x', 'old truth', { state: 'CONFIRMED', expiresAt: at('2026-01-02T00:00:00Z') })
    const live = memory('x', 'current guess', { state: 'INFERRED' })
    const { merged, conflicts } = mergeMemories([expired], [live])
    expect(merged.map((m) => m.value)).toEqual(['current guess'])
    expect(conflicts[0]!.reason).toBe('live')
  })

  it('gc: the same words in two folders are two facts', () => {
    const plan = planGc([
      memory('services/billing/db', 'postgres 16 on rds'),
      memory('services/auth/db', 'postgres 16 on rds'),
    ])
    expect(plan.duplicates).toEqual([])
  })

  it('import: skips an expired memory over a live one, and bad entries, writing the rest', async () => {
    const writes: string[] = []
    const store = new Map<string, Memory>([['live', memory('live', 'current')]])
    const provider = {
      get: async (key: string) => store.get(key) ?? null,
      write: async (w: { key: string; value: Memory['value'] }) => {
        const m = prepareWrite('ws', w as never, store.get(w.key) ?? null)
        writes.push(w.key)
        store.set(w.key, m)
        return m
      },
    } as unknown as Parameters<typeof importMemories>[0]
    const report = await importMemories(provider, [
      memory('live', 'old', { state: 'CONFIRMED', expiresAt: at('2026-01-02T00:00:00Z') }),
      memory('leaky', 'AKIAABCDEFGHIJKLMNOP'),
      memory('fresh', 'new fact', { supersedes: 'live' }),
    ])
    expect(report).toMatchObject({ written: 1, unchanged: 0, conflicts: [] })
    expect(report.skipped.map((s) => s.key)).toEqual(['live', 'leaky'])
    expect(writes).toEqual(['fresh'])
    expect(store.get('fresh')!.supersedes).toBeNull()
    expect(store.get('live')!.value).toBe('current')
  })
})

describe('applyGc', () => {
  it('skips memories rewritten after the plan', async () => {
    const now = Date.parse('2026-06-01T00:00:00Z')
    const memories = [
      memory('tmp/a', 'stale', { expiresAt: at('2026-05-01T00:00:00Z') }),
      memory('notes/x', 'we deploy the API with kamal every friday', { state: 'CONFIRMED' }),
      memory('notes/y', 'we deploy the API with kamal every friday!'),
    ]
    const plan = planGc(memories, now)
    const deleted: string[] = []
    // tmp/a was written again (live now); notes/y was not touched.
    const live = new Map<string, Memory>([
      ['tmp/a', memory('tmp/a', 'fresh')],
      ['notes/y', memories[2]!],
    ])
    const provider = {
      get: async (key: string) => live.get(key) ?? null,
      delete: async (key: string) => {
        deleted.push(key)
        return true
      },
    } as unknown as Parameters<typeof applyGc>[0]
    expect(await applyGc(provider, plan)).toBe(1)
    expect(deleted).toEqual(['notes/y'])
  })
})

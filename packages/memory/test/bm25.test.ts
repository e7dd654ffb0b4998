import { describe, expect, it } from 'vitest'
import { Bm25Index, textOf, tokenize } from '../src/search/bm25.ts'

describe('tokenize', () => {
  it('lowercases, drops stopwords and splits on anything that is not a letter or digit', () => {
    expect(tokenize('The Password is IN the vault!')).toEqual(['password', 'vault'])
    expect(tokenize("'); drop table x; --")).toEqual(['drop', 'tabl', 'x'])
    expect(tokenize('')).toEqual([])
    expect(tokenize('  the a an of  ')).toEqual([])
  })

  it('splits camelCase, acronyms, snake_case, kebab-case, paths and dotted versions', () => {
    expect(tokenize('getUserName HTTPServer')).toEqual(['get', 'user', 'nam', 'http', 'server'])
    expect(tokenize('token_ttl api-key src/auth/login.ts v1.2')).toEqual([
      'token',
      'ttl',
      'api',
      'key',
      'src',
      'auth',
      'login',
      'ts',
      'v1',
      '2',
    ])
    expect(tokenize('argon2id 3600')).toEqual(['argon2id', '3600'])
  })

  it('stems the forms of a word to one term, so queries and documents meet', () => {
    const pairs: Array<[string, string]> = [
      ['caching', 'cache'],
      ['caches', 'cached'],
      ['hashing', 'hash'],
      ['hashes', 'hashed'],
      ['invoices', 'invoice'],
      ['policies', 'policy'],
      ['families', 'family'],
      ['running', 'runs'],
      ['stopped', 'stop'],
      ['passes', 'pass'],
      ['expires', 'expiring'],
      ['deploys', 'deployed'],
      ['quickly', 'quick'],
      ['statuses', 'status'],
      ['boxes', 'box'],
      ['sessions', 'session'],
    ]
    for (const [a, b] of pairs) expect(tokenize(a), `${a} / ${b}`).toEqual(tokenize(b))
    expect(tokenize('caching cache hashing invoices')).toEqual(['cach', 'cach', 'hash', 'invoic'])
    // Short words and words with digits are left alone.
    expect(tokenize('bus gas uses k8s')).toEqual(['bus', 'gas', 'use', 'k8s'])
  })

  it('folds accents and handles any script', () => {
    expect(tokenize('Équipe naïve CAFÉ')).toEqual(tokenize('equipe naive cafe'))
    // No spaces to split on: overlapping bigrams, so part of a phrase finds it.
    expect(tokenize('日本語のテスト')).toEqual(['日本', '本語', '語の', 'のテ', 'テス', 'スト'])
    expect(tokenize('Λόγος МОСКВА')).toEqual(['λογος', 'москва'])
    expect(tokenize('ﬁle')).toEqual(['fil']) // NFKD: the ligature becomes "fi"
  })
})

describe('textOf', () => {
  it('flattens strings, numbers and object keys in document order', () => {
    expect(textOf({ seconds: 3600, why: 'security review', tags: ['a', true, null, 2.5] })).toBe(
      'seconds 3600 why security review tags a 2.5',
    )
    expect(textOf('plain')).toBe('plain')
    expect(textOf(null)).toBe('')
  })
})

describe('Bm25Index', () => {
  const corpus = (): Bm25Index => {
    const index = new Bm25Index()
    index.add('auth/password-hashing', {
      key: 'auth/password-hashing',
      text: 'Use argon2id for password hashing; bcrypt is retired',
    })
    index.add('auth/session', { key: 'auth/session', text: 'Sessions expire after one hour' })
    index.add('billing/invoices', {
      key: 'billing/invoices',
      text: 'Invoices are immutable; corrections are credit notes',
    })
    index.add('notes/misc', { key: 'notes/misc', text: 'the password for nothing is a joke' })
    index.add('ops/cache', {
      key: 'ops/cache',
      text: 'We cache session tokens in redis; caching is per region',
    })
    return index
  }

  it('scores with BM25 (k1 1.2, b 0.75): one matching term in equal-length documents scores ln 2', () => {
    const index = new Bm25Index()
    index.add('a', { key: 'x', text: 'apple' })
    index.add('b', { key: 'y', text: 'banana' })
    const hits = index.search('apple')
    expect(hits).toHaveLength(1)
    expect(hits[0]!.id).toBe('a')
    expect(hits[0]!.score).toBeCloseTo(Math.log(2), 12)
  })

  it('ranks a small corpus: the document about the query first', () => {
    const index = corpus()
    expect(index.search('password hashing').map((h) => h.id)).toEqual(['auth/password-hashing', 'notes/misc'])
    expect(index.search('caching').map((h) => h.id)).toEqual(['ops/cache'])
    expect(index.search('session').map((h) => h.id)).toEqual(['auth/session', 'ops/cache'])
    expect(index.search('invoice credit').map((h) => h.id)).toEqual(['billing/invoices'])
    expect(index.search('zzzz')).toEqual([])
    expect(index.search('')).toEqual([])
    expect(index.search('the of and')).toEqual([])
  })

  it('weights key words double and rewards matching every query term', () => {
    const index = new Bm25Index()
    index.add('in-text', { key: 'a/b', text: 'deploy notes here' })
    index.add('in-key', { key: 'deploy/c', text: 'notes here' })
    expect(index.search('deploy').map((h) => h.id)).toEqual(['in-key', 'in-text'])

    const bonus = new Bm25Index()
    bonus.add('one-term', { key: 'k1', text: 'redis redis redis redis redis cluster' })
    bonus.add('both-terms', { key: 'k2', text: 'redis postgres cluster notes' })
    bonus.add('filler', { key: 'k3', text: 'unrelated words' })
    expect(bonus.search('redis postgres').map((h) => h.id)).toEqual(['both-terms', 'one-term'])
  })

  it('filters before limiting, breaks ties by id, and forgets removed documents', () => {
    const index = corpus()
    expect(index.search('password', { filter: (id) => id.startsWith('notes/') }).map((h) => h.id)).toEqual([
      'notes/misc',
    ])
    expect(index.search('password', { limit: 1 }).map((h) => h.id)).toEqual(['auth/password-hashing'])
    expect(index.search('password', { limit: 0 })).toEqual([])
    const ties = new Bm25Index()
    for (const id of ['c', 'a', 'b']) ties.add(id, { key: 'k', text: 'same words' })
    expect(ties.search('same').map((h) => h.id)).toEqual(['a', 'b', 'c'])

    expect(index.remove('notes/misc')).toBe(true)
    expect(index.remove('notes/misc')).toBe(false)
    expect(index.search('joke')).toEqual([])
    expect(index.size).toBe(4)
    // Re-adding replaces the old text.
    index.add('ops/cache', { key: 'ops/cache', text: 'memcached now' })
    expect(index.search('redis')).toEqual([])
    expect(index.search('memcached').map((h) => h.id)).toEqual(['ops/cache'])
  })

  it('round-trips through toJSON/fromJSON with identical results, and rejects anything else', () => {
    const index = corpus()
    const copy = Bm25Index.fromJSON(JSON.parse(JSON.stringify(index.toJSON())))
    for (const query of ['password hashing', 'session', 'cache region', 'credit']) {
      expect(copy.search(query)).toEqual(index.search(query))
    }
    expect(copy.ids().sort()).toEqual(index.ids().sort())
    expect(() => Bm25Index.fromJSON(null)).toThrow(/snapshot/)
    expect(() => Bm25Index.fromJSON({ version: 2, docs: [] })).toThrow(/snapshot/)
    expect(() => Bm25Index.fromJSON({ version: 1, docs: [['a', [['t', -1]]]] })).toThrow(/snapshot/)
  })
})

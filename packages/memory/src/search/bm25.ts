import type { JsonValue } from '../types.ts'

// A small in-process BM25 index for providers without a search engine of their own (the file provider). Good
// enough to put "the memory about the query" first over a few thousand notes; not a linguistics library.

const STOPWORDS = new Set(
  (
    'a an and are as at be been but by for from has have he her his i if in into is it its of on or our she so ' +
    'than that the their them then there these they this those to was we were what when where which who will ' +
    'with you your'
  ).split(' '),
)

const MARKS = /\p{M}+/gu
const VOWEL = /[aeiouy]/
const UNDOUBLE = /([b-df-hj-km-np-rtv-y])\1$/ // a doubled consonant, except l, s and z (fall, pass, buzz)

/**
 * A light English stemmer: plurals, -ing, -ed, -ly, final -y and -e, so that `cache`, `caches`, `cached` and
 * `caching` all become `cach`. Only pure a-z words longer than three letters are touched.
 */
function stem(word: string): string {
  if (word.length <= 3 || !/^[a-z]+$/.test(word)) return word
  let w = word
  if (w.endsWith('ies') && w.length > 4) w = `${w.slice(0, -3)}i`
  else if (w.endsWith('sses') || /(?:x|z|sh|ch)es$/.test(w)) w = w.slice(0, -2)
  else if (w.endsWith('s') && !/(?:ss|us|is)$/.test(w)) w = w.slice(0, -1)

  const strip = (suffix: string, undouble: boolean): boolean => {
    if (!w.endsWith(suffix)) return false
    const rest = w.slice(0, -suffix.length)
    if (rest.length < 3 || !VOWEL.test(rest)) return false
    w = undouble && UNDOUBLE.test(rest) ? rest.slice(0, -1) : rest
    return true
  }
  // -ly only after the endings Porter2 accepts for it, so `family` and `families` still meet (as `famili`).
  if (!strip('ing', true) && !strip('ed', true) && /[cdeghkmnrt]ly$/.test(w) && w.length > 5)
    w = w.slice(0, -2)
  if (w.length > 3 && /[^aeiou]y$/.test(w)) w = `${w.slice(0, -1)}i`
  if (w.length > 3 && w.endsWith('e')) w = w.slice(0, -1)
  return w
}

/**
 * Splits text into search terms: accents folded, camelCase and snake/kebab/path separators split, lowercased,
 * stopwords dropped, lightly stemmed. Queries and documents go through the same function, so they stem alike.
 *
 * @example
 * tokenize('Caching the userSessions in café_routes') // ['cach', 'user', 'session', 'caf', 'rout']
 */
export function tokenize(text: string): string[] {
  const folded = text
    .normalize('NFKD')
    .replace(MARKS, '')
    // camelCase and HTTPServer boundaries, before the case is lost
    .replace(/([\p{Ll}\p{N}])(?=\p{Lu})/gu, '$1 ')
    .replace(/(\p{Lu})(?=\p{Lu}\p{Ll})/gu, '$1 ')
    .toLowerCase()
    .normalize('NFKD') // lowercasing can produce new combining marks (İ → i̇)
    .replace(MARKS, '')
  const terms: string[] = []
  for (const word of folded.split(/[^\p{L}\p{N}]+/u)) {
    if (word === '' || STOPWORDS.has(word)) continue
    if (CJK.test(word)) terms.push(...cjkBigrams(word))
    else terms.push(stem(word))
  }
  return terms
}

/** Scripts written without spaces between words. */
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u

/**
 * Overlapping two-character pieces of a run of Chinese, Japanese or Korean text (and the other letters in it as
 * words): with no spaces to split on, bigrams let a search for part of a phrase find it.
 */
function cjkBigrams(word: string): string[] {
  const out: string[] = []
  for (const run of word.match(
    /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]+|[^\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]+/gu,
  ) ?? []) {
    if (!CJK.test(run)) {
      out.push(stem(run))
      continue
    }
    const chars = [...run]
    if (chars.length === 1) out.push(run)
    for (let i = 0; i + 1 < chars.length; i++) out.push(`${chars[i]}${chars[i + 1]}`)
  }
  return out
}

/**
 * The searchable text of a JSON value: strings, numbers and object keys, in document order.
 *
 * @example
 * textOf({ seconds: 3600, why: 'security review' }) // 'seconds 3600 why security review'
 */
export function textOf(value: JsonValue): string {
  const parts: string[] = []
  const walk = (item: JsonValue): void => {
    if (typeof item === 'string') parts.push(item)
    else if (typeof item === 'number') parts.push(String(item))
    else if (Array.isArray(item)) for (const x of item) walk(x)
    else if (item !== null && typeof item === 'object')
      for (const [name, x] of Object.entries(item)) {
        parts.push(name)
        walk(x)
      }
  }
  walk(value)
  return parts.join(' ')
}

/** What `Bm25Index.toJSON` returns and `fromJSON` accepts: each document's term frequencies. */
export interface Bm25Snapshot {
  version: 1
  docs: Array<[id: string, terms: Array<[term: string, frequency: number]>]>
}

export interface Bm25SearchOptions {
  /** At most this many hits (default 10; Infinity for all). */
  limit?: number
  /** Only documents for which this returns true (applied before the limit). */
  filter?: (id: string) => boolean
}

interface Doc {
  length: number
  terms: Map<string, number>
}

const K1 = 1.2
const B = 0.75
/** Multiplies the score of a document that matches every term of a multi-term query. */
const ALL_TERMS_BONUS = 1.5
/** Words of the key count this many times: a key names what the memory is about. */
const KEY_WEIGHT = 2

/**
 * An inverted index ranking documents with Okapi BM25 (k1 1.2, b 0.75), key words weighted double, and a bonus
 * for documents that match every query term.
 *
 * @example
 * const index = new Bm25Index()
 * index.add('auth/hashing', { key: 'auth/hashing', text: 'argon2id for password hashing' })
 * index.search('password', { limit: 5 }) // [{ id: 'auth/hashing', score: 0.28... }]
 */
export class Bm25Index {
  private readonly docs = new Map<string, Doc>()
  private readonly postings = new Map<string, Map<string, number>>()
  private totalLength = 0

  /** How many documents are indexed. */
  get size(): number {
    return this.docs.size
  }

  /**
   * Whether a document is indexed.
   *
   * @example
   * index.has('auth/hashing') // true
   */
  has(id: string): boolean {
    return this.docs.has(id)
  }

  /**
   * The ids of every indexed document (a copy: safe to remove while iterating).
   *
   * @example
   * for (const id of index.ids()) if (!exists(id)) index.remove(id)
   */
  ids(): string[] {
    return [...this.docs.keys()]
  }

  /**
   * Indexes (or re-indexes) a document.
   *
   * @example
   * index.add('billing/invoices', { key: 'billing/invoices', text: 'Invoices are immutable' })
   */
  add(id: string, fields: { key: string; text: string }): void {
    const terms = new Map<string, number>()
    for (const term of tokenize(fields.key)) terms.set(term, (terms.get(term) ?? 0) + KEY_WEIGHT)
    for (const term of tokenize(fields.text)) terms.set(term, (terms.get(term) ?? 0) + 1)
    this.put(id, terms)
  }

  /**
   * Removes a document; false when it was not indexed.
   *
   * @example
   * index.remove('billing/invoices') // true
   */
  remove(id: string): boolean {
    const doc = this.docs.get(id)
    if (!doc) return false
    for (const term of doc.terms.keys()) {
      const posting = this.postings.get(term)
      posting?.delete(id)
      if (posting?.size === 0) this.postings.delete(term)
    }
    this.totalLength -= doc.length
    this.docs.delete(id)
    return true
  }

  /**
   * The documents matching any query term, best first (ties by id). An empty or all-stopword query finds nothing.
   *
   * @example
   * index.search('password hashing', { limit: 3, filter: (id) => id.startsWith('auth/') })
   */
  search(query: string, options: Bm25SearchOptions = {}): Array<{ id: string; score: number }> {
    const limit = options.limit ?? 10
    const terms = [...new Set(tokenize(query))]
    if (terms.length === 0 || limit <= 0 || this.docs.size === 0) return []
    const n = this.docs.size
    const averageLength = this.totalLength / n || 1
    const scores = new Map<string, { score: number; matched: number }>()
    for (const term of terms) {
      const posting = this.postings.get(term)
      if (!posting) continue
      const idf = Math.log(1 + (n - posting.size + 0.5) / (posting.size + 0.5))
      for (const [id, tf] of posting) {
        const length = this.docs.get(id)!.length
        const part = (idf * tf * (K1 + 1)) / (tf + K1 * (1 - B + (B * length) / averageLength))
        const entry = scores.get(id)
        if (entry) {
          entry.score += part
          entry.matched++
        } else scores.set(id, { score: part, matched: 1 })
      }
    }
    const hits: Array<{ id: string; score: number }> = []
    for (const [id, { score, matched }] of scores) {
      if (options.filter && !options.filter(id)) continue
      hits.push({ id, score: terms.length > 1 && matched === terms.length ? score * ALL_TERMS_BONUS : score })
    }
    hits.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    return hits.slice(0, limit)
  }

  /**
   * A JSON-safe snapshot (term frequencies per document) for persisting the index.
   *
   * @example
   * writeFileSync('index.json', JSON.stringify(index.toJSON()))
   */
  toJSON(): Bm25Snapshot {
    return { version: 1, docs: [...this.docs].map(([id, doc]) => [id, [...doc.terms]]) }
  }

  /**
   * Rebuilds an index from `toJSON` output; throws on anything else (callers rebuild from the documents).
   *
   * @example
   * const index = Bm25Index.fromJSON(JSON.parse(readFileSync('index.json', 'utf8')))
   */
  static fromJSON(snapshot: unknown): Bm25Index {
    const bad = (): never => {
      throw new Error('not a Bm25Index snapshot')
    }
    const data = snapshot as Partial<Bm25Snapshot> | null
    if (data?.version !== 1 || !Array.isArray(data.docs)) bad()
    const index = new Bm25Index()
    for (const entry of data!.docs!) {
      if (!Array.isArray(entry) || typeof entry[0] !== 'string' || !Array.isArray(entry[1])) bad()
      const terms = new Map<string, number>()
      for (const pair of entry[1]) {
        if (
          !Array.isArray(pair) ||
          typeof pair[0] !== 'string' ||
          !(typeof pair[1] === 'number' && pair[1] > 0)
        )
          bad()
        terms.set(pair[0], pair[1])
      }
      index.put(entry[0], terms)
    }
    return index
  }

  private put(id: string, terms: Map<string, number>): void {
    this.remove(id)
    let length = 0
    for (const [term, tf] of terms) {
      length += tf
      const posting = this.postings.get(term)
      if (posting) posting.set(id, tf)
      else this.postings.set(term, new Map([[id, tf]]))
    }
    this.docs.set(id, { length, terms })
    this.totalLength += length
  }
}

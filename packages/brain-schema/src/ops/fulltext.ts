import { type RawBuilder, sql } from 'kysely'

/**
 * The CTE every ranked search starts from, named `m`: the web-search query as `all_terms` (every term, quotes,
 * `or`, `-word`), `any_term` (some of the positive terms, as prefixes), `excluded` (the `-word` and `-"phrase"`
 * parts, which must never widen the match), `phrase` (the positive words in order), and `matches` — one tsquery
 * (with `unstemmed`, the words as typed join the stems, for columns indexed without stemming)
 * for the WHERE clause, so a GIN index on the searched tsvector can serve it. The query text is always a parameter.
 *
 * @example
 * sql`with ${searchTerms('password hashing')} select ... from dstack.decisions d, m where d.search @@ m.matches`
 */
export function searchTerms(query: string, options: { unstemmed?: boolean } = {}): RawBuilder<unknown> {
  const negation = /(?:^|\s)-("[^"]*"|[^\s"]+)/g
  // Each excluded word or "phrase", as a web-search query of alternatives.
  const excluded = [...query.matchAll(negation)].map((m) => m[1]).join(' or ')
  const positive = query.replace(negation, ' ')
  return sql`q as (
      select websearch_to_tsquery('english', ${query}) as all_terms,
             -- Prefix matching only for words of 3+ letters: 'n:*' would match every word starting with n.
             (select to_tsquery('simple', string_agg(quote_literal(lexeme) || case when length(lexeme) >= 3 then ':*' else '' end, ' | '))
                from (
                  select unnest(tsvector_to_array(to_tsvector('english', ${positive}))) as lexeme
                  -- Columns indexed without stemming (memory keys) need the words as typed too.
                  union select unnest(tsvector_to_array(to_tsvector('simple', ${positive}))) where ${options.unstemmed ?? false}
                ) as words) as any_term,
             nullif(websearch_to_tsquery('english', ${excluded}), ''::tsquery) as excluded,
             phraseto_tsquery('english', ${positive}) as phrase
    ),
    m as (
      select q.*, case when q.any_term is null then q.all_terms else q.all_terms || q.any_term end as matches from q
    )`
}

/**
 * The relevance of a tsvector column against `m`: all terms beat some terms, a phrase match lifts, and cover
 * density (proximity) plus term frequency rank what is left, so equal single-word hits are not a tie.
 *
 * @example
 * sql`select ${searchRank(sql.ref('d.search'))} as rank from dstack.decisions d, m`
 */
export function searchRank(vector: RawBuilder<unknown>): RawBuilder<number> {
  return sql<number>`((case when ${vector} @@ m.all_terms then 1.0 else 0.5 end)
    * (case when numnode(m.phrase) > 1 and ${vector} @@ m.phrase then 1.5 else 1.0 end)
    * (ts_rank_cd(${vector}, m.matches, 32) + ts_rank(${vector}, m.matches, 1)))::float8`
}

/**
 * The WHERE condition of a ranked search: matches some term, none of the excluded ones.
 *
 * @example
 * sql`... where ${searchMatch(sql.ref('d.search'))}`
 */
export function searchMatch(vector: RawBuilder<unknown>): RawBuilder<boolean> {
  return sql<boolean>`(${vector} @@ m.matches and (m.excluded is null or not ${vector} @@ m.excluded))`
}

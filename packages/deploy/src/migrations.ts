import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

/** A migration file of the repository. */
export interface Migration {
  name: string
  path: string
  /** sha256 of the file, recorded when applied. */
  checksum: string
  sql: string
}

/** A statement that an older release may not survive: it would fail or misbehave against the migrated schema. */
export interface BreakingChange {
  file: string
  line: number
  rule: string
  statement: string
}

/** The table that records what was applied (created by the first migrate step). */
export const MIGRATIONS_TABLE = 'dstack_migrations'

const MIGRATION_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*\.sql$/

/**
 * The `*.sql` files of a migrations directory in name order. A missing directory is an empty list; a file name that
 * could not be recorded safely is an error.
 *
 * @example
 * listMigrations('/opt/ares/migrations').map((m) => m.name) // ['0001_users.sql', '0002_orders.sql']
 */
export function listMigrations(dir: string): Migration[] {
  let names: string[]
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.sql'))
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
  return names.sort().map((name) => {
    if (!MIGRATION_NAME.test(name))
      throw new Error(`${join(dir, name)}: migration names may hold letters, digits, _ . - and end in .sql`)
    const path = join(dir, name)
    const sql = readFileSync(path, 'utf8')
    return { name, path, sql, checksum: createHash('sha256').update(sql).digest('hex') }
  })
}

// Each rule: what makes a statement unsafe for the release still running while (and after) it applies.
const RULES: Array<{ rule: string; pattern: RegExp }> = [
  { rule: 'drops a table', pattern: /^drop\s+table\b/ },
  {
    rule: 'drops a column',
    pattern: /^alter\s+table\b.*\bdrop\s+(?:column\s+)?(?!constraint\b|default\b|not\b)/,
  },
  { rule: 'renames a table or column', pattern: /^alter\s+table\b.*\brename\b/ },
  {
    rule: 'changes a column type',
    pattern: /^alter\s+table\b.*\balter\s+(?:column\s+)?\S+\s+(?:set\s+data\s+)?type\b/,
  },
  { rule: 'makes a column NOT NULL', pattern: /^alter\s+table\b.*\bset\s+not\s+null\b/ },
  {
    rule: 'adds a NOT NULL column without a default',
    pattern:
      /^alter\s+table\b.*\badd\s+(?:column\s+)?(?:if\s+not\s+exists\s+)?\S+\s+(?:(?!\bdefault\b).)*\bnot\s+null\b(?:(?!\bdefault\b).)*$/,
  },
  {
    rule: 'drops a view, function or type',
    pattern: /^drop\s+(?:materialized\s+)?(?:view|function|type|schema)\b/,
  },
  { rule: 'empties a table', pattern: /^truncate\b/ },
]

/**
 * Statements of `sql` that are not backward-compatible (the release before this one could break against the new
 * schema): dropping or renaming tables and columns, changing a type, NOT NULL without a default, TRUNCATE… Comments and
 * string literals are ignored, so `-- drop table x` never counts. Expand/contract migrations pass: add first, drop in
 * a later deploy once no release reads the old shape.
 *
 * @example
 * breakingChanges('0003.sql', 'alter table users drop column email;')
 * // [{ file: '0003.sql', line: 1, rule: 'drops a column', statement: 'alter table users drop column email' }]
 */
export function breakingChanges(file: string, sql: string): BreakingChange[] {
  const found: BreakingChange[] = []
  for (const { text, line } of statements(sql)) {
    const normal = text.replace(/\s+/g, ' ').trim().toLowerCase()
    for (const { rule, pattern } of RULES) {
      if (pattern.test(normal)) {
        found.push({ file, line, rule, statement: text.replace(/\s+/g, ' ').trim().slice(0, 200) })
        break
      }
    }
  }
  return found
}

/** Splits SQL into statements with their first line, blanking comments, strings and dollar-quoted bodies. */
function statements(sql: string): Array<{ text: string; line: number }> {
  const out: Array<{ text: string; line: number }> = []
  let current = ''
  let line = 1
  let start = 1
  let i = 0
  const push = () => {
    if (current.trim()) out.push({ text: current.trim(), line: start })
    current = ''
  }
  while (i < sql.length) {
    const c = sql[i]!
    if (!current.trim() && c !== '\n' && !/\s/.test(c)) start = line
    if (c === '\n') line++
    if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i)
      i = end === -1 ? sql.length : end
      continue
    }
    if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2)
      const body = sql.slice(i, end === -1 ? sql.length : end + 2)
      line += body.split('\n').length - 1
      i += body.length
      current += ' '
      continue
    }
    if (c === "'" || c === '"') {
      let j = i + 1
      while (j < sql.length && !(sql[j] === c && sql[j + 1] !== c)) j += sql[j] === c ? 2 : 1
      const body = sql.slice(i, j + 1)
      line += body.split('\n').length - 1
      // Identifiers stay (a rename's target matters less than its shape); literals become a placeholder.
      current += c === '"' ? body : "''"
      i = j + 1
      continue
    }
    const dollar = c === '$' ? /^\$[A-Za-z_]*\$/.exec(sql.slice(i)) : null
    if (dollar) {
      const end = sql.indexOf(dollar[0], i + dollar[0].length)
      const body = sql.slice(i, end === -1 ? sql.length : end + dollar[0].length)
      line += body.split('\n').length - 1
      current += "''"
      i += body.length
      continue
    }
    if (c === ';') {
      push()
      i++
      continue
    }
    current += c
    i++
  }
  push()
  return out
}

/**
 * A postgres:// URL as libpq's PG* variables, one `NAME=value` per line, for a command's stdin: the password never
 * appears in an argv (where `ps` on the target would show it).
 *
 * @example
 * pgEnv('postgres://app:s3cret@127.0.0.1:5432/shop') // 'PGHOST=127.0.0.1\nPGPORT=5432\nPGUSER=app\nPGPASSWORD=s3cret\nPGDATABASE=shop\n'
 */
export function pgEnv(databaseUrl: string): string {
  let url: URL
  try {
    url = new URL(databaseUrl)
  } catch {
    throw new Error('the database URL is not a URL (expected postgres://user:password@host:port/database)')
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:')
    throw new Error(`the database URL must start with postgres:// (got ${url.protocol}//…)`)
  const vars: Record<string, string> = {
    PGHOST: decodeURIComponent(url.hostname.replace(/^\[|\]$/g, '')) || 'localhost',
    PGPORT: url.port || '5432',
    PGUSER: decodeURIComponent(url.username),
    PGPASSWORD: decodeURIComponent(url.password),
    PGDATABASE: decodeURIComponent(url.pathname.slice(1)),
    PGSSLMODE: url.searchParams.get('sslmode') ?? '',
  }
  let text = ''
  for (const [name, value] of Object.entries(vars)) {
    if (!value) continue
    if (/[\n\r]/.test(value)) throw new Error(`the database URL's ${name} holds a line break`)
    text += `${name}=${value}\n`
  }
  return text
}

/** SQL that records one applied migration; the values are checked names and hex, quoted as literals. */
export function recordMigrationSql(migration: Migration, release: string): string {
  const literal = (v: string) => `'${v.replaceAll("'", "''")}'`
  return `insert into ${MIGRATIONS_TABLE} (name, checksum, release) values (${literal(migration.name)}, ${literal(migration.checksum)}, ${literal(release)});`
}

export const CREATE_MIGRATIONS_TABLE = `create table if not exists ${MIGRATIONS_TABLE} (name text primary key, checksum text not null, release text not null, applied_at timestamptz not null default now());`

import { type Kysely, sql } from 'kysely'
import type { Database } from './database.generated.ts'

/** One column of a table or view in the `dstack` schema, as the live database describes it. */
export interface LiveColumn {
  relation: string
  column: string
  udt: string
  isView: boolean
  nullable: boolean
  /** Has a default, or a comment starting with @generated (a trigger fills it): may be omitted on insert. */
  generated: boolean
  /** GENERATED ALWAYS ... STORED: never written by clients. */
  generatedAlways: boolean
  /** Allowed values, from a `check (column in (...))` constraint. */
  enumValues: string[] | null
}

// pg_get_constraintdef renders `check (status in ('a', 'b'))` as CHECK ((status = ANY (ARRAY['a'::text, 'b'::text])))
const IN_LIST_CHECK = /^CHECK \(\(?(\w+) = ANY \(\(?ARRAY\[([^\]]+)\]\)?(?:::text\[\])?\)\)?\)$/

/** Columns constrained to a list of values, keyed `relation.column`. */
async function enumChecks(db: Kysely<Database>): Promise<Map<string, string[]>> {
  const result = await sql<{ relation: string; definition: string }>`
    select cl.relname as relation, pg_get_constraintdef(co.oid) as definition
    from pg_catalog.pg_constraint co
    join pg_catalog.pg_class cl on cl.oid = co.conrelid
    where co.contype = 'c' and co.connamespace = 'dstack'::regnamespace`.execute(db)
  const found = new Map<string, string[]>()
  for (const row of result.rows) {
    const match = IN_LIST_CHECK.exec(row.definition)
    if (!match) continue
    const values = [...match[2]!.matchAll(/'((?:[^']|'')*)'::text/g)].map((value) =>
      value[1]!.replaceAll("''", "'"),
    )
    found.set(`${row.relation}.${match[1]}`, values)
  }
  return found
}

/**
 * Reads every column of every table and view in the `dstack` schema (except the migration bookkeeping table).
 *
 * @example
 * const columns = await introspectSchema(brain.db)
 * columns.filter((c) => c.relation === 'agents').map((c) => c.column) // ['id', 'display_name', ...]
 */
export async function introspectSchema(db: Kysely<Database>): Promise<LiveColumn[]> {
  const result = await sql<{
    relation: string
    column: string
    udt: string
    is_view: boolean
    nullable: boolean
    has_default: boolean
    generated_always: boolean
    comment: string | null
  }>`
    select
      c.table_name as relation,
      c.column_name as column,
      c.udt_name as udt,
      t.table_type = 'VIEW' as is_view,
      c.is_nullable = 'YES' as nullable,
      c.column_default is not null or c.is_identity = 'YES' as has_default,
      c.is_generated = 'ALWAYS' as generated_always,
      col_description(pc.oid, c.ordinal_position::int) as comment
    from information_schema.columns c
    join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
    join pg_catalog.pg_class pc on pc.relname = c.table_name and pc.relnamespace = 'dstack'::regnamespace
    where c.table_schema = 'dstack' and c.table_name <> 'schema_migrations'
    order by c.table_name, c.ordinal_position`.execute(db)
  const enums = await enumChecks(db)
  return result.rows.map((row) => ({
    relation: row.relation,
    column: row.column,
    udt: row.udt,
    isView: row.is_view,
    nullable: row.nullable,
    generated: row.has_default || (row.comment?.startsWith('@generated') ?? false),
    generatedAlways: row.generated_always,
    enumValues: enums.get(`${row.relation}.${row.column}`) ?? null,
  }))
}

/**
 * How each Postgres type is seen through `pg`: what a select returns, what an insert/update takes (when different),
 * and the zod schema of the value read.
 */
const TYPES: Record<string, { select: string; write?: string; zod: string }> = {
  uuid: { select: 'string', zod: 'z.guid()' },
  text: { select: 'string', zod: 'z.string()' },
  varchar: { select: 'string', zod: 'z.string()' },
  int2: { select: 'number', zod: 'z.number().int()' },
  int4: { select: 'number', zod: 'z.number().int()' },
  int8: { select: 'string', zod: 'z.string()' }, // pg returns bigint as a string: no silent precision loss
  float4: { select: 'number', zod: 'z.number()' },
  float8: { select: 'number', zod: 'z.number()' },
  numeric: { select: 'string', zod: 'z.string()' },
  bool: { select: 'boolean', zod: 'z.boolean()' },
  timestamptz: { select: 'Date', write: 'Date | string', zod: 'z.date()' },
  // Written as JSON text: pg would turn a JS array parameter into a Postgres array, not JSON.
  jsonb: { select: 'JsonValue', write: 'string', zod: 'z.json()' },
  _text: { select: 'string[]', zod: 'z.array(z.string())' },
  tsvector: { select: 'string', zod: 'z.string()' },
}

function pascal(name: string): string {
  return name.replace(/(^|_)([a-z])/g, (_, __, letter: string) => letter.toUpperCase())
}

function typeOf(column: LiveColumn): { select: string; write?: string; zod: string } {
  if (column.enumValues) {
    const literals = column.enumValues.map((value) => `'${value.replaceAll("'", "\\'")}'`)
    return { select: literals.join(' | '), zod: `z.enum([${literals.join(', ')}])` }
  }
  const mapped = TYPES[column.udt]
  if (!mapped) {
    throw new Error(
      `dstack.${column.relation}.${column.column} has type ${column.udt}, which codegen does not map yet`,
    )
  }
  return mapped
}

/** The kysely column type: plain when select and write agree, ColumnType<select, insert, update> otherwise. */
function kyselyType(column: LiveColumn): string {
  const { select, write = select } = typeOf(column)
  const orNull = (type: string) => (column.nullable ? `${type} | null` : type)
  if (column.isView) return orNull(select) // views are read-only
  if (column.generatedAlways) return `GeneratedAlways<${orNull(select)}>`
  if (write === select) return column.generated ? `Generated<${orNull(select)}>` : orNull(select)
  const insert = column.generated ? `${orNull(write)} | undefined` : orNull(write)
  return `ColumnType<${orNull(select)}, ${insert}, ${orNull(write)}>`
}

/**
 * Renders src/database.generated.ts: kysely table interfaces, the `Database` map and zod row schemas, with a
 * compile-time check that each zod row type equals kysely's Selectable of the same table.
 *
 * @example
 * writeFileSync('src/database.generated.ts', renderDatabaseModule(await introspectSchema(brain.db)))
 */
export function renderDatabaseModule(columns: LiveColumn[]): string {
  const relations = new Map<string, LiveColumn[]>()
  for (const column of columns) {
    const list = relations.get(column.relation) ?? []
    list.push(column)
    relations.set(column.relation, list)
  }
  const names = [...relations.keys()].sort()
  const interfaceName = (relation: string) =>
    `${pascal(relation)}${relations.get(relation)![0]!.isView ? 'View' : 'Table'}`

  const out: string[] = [
    '// Generated from the live brain schema by `pnpm --filter @dstack/brain-schema gen:types`. Do not edit.',
    '// test/schema-types.test.ts regenerates it on PGlite and on Postgres and fails if it differs.',
    '',
    "import type { ColumnType, Generated, GeneratedAlways, Selectable } from 'kysely'",
    "import { z } from 'zod'",
    '',
    '/** A jsonb value as read; write jsonb columns as JSON text (JSON.stringify). */',
    'export type JsonValue = z.infer<ReturnType<typeof z.json>>',
    '',
  ]
  for (const relation of names) {
    out.push(`export interface ${interfaceName(relation)} {`)
    for (const column of relations.get(relation)!) out.push(`  ${column.column}: ${kyselyType(column)}`)
    out.push('}', '')
  }
  out.push('export interface Database {')
  for (const relation of names) out.push(`  ${relation}: ${interfaceName(relation)}`)
  out.push('}', '')
  out.push('/** zod schemas of rows as `pg` returns them, one per table and view. */')
  out.push('export const rowSchemas = {')
  for (const relation of names) {
    out.push(`  ${relation}: z.object({`)
    for (const column of relations.get(relation)!) {
      const zod = typeOf(column).zod
      out.push(`    ${column.column}: ${column.nullable ? `${zod}.nullable()` : zod},`)
    }
    out.push('  }),')
  }
  out.push('} as const', '')
  out.push(
    '/** The row type of a table or view. */',
    'export type Row<T extends keyof Database> = Selectable<Database[T]>',
    '',
    '// Compile-time proof that the zod row schemas and the kysely types describe the same rows.',
    'type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false',
    'export const rowSchemasMatchTypes: {',
    '  [T in keyof Database]: Same<z.infer<(typeof rowSchemas)[T]>, Row<T>>',
    '} = {',
  )
  for (const relation of names) out.push(`  ${relation}: true,`)
  out.push('}', '')
  return out.join('\n')
}

import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** One SQL migration file: `<14-digit version>_<name>.sql`, the layout `supabase db push` also reads. */
export interface Migration {
  version: string
  name: string
  file: string
  sql: string
  /** sha256 of the file with line endings normalised, so a CRLF checkout is not "modified". */
  checksum: string
}

const FILE_NAME = /^(\d{14})_([a-z0-9_]+)\.sql$/

/** The migrations shipped with this package (copied from the repo's supabase/migrations at build). */
export const bundledMigrationsDir = fileURLToPath(new URL('../../migrations/', import.meta.url))

/**
 * Checksum of a migration's SQL as the runner records it.
 *
 * @example
 * migrationChecksum('create table t (id int);\r\n') === migrationChecksum('create table t (id int);\n') // true
 */
export function migrationChecksum(sql: string): string {
  return createHash('sha256').update(sql.replaceAll('\r\n', '\n')).digest('hex')
}

/**
 * Reads a migrations directory in version order. Files that are not `.sql` are ignored; a `.sql` file with a
 * malformed name is an error (it would otherwise be silently skipped).
 *
 * @example
 * const migrations = loadMigrations() // the bundled brain schema
 * migrations.map((m) => m.version) // ['20261123000100', ...]
 */
export function loadMigrations(dir: string = bundledMigrationsDir): Migration[] {
  let files: string[]
  try {
    files = readdirSync(dir)
  } catch (error) {
    throw new Error(`cannot read migrations from ${dir}: ${(error as Error).message}`)
  }
  const migrations = files
    .filter((file) => file.endsWith('.sql'))
    .map((file) => {
      const match = FILE_NAME.exec(file)
      if (!match)
        throw new Error(`migration file ${join(dir, file)} is not named <14-digit version>_<name>.sql`)
      const sql = readFileSync(join(dir, file), 'utf8')
      return {
        version: match[1]!,
        name: match[2]!,
        file: join(dir, file),
        sql,
        checksum: migrationChecksum(sql),
      }
    })
    .sort((a, b) => a.version.localeCompare(b.version))
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i]!.version === migrations[i - 1]!.version) {
      throw new Error(`two migrations share version ${migrations[i]!.version} in ${dir}`)
    }
  }
  if (migrations.length === 0) throw new Error(`no migrations found in ${dir}`)
  return migrations
}

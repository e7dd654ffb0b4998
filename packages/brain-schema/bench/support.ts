// What the brain benches share: the Postgres server they run against and teardown in reverse order.

import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { redactUrl } from '../src/config.ts'

export const PG_URL = process.env.DSTACK_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

/** The URL of another database on the same server. */
export function databaseUrl(name: string): string {
  const url = new URL(PG_URL)
  url.pathname = `/${name}`
  return url.toString()
}

/**
 * Resources released in reverse order of acquisition, whatever happens: brains close before their servers stop,
 * servers stop before their directories go, and the admin connection that drops the databases goes last.
 */
export class Cleanups {
  readonly #steps: Array<{ what: string; run: () => unknown }> = []

  defer(what: string, run: () => unknown): void {
    this.#steps.push({ what, run })
  }

  /** Runs every step, newest first; returns the failures instead of stopping at the first. */
  async run(): Promise<string[]> {
    const failures: string[] = []
    for (let step = this.#steps.pop(); step; step = this.#steps.pop()) {
      try {
        await step.run()
      } catch (error) {
        failures.push(`${step.what}: ${(error as Error).message}`)
      }
    }
    return failures
  }
}

/** Any embedded server still running out of a run's temporary directory. */
function leftoverServers(tmpRoot: string): string[] {
  const ps = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
  return ps.split('\n').filter((line) => line.includes('server-main') && line.includes(`${tmpRoot}/`))
}

/**
 * Runs a bench in a fresh temporary directory, then cleans up and checks that no embedded server outlived it.
 * Returns false (and sets a failing exit code) when anything went wrong; the caller prints results only on true.
 */
export async function runBench(
  name: string,
  cleanups: Cleanups,
  run: (tmpRoot: string) => Promise<void>,
): Promise<boolean> {
  const tmpRoot = mkdtempSync(join(tmpdir(), `dstack-${name}-bench-`))
  cleanups.defer(`remove ${tmpRoot}`, () => rmSync(tmpRoot, { recursive: true, force: true }))
  let failed = false
  try {
    await run(tmpRoot)
  } catch (error) {
    failed = true
    console.error(`${name} bench failed: ${(error as Error).stack ?? (error as Error).message}`)
  }
  const cleanupFailures = await cleanups.run()
  for (const failure of cleanupFailures) console.error(`${name} bench cleanup failed: ${failure}`)
  const leftovers = leftoverServers(tmpRoot)
  for (const line of leftovers) console.error(`${name} bench left an embedded server running: ${line.trim()}`)
  if (failed || cleanupFailures.length > 0 || leftovers.length > 0) {
    process.exitCode = 1
    return false
  }
  return true
}

/** A connection to the Postgres server for creating and dropping bench databases, closed by `cleanups`. */
export async function connectAdmin(cleanups: Cleanups): Promise<pg.Client> {
  const admin = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 5_000 })
  try {
    await admin.connect()
  } catch (error) {
    throw new Error(
      `cannot reach Postgres at ${redactUrl(PG_URL)} (set DSTACK_TEST_PG_URL): ${(error as Error).message}`,
    )
  }
  cleanups.defer('close the admin connection', () => admin.end())
  return admin
}

// What the CLI's test files share: running the real `dstack` entry as a subprocess, and a scratch database on the
// Postgres server (DSTACK_TEST_PG_URL, default postgres://postgres@127.0.0.1:5432/test) for a Postgres brain.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import pg from 'pg'

export const bin = join(import.meta.dirname, '..', '..', 'bin', 'run.js')
export const TEST_PG_URL = process.env.DSTACK_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

export interface Result {
  code: number | null
  stdout: string
  stderr: string
}

/**
 * Runs `dstack <args>` with exactly `env` (nothing inherited but what the caller passes), `input` on stdin (closed
 * when absent), and collects its output.
 */
export function runDstack(
  args: string[],
  options: { env: NodeJS.ProcessEnv; cwd?: string; input?: string },
): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd: options.cwd,
      env: options.env,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout!.on('data', (d) => {
      stdout += d
    })
    child.stderr!.on('data', (d) => {
      stderr += d
    })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
    if (options.input !== undefined) child.stdin?.end(options.input)
  })
}

/** A new empty database on the test server: its URL, and drop() for afterAll. */
export async function scratchDatabase(prefix: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: TEST_PG_URL })
    await client.connect()
    try {
      await client.query(statement)
    } finally {
      await client.end()
    }
  }
  await admin(`create database ${name}`)
  const url = new URL(TEST_PG_URL)
  url.pathname = `/${name}`
  return { url: url.toString(), drop: () => admin(`drop database if exists ${name} with (force)`) }
}

import { execFile, execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { isAlive, readLockOwner, waitFor } from '@dstack/daemon'
import { sql } from 'kysely'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { embeddedServerStatus, ensureEmbeddedServer, stopEmbeddedServer } from '../src/embedded/launcher.ts'
import { EXIT_ALREADY_RUNNING, embeddedPaths } from '../src/embedded/paths.ts'
import { EmbeddedBrainServer } from '../src/embedded/server.ts'
import { BrainUnavailableError } from '../src/errors.ts'
import { openBrain } from '../src/open-brain.ts'

const run = promisify(execFile)
const support = (file: string) => join(import.meta.dirname, 'support', file)
const serverMain = join(import.meta.dirname, '..', 'src', 'embedded', 'server-main.ts')

function clientFor(dataDir: string): pg.Client {
  return new pg.Client({
    host: embeddedPaths(dataDir).socketDir,
    port: 5432,
    user: 'postgres',
    database: 'postgres',
  })
}

async function connected(dataDir: string): Promise<pg.Client> {
  const client = clientFor(dataDir)
  await client.connect()
  return client
}

function serverPids(dataDir: string): number[] {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
  return out
    .split('\n')
    .filter((line) => line.includes('server-main') && line.includes(`--data-dir ${dataDir} `))
    .map((line) => Number(line.trim().split(/\s+/)[0]))
}

describe('embedded brain server', () => {
  let dataDir: string
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'dstack-embedded-'))
    const client = await (async () => {
      await ensureEmbeddedServer({ dataDir })
      return connected(dataDir)
    })()
    await client.query('create table public.writes (writer int, n int, primary key (writer, n))')
    await client.query('create table public.doomed (note text)')
    await client.end()
    // The write test below starts from a stopped server, so its 8 writers also race to start it.
    await stopEmbeddedServer({ dataDir })
  })
  afterAll(async () => {
    await stopEmbeddedServer({ dataDir })
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('8 client processes writing 500 rows each, racing to start the server, lose none (and one server runs)', async () => {
    expect((await embeddedServerStatus({ dataDir })).running).toBe(false)
    await Promise.all(
      Array.from({ length: 8 }, (_, writer) =>
        run(process.execPath, [support('writer.ts'), dataDir, String(writer), '500']),
      ),
    )
    const client = await connected(dataDir)
    try {
      const { rows } = await client.query(
        'select writer, count(*)::int as n from public.writes group by writer order by writer',
      )
      expect(rows).toEqual(Array.from({ length: 8 }, (_, writer) => ({ writer, n: 500 })))
    } finally {
      await client.end()
    }
    expect(serverPids(dataDir)).toHaveLength(1)
  })

  it('is the only owner of its directory: a second server exits at once with EXIT_ALREADY_RUNNING', async () => {
    await ensureEmbeddedServer({ dataDir })
    const second = await run(process.execPath, [serverMain, '--data-dir', dataDir]).catch(
      (e: { code: number }) => e,
    )
    expect((second as { code: number }).code).toBe(EXIT_ALREADY_RUNNING)
    expect(serverPids(dataDir)).toHaveLength(1)
  })

  it('is reachable only by this user: socket directory 0700, socket, state and lock files 0600', async () => {
    await ensureEmbeddedServer({ dataDir })
    const paths = embeddedPaths(dataDir)
    expect(statSync(paths.socketDir).mode & 0o777).toBe(0o700)
    expect(statSync(paths.socketPath).mode & 0o777).toBe(0o600)
    expect(statSync(paths.stateFile).mode & 0o777).toBe(0o600)
    expect(statSync(paths.lockFile).mode & 0o777).toBe(0o600)
    expect(statSync(paths.dataDir).mode & 0o077).toBe(0)
    const status = await embeddedServerStatus({ dataDir })
    expect(status.state).toMatchObject({ pid: serverPids(dataDir)[0], dataDir: paths.dataDir })
    expect(status.rssBytes).toBeGreaterThan(10_000_000)
  })

  it('serves psql, a third-party client, over the same socket', async () => {
    const paths = embeddedPaths(dataDir)
    const out = execFileSync(
      'psql',
      ['-h', paths.socketDir, '-p', '5432', '-U', 'postgres', '-d', 'postgres', '-Atc', 'select 6 * 7'],
      {
        encoding: 'utf8',
      },
    )
    expect(out.trim()).toBe('42')
  })

  it('runs one transaction at a time: other clients wait for it and see only what it committed', async () => {
    const [a, b] = [await connected(dataDir), await connected(dataDir)]
    try {
      await a.query('begin')
      await a.query(`insert into public.doomed (note) values ('rolled back')`)
      let bDone = false
      const bRead = b
        .query(`select count(*)::int as n from public.doomed where note = 'rolled back'`)
        .then((r) => {
          bDone = true
          return r.rows[0].n
        })
      await new Promise((resolve) => setTimeout(resolve, 150))
      expect(bDone).toBe(false)
      await a.query('rollback')
      expect(await bRead).toBe(0)
    } finally {
      await a.end()
      await b.end()
    }
  })

  it('never mixes up interleaved extended-protocol queries from many clients', async () => {
    const clients = await Promise.all(Array.from({ length: 8 }, () => connected(dataDir)))
    try {
      await Promise.all(
        clients.map(async (client, c) => {
          for (let i = 0; i < 100; i++) {
            const value = c * 1000 + i
            const { rows } = await client.query('select $1::int + 1 as next, $2::text as tag', [
              value,
              `c${c}`,
            ])
            expect(rows[0]).toEqual({ next: value + 1, tag: `c${c}` })
          }
        }),
      )
    } finally {
      await Promise.all(clients.map((client) => client.end()))
    }
  })

  it('rolls back the transaction of a client that dies holding it, and serves the others', async () => {
    const paths = embeddedPaths(dataDir)
    const holder = spawn(process.execPath, [support('hold-transaction.ts'), paths.socketDir], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    await new Promise((resolve) => holder.stdout.once('data', resolve))
    const other = await connected(dataDir)
    try {
      const waiting = other.query(`select count(*)::int as n from public.doomed where note = 'uncommitted'`)
      holder.kill('SIGKILL')
      expect((await waiting).rows[0].n).toBe(0)
    } finally {
      await other.end()
    }
  })

  it('delivers notifications only to the clients listening on the channel, across UNLISTEN by another', async () => {
    const [a, b, c] = [await connected(dataDir), await connected(dataDir), await connected(dataDir)]
    const got: Record<string, string[]> = { a: [], b: [], c: [] }
    a.on('notification', (n) => got.a!.push(`${n.channel}:${n.payload}`))
    b.on('notification', (n) => got.b!.push(`${n.channel}:${n.payload}`))
    c.on('notification', (n) => got.c!.push(`${n.channel}:${n.payload}`))
    try {
      await a.query('listen news')
      await b.query('LISTEN "News"')
      await c.query('listen news')
      await c.query('unlisten news')
      await c.query(`select pg_notify('news', 'one'), pg_notify('News', 'two')`)
      await waitFor(() => (got.a!.length >= 1 && got.b!.length >= 1 ? true : undefined), {
        timeoutMs: 3_000,
        what: 'notifications',
      })
      await new Promise((resolve) => setTimeout(resolve, 100))
      expect(got).toEqual({ a: ['news:one'], b: ['News:two'], c: [] })
    } finally {
      await Promise.all([a.end(), b.end(), c.end()])
    }
  })

  it('drops a connection that sends garbage and keeps serving everyone else', async () => {
    const paths = embeddedPaths(dataDir)
    const closed = await new Promise<string>((resolve) => {
      const socket = connect(paths.socketPath)
      let reply = ''
      socket.on('data', (data) => {
        reply += data.toString('latin1')
      })
      socket.on('close', () => resolve(reply))
      socket.on('connect', () =>
        socket.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x00, 0x01, 0x02, 0x03, 0x04])),
      )
    })
    expect(closed).toMatch(/invalid startup packet/)
    const client = await connected(dataDir)
    try {
      expect((await client.query('select 1 as one')).rows).toEqual([{ one: 1 }])
    } finally {
      await client.end()
    }
  })

  it('round-trips a 10 MB value', async () => {
    const client = await connected(dataDir)
    try {
      const big = 'x'.repeat(10 * 1024 * 1024)
      const { rows } = await client.query('select length($1::text) as n, md5($1::text) as h', [big])
      expect(rows[0].n).toBe(big.length)
    } finally {
      await client.end()
    }
  })

  it('survives a crash of the server: committed rows stay, the stale lock is taken over by the next start', async () => {
    const [pid] = serverPids(dataDir)
    process.kill(pid!, 'SIGKILL')
    await waitFor(
      () =>
        isAlive({ pid: pid!, startTime: null, host: readLockOwner(embeddedPaths(dataDir).lockFile)!.host })
          ? undefined
          : true,
      {
        timeoutMs: 5_000,
        what: 'the server to die',
      },
    )
    expect(readLockOwner(embeddedPaths(dataDir).lockFile)?.pid).toBe(pid)
    const brain = await openBrain({ driver: 'embedded', dataDir })
    try {
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from public.writes`.execute(
        brain.db,
      )
      expect(rows[0]!.n).toBe(4000)
    } finally {
      await brain.close()
    }
    expect(serverPids(dataDir)).toHaveLength(1)
    expect(serverPids(dataDir)[0]).not.toBe(pid)
  })
})

describe('embedded brain server lifecycle', () => {
  it('shuts down after its idle timeout once the last client leaves, releasing everything', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'dstack-idle-'))
    try {
      await ensureEmbeddedServer({ dataDir, idleTimeoutMs: 500 })
      const paths = embeddedPaths(dataDir)
      const client = await connected(dataDir)
      const [pid] = serverPids(dataDir)
      await new Promise((resolve) => setTimeout(resolve, 900))
      expect(serverPids(dataDir)).toEqual([pid]) // a connected client keeps it busy, not idle
      await client.end()
      await waitFor(() => (serverPids(dataDir).length === 0 ? true : undefined), {
        timeoutMs: 10_000,
        what: 'idle shutdown',
      })
      expect(existsSync(paths.lockFile)).toBe(false)
      expect(existsSync(paths.stateFile)).toBe(false)
      expect(existsSync(paths.socketPath)).toBe(false)
      expect(readFileSync(paths.logFile, 'utf8')).toMatch(/stopping: idle for 500 ms/)
      expect(await stopEmbeddedServer({ dataDir })).toBe(false)
    } finally {
      await stopEmbeddedServer({ dataDir })
      rmSync(dataDir, { recursive: true, force: true })
    }
  })

  it('disconnects a client idle in a transaction past the timeout, rolling it back, so others proceed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dstack-txidle-'))
    const socketPath = join(dir, 'run', '.s.PGSQL.5432')
    const server = await EmbeddedBrainServer.start({
      pgdataDir: join(dir, 'pgdata'),
      socketPath,
      transactionIdleTimeoutMs: 300,
    })
    const config = { host: join(dir, 'run'), port: 5432, user: 'postgres', database: 'postgres' }
    const idle = new pg.Client(config)
    const other = new pg.Client(config)
    try {
      await idle.connect()
      await other.connect()
      await idle.query('create table t (v int)')
      // `on`, not `once`: pg also reports the server closing the socket afterwards.
      const idleError = new Promise<Error>((resolve) => idle.on('error', resolve))
      await idle.query('begin')
      await idle.query('insert into t values (1)')
      const count = await other.query('select count(*)::int as n from t')
      expect(count.rows[0].n).toBe(0)
      expect((await idleError).message).toMatch(/idle in transaction for over 0.3 s/)
      expect(server.stats().connections).toBe(1)
    } finally {
      await other.end()
      await idle.end().catch(() => {})
      await server.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('explains a failed start with the end of the server log', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'dstack-broken-'))
    try {
      writeFileSync(join(dataDir, 'pgdata'), 'not a directory')
      const error = await ensureEmbeddedServer({ dataDir, startTimeoutMs: 20_000 }).catch((e: unknown) => e)
      expect((error as Error).message).toMatch(
        /failed to start \(exit code 1\)\. Last lines of .*server\.log:\n[\s\S]*failed to start/,
      )
      expect(existsSync(embeddedPaths(dataDir).lockFile)).toBe(false)
    } finally {
      rmSync(dataDir, { recursive: true, force: true })
    }
  })

  it('refuses a data directory whose socket path is too long, saying how to fix it', async () => {
    const deep = join(tmpdir(), 'x'.repeat(120))
    expect(() => embeddedPaths(deep)).toThrow(/longer than unix sockets allow.*socket_dir/)
    const error = await openBrain({ driver: 'embedded', dataDir: deep }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(BrainUnavailableError)
    const short = mkdtempSync(join(tmpdir(), 'dstack-sock-'))
    try {
      expect(embeddedPaths(deep, short).socketPath).toBe(join(short, '.s.PGSQL.5432'))
    } finally {
      rmSync(short, { recursive: true, force: true })
    }
  })

  it('a stopped or never-started brain reports not running and stop returns false', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'dstack-none-'))
    mkdirSync(join(dataDir, 'run'))
    try {
      expect(await embeddedServerStatus({ dataDir })).toMatchObject({ running: false, state: null })
      expect(await stopEmbeddedServer({ dataDir })).toBe(false)
    } finally {
      rmSync(dataDir, { recursive: true, force: true })
    }
  })
})

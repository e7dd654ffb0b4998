// Spawned by embedded-server.test.ts: opens a transaction, writes a row, says so, then waits to be killed.
import pg from 'pg'

const [socketDir] = process.argv.slice(2) as [string]
const client = new pg.Client({ host: socketDir, port: 5432, user: 'postgres', database: 'postgres' })
await client.connect()
await client.query('begin')
await client.query(`insert into public.doomed (note) values ('uncommitted')`)
process.stdout.write('in-transaction\n')
setInterval(() => {}, 60_000)

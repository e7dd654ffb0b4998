// Spawned by embedded-server.test.ts: one client process writing `count` rows into an embedded brain, some in
// autocommit, some in explicit transactions of 10. Starts the server itself if none is running.
import { sql } from 'kysely'
import { openBrain } from '../../src/open-brain.ts'

const [dataDir, writer, count] = process.argv.slice(2) as [string, string, string]
const brain = await openBrain({ driver: 'embedded', dataDir })
const total = Number(count)
for (let n = 0; n < total; ) {
  if (n % 100 === 50) {
    await brain.db.transaction().execute(async (trx) => {
      for (let i = 0; i < 10; i++, n++) {
        await sql`insert into public.writes (writer, n) values (${Number(writer)}, ${n})`.execute(trx)
      }
    })
  } else {
    await sql`insert into public.writes (writer, n) values (${Number(writer)}, ${n})`.execute(brain.db)
    n++
  }
}
await brain.close()

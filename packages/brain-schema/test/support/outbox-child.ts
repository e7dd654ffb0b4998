// Spawned by outbox.test.ts. `append <dir> <count> <repo>` writes edit entries as a hook would; `flush <dir>
// <config-json>` flushes into a brain one entry per transaction (slow on purpose, so a test can kill it mid-way).
import { openBrain } from '../../src/open-brain.ts'
import { appendToOutbox } from '../../src/outbox/append.ts'
import { flushOutbox } from '../../src/outbox/flush.ts'

const [mode, dir, arg, repo] = process.argv.slice(2) as [string, string, string, string]
if (mode === 'append') {
  for (let i = 0; i < Number(arg); i++) {
    appendToOutbox(dir, {
      kind: 'edit',
      path: `late/${process.pid}/${i}.ts`,
      op: 'write',
      session: `child-${process.pid}`,
      repo: { canonical: repo, branch: 'main' },
    })
  }
} else {
  const brain = await openBrain(JSON.parse(arg))
  process.send?.('flushing')
  await flushOutbox(brain.db, { dir, agentId: 'alice', batchSize: 1 })
  await brain.close()
}

// Spawned by brain.bench.ts, 8 at once: one client process inserting `count` edits, one autocommit insert at a
// time, then printing its per-insert latencies and the wall-clock span of its inserts as JSON on stdout.
// argv: <brain config JSON> <WriterTarget JSON> <count>
import type { BrainConfig } from '../src/config.ts'
import { openBrain } from '../src/open-brain.ts'

/** Whose edits to write; sessionId tags this writer's rows so the parent can count them. */
export interface WriterTarget {
  agentId: string
  repoId: string
  fileId: string
  sessionId: string
}

export interface WriterReport {
  latenciesMs: number[]
  /** Epoch milliseconds (sub-ms precision), comparable across the writers. */
  insertsStartedAt: number
  insertsEndedAt: number
}

const [configJson, targetJson, countArg] = process.argv.slice(2)
if (!configJson || !targetJson || !countArg) {
  throw new Error('usage: writer.bench-child.ts <brain config JSON> <target JSON> <count>')
}
const target = JSON.parse(targetJson) as WriterTarget
const count = Number(countArg)
const brain = await openBrain(JSON.parse(configJson) as BrainConfig)
const epochNow = () => performance.timeOrigin + performance.now()

const latenciesMs: number[] = []
const insertsStartedAt = epochNow()
for (let i = 0; i < count; i++) {
  const started = performance.now()
  await brain.db
    .insertInto('edits')
    .values({
      agent_id: target.agentId,
      repo_id: target.repoId,
      file_id: target.fileId,
      session_id: target.sessionId,
      op: 'edit',
    })
    .execute()
  latenciesMs.push(performance.now() - started)
}
const report: WriterReport = { latenciesMs, insertsStartedAt, insertsEndedAt: epochNow() }
await brain.close()
process.stdout.write(`${JSON.stringify(report)}\n`)

// Spawned by lock.test.ts: takes the lock `iterations` times and does a non-atomic read-modify-write of a counter
// inside it. Two holders at once would lose increments or trip the `inside` marker.
import { closeSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { acquireLock } from '../src/lock.ts'

const [lockPath, counterPath, insidePath, iterations] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
]
for (let i = 0; i < Number(iterations); i++) {
  const lock = await acquireLock(lockPath, 'test worker', { timeoutMs: 60_000, pollMs: 1 })
  closeSync(openSync(insidePath, 'wx')) // throws EEXIST if another holder is inside
  const value = Number(readFileSync(counterPath, 'utf8'))
  await sleep(1)
  writeFileSync(counterPath, String(value + 1))
  rmSync(insidePath)
  lock.release()
}

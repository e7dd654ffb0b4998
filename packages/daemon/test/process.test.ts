import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { currentProcess, isAlive, processStartTime, spawnDetached } from '../src/process.ts'
import { waitFor } from '../src/wait.ts'

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dstack-proc-'))
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

describe('process identity', () => {
  it('knows this process is alive and a finished one is not', () => {
    expect(isAlive(currentProcess())).toBe(true)
    const pid = Number(execFileSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']))
    expect(isAlive({ pid, startTime: null, host: hostname() })).toBe(false)
    expect(processStartTime(process.pid)).toMatch(/^\d+$/)
  })
})

describe('spawnDetached', () => {
  it('starts a process in its own session that logs to a file and outlives nothing it should not', async () => {
    const logFile = join(dir, 'logs', 'child.log')
    const { pid, exited } = spawnDetached(
      process.execPath,
      ['-e', 'console.log("started", process.pid); setTimeout(() => {}, 60000)'],
      { logFile },
    )
    await waitFor(() => (readFileSync(logFile, 'utf8').includes('started') ? true : undefined), {
      timeoutMs: 5_000,
      what: 'the child to log',
    })
    const sid = execFileSync('ps', ['-o', 'sid=', '-p', String(pid)])
      .toString()
      .trim()
    expect(Number(sid)).toBe(pid) // session leader: not in our process group, so our signals do not hit it
    process.kill(pid, 'SIGTERM')
    expect(await exited).toBe(null)
    expect(isAlive({ pid, startTime: null, host: hostname() })).toBe(false)
  })
})

describe('waitFor', () => {
  it('returns the first defined value and times out with the name of what it waited for', async () => {
    let n = 0
    expect(await waitFor(() => (++n === 3 ? 'ready' : undefined), { timeoutMs: 1_000, what: 'n' })).toBe(
      'ready',
    )
    await expect(waitFor(() => undefined, { timeoutMs: 50, what: 'the moon' })).rejects.toThrow(/the moon/)
  })
})

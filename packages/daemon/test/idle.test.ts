import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { IdleTimer } from '../src/idle.ts'

describe('IdleTimer', () => {
  it('fires once after the idle period with nothing in use', async () => {
    let fired = 0
    new IdleTimer(50, () => fired++)
    await sleep(120)
    expect(fired).toBe(1)
  })

  it('is busy, never idle, while work is in flight, and counts from the end of the last work', async () => {
    let fired = 0
    const idle = new IdleTimer(50, () => fired++)
    const end = idle.begin()
    await sleep(120)
    expect(fired).toBe(0)
    expect(idle.active).toBe(1)
    end()
    end() // a second call is ignored
    expect(idle.active).toBe(0)
    await sleep(20)
    expect(fired).toBe(0)
    await sleep(80)
    expect(fired).toBe(1)
  })

  it('touch() postpones, stop() cancels', async () => {
    let fired = 0
    const idle = new IdleTimer(60, () => fired++)
    await sleep(40)
    idle.touch()
    await sleep(40)
    expect(fired).toBe(0)
    idle.stop()
    await sleep(80)
    expect(fired).toBe(0)
  })
})

import { createServer } from 'node:net'
import { describe, expect, it } from 'vitest'
import { brainConfigSchema, redactUrl } from '../src/config.ts'
import { BrainUnavailableError } from '../src/errors.ts'
import { openBrain } from '../src/open-brain.ts'

/** A loopback port with nothing listening on it. */
async function deadPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

describe('openBrain', () => {
  it('fails fast with BrainUnavailableError when the Postgres server is down, without the password', async () => {
    const url = `postgres://app:hunter2@127.0.0.1:${await deadPort()}/brain`
    const started = Date.now()
    const error = await openBrain({ driver: 'postgres', url }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(BrainUnavailableError)
    expect((error as Error).message).toMatch(
      /cannot reach the postgres brain at postgres:\/\/app:\*\*\*@127\.0\.0\.1.*ECONNREFUSED/,
    )
    expect((error as Error).message).not.toContain('hunter2')
    expect(Date.now() - started).toBeLessThan(5_000)
  })

  it('fails with a clear message when the server answers but the database does not exist', async () => {
    const error = await openBrain({
      driver: 'postgres',
      url: 'postgres://postgres@127.0.0.1:5432/dstack_no_such_db',
    }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(BrainUnavailableError)
    expect((error as Error).message).toMatch(/database "dstack_no_such_db" does not exist/)
  })

  it('rejects an invalid config naming the field', async () => {
    await expect(openBrain({ driver: 'postgres', url: 'mysql://x' } as never)).rejects.toThrow(
      /url: must be a postgres/,
    )
    await expect(openBrain({ driver: 'sqlite' } as never)).rejects.toThrow(/invalid brain config: driver/)
    await expect(openBrain({ driver: 'embedded', dataDir: '' } as never)).rejects.toThrow(/dataDir/)
  })
})

describe('brain config', () => {
  it('accepts both drivers and refuses unknown keys', () => {
    expect(brainConfigSchema.parse({ driver: 'embedded', dataDir: '/x' })).toEqual({
      driver: 'embedded',
      dataDir: '/x',
    })
    expect(
      brainConfigSchema.safeParse({ driver: 'postgres', url: 'postgresql://h/db', extra: 1 }).success,
    ).toBe(false)
  })

  it('redacts passwords only', () => {
    expect(redactUrl('postgres://u:p@h:5432/db?sslmode=require')).toBe(
      'postgres://u:***@h:5432/db?sslmode=require',
    )
    expect(redactUrl('postgres://u@h/db')).toBe('postgres://u@h/db')
    expect(redactUrl('::not a url')).toBe('(invalid URL)')
  })
})

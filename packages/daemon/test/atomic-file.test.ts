import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { writeFileAtomic } from '../src/atomic-file.ts'

const run = promisify(execFile)
let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dstack-atomic-'))
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

describe('writeFileAtomic', () => {
  it('creates missing directories 0700 and the file 0600', () => {
    const target = join(dir, 'a', 'b', 'state.json')
    writeFileAtomic(target, '{"ok":true}')
    expect(readFileSync(target, 'utf8')).toBe('{"ok":true}')
    expect(statSync(target).mode & 0o777).toBe(0o600)
    expect(statSync(join(dir, 'a', 'b')).mode & 0o777).toBe(0o700)
  })

  it('readers never see a torn file while 4 processes rewrite it, and no temp file is left', async () => {
    const target = join(dir, 'state.json')
    writeFileAtomic(target, JSON.stringify({ writer: -1, pad: 'x'.repeat(64 * 1024) }))
    const module = join(import.meta.dirname, '../src/atomic-file.ts')
    // With `node -e`, process.argv is [node, ...args]: the target is argv[1].
    const script = `import { writeFileAtomic } from ${JSON.stringify(module)}
      for (let i = 0; i < 150; i++) writeFileAtomic(process.argv[1], JSON.stringify({ writer: Number(process.argv[2]), i, pad: 'x'.repeat(64 * 1024) }))`
    const writers = Promise.all(
      [0, 1, 2, 3].map((n) =>
        run(process.execPath, ['--input-type=module', '-e', script, target, String(n)]),
      ),
    )
    let reads = 0
    let done = false
    void writers.finally(() => {
      done = true
    })
    while (!done) {
      const parsed = JSON.parse(readFileSync(target, 'utf8')) as { pad: string }
      expect(parsed.pad).toHaveLength(64 * 1024)
      reads++
      await new Promise((resolve) => setImmediate(resolve))
    }
    await writers
    expect(reads).toBeGreaterThan(0)
    const final = JSON.parse(readFileSync(target, 'utf8')) as { writer: number; i: number }
    expect([0, 1, 2, 3]).toContain(final.writer)
    expect(final.i).toBe(149)
    expect(readdirSync(dir)).toEqual(['state.json'])
  })
})

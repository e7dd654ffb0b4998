import { execFile } from 'node:child_process'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { expect, it } from 'vitest'

const run = promisify(execFile)

it('the README example runs as written (against the built package) and prints what it says', async () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
  const example = /```ts\n([\s\S]*?)```/.exec(readme)![1]!
  const script = join(import.meta.dirname, '..', `readme-example-${process.pid}.tmp.ts`)
  writeFileSync(script, example)
  try {
    const { stdout } = await run(process.execPath, [script])
    expect(stdout.trim().split('\n')).toEqual(['true', 'decisions/password-hashing'])
  } finally {
    rmSync(script, { force: true })
  }
})

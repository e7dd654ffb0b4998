import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { expect, it } from 'vitest'

const run = promisify(execFile)

it('the README example runs as written (against the built package)', async () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
  const example = /```ts\n([\s\S]*?)```/.exec(readme)![1]!
  const home = mkdtempSync(join(tmpdir(), 'dstack-readme-'))
  const script = join(import.meta.dirname, '..', `readme-example-${process.pid}.tmp.ts`)
  writeFileSync(script, example)
  try {
    const { stdout } = await run(process.execPath, [script], { env: { ...process.env, DSTACK_HOME: home } })
    expect(stdout).toContain(`alice { driver: 'embedded', dataDir: '${join(home, 'brain')}' }`)
    expect(statSync(join(home, 'config.yaml')).mode & 0o777).toBe(0o600)
  } finally {
    rmSync(script, { force: true })
    rmSync(home, { recursive: true, force: true })
  }
})

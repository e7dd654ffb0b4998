import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { expect, it } from 'vitest'
import { stopEmbeddedServer } from '../src/embedded/launcher.ts'

const run = promisify(execFile)

it('the README example runs as written (against the built package)', async () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
  const example = /```ts\n([\s\S]*?)```/.exec(readme)![1]!
  const dataDir = mkdtempSync(join(tmpdir(), 'dstack-readme-'))
  // Inside the package, so `@dstack/brain-schema` resolves to this package's own build.
  const script = join(import.meta.dirname, '..', `readme-example-${process.pid}.tmp.ts`)
  writeFileSync(script, example.replaceAll('/tmp/my-brain', dataDir))
  try {
    const { stdout } = await run(process.execPath, [script])
    expect(stdout).toMatch(/title: 'Rate-limit logins'/)
    expect(stdout).toMatch(/repo: 'github\.com\/acme\/api'/)
  } finally {
    rmSync(script, { force: true })
    await stopEmbeddedServer({ dataDir })
    rmSync(dataDir, { recursive: true, force: true })
  }
})

import { execFile } from 'node:child_process'
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { tempDir } from '@dstack/git/testing'
import { expect, it } from 'vitest'

const run = promisify(execFile)

it('the README example runs as written (against the built package)', async () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
  const example = /```ts\n([\s\S]*?)```/.exec(readme)![1]!
  const dir = tempDir('dstack-skills-readme-')
  // A CLI manifest with none of the bundle's commands: the example prints a problem per command line it finds.
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ commands: {} }))
  const script = join(import.meta.dirname, '..', `readme-example-${process.pid}.tmp.ts`)
  writeFileSync(script, example.replace("'dist/dstack'", JSON.stringify(join(dir, 'out'))))
  try {
    const { stdout, stderr } = await run(process.execPath, [script, join(dir, 'manifest.json')])
    expect(stderr).toMatch(/ship\/SKILL\.md:\d+: no command "dstack gate/)
    expect(stdout).toMatch(/^\d+ characters in every session's skill listing\n$/)
    expect(existsSync(join(dir, 'out', 'plugin', '.claude-plugin', 'plugin.json'))).toBe(true)
  } finally {
    rmSync(script, { force: true })
  }
})

import { execFile } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { git, tempDir } from '@dstack/git/testing'
import { afterEach, expect, it } from 'vitest'
import { loadDeployFile, resolveService } from '../src/index.ts'
import { type Fleet, makeFleet } from './support/fleet.ts'

const run = promisify(execFile)
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
let fleet: Fleet | undefined

afterEach(async () => {
  await fleet?.stop()
})

it('the README dstack.yaml is valid as written', () => {
  const yaml = /```yaml\n([\s\S]*?)```/.exec(readme)![1]!
  const dir = tempDir('dstack-readme-yaml-')
  mkdirSync(join(dir, 'ares'))
  git(join(dir, 'ares'), 'init', '-q')
  writeFileSync(join(dir, 'dstack.yaml'), yaml)
  const api = resolveService(loadDeployFile(join(dir, 'dstack.yaml')), 'api')
  expect(api).toMatchObject({ repoDir: join(dir, 'ares'), hosts: ['ssh://deploy@vps1.example.com'], keep: 5 })
})

it('the README example runs as written (against the built package), on a local service named api', async () => {
  fleet = await makeFleet()
  // The example deploys `api` from ./dstack.yaml: the same service as the fleet's, under that name.
  writeFileSync(fleet.file, JSON.stringify({ roots: ['.'], deploy: { api: fleet.service } }))
  const example = /```ts\n([\s\S]*?)```/.exec(readme)![1]!
  const script = join(import.meta.dirname, '..', `readme-example-${process.pid}.tmp.ts`)
  writeFileSync(script, example)
  try {
    const { stdout } = await run(process.execPath, [script], { cwd: fleet.dir })
    expect(stdout).toContain('deploy api → local: release ')
    expect(stdout).toContain('api → local: deployed')
    expect(await fleet.get()).toBe('200 ok 1.0.0')
  } finally {
    rmSync(script, { force: true })
    // fleet.stop() reads the pid file of service `svc`; this one ran as `api`.
    const pid = readFileSync(join(fleet.root, '.dstack', 'run', 'api.pid'), 'utf8').split(' ')[0]
    process.kill(Number(pid), 'SIGTERM')
  }
})

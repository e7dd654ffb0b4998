// `dstack browse` and `dstack qa` as a user runs them, with real Chromium against pages served by the test.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Result, runDstack } from './support/cli.ts'

let site: Server
let base: string
let dir: string

beforeAll(async () => {
  site = createServer((req, res) => {
    res.writeHead(req.url === '/broken' ? 500 : 200, { 'content-type': 'text/html' })
    if (req.url === '/buggy') res.end('<title>Buggy</title><script>undefinedFunction()</script><p>oops</p>')
    else
      res.end(
        "<title>Form</title><h1>Sign up</h1><label>Name <input id=\"name\"></label><button onclick=\"document.querySelector('h1').textContent='Thanks ' + document.querySelector('#name').value\">Send</button>",
      )
  })
  await new Promise<void>((done) => site.listen(0, '127.0.0.1', done))
  base = `http://127.0.0.1:${(site.address() as AddressInfo).port}`
  dir = mkdtempSync(join(tmpdir(), 'dstack-browse-cli-'))
})

afterAll(async () => {
  await dstack(['browse', 'stop'])
  site.close()
  rmSync(dir, { recursive: true, force: true })
})

function dstack(args: string[], input?: string): Promise<Result> {
  return runDstack(args, {
    cwd: dir,
    input,
    env: { PATH: process.env.PATH, HOME: dir, DSTACK_HOME: join(dir, '.dstack'), DSTACK_AGENT: 'cli-test' },
  })
}

describe('dstack browse', () => {
  it('navigates, snapshots with refs, acts on a ref, and reads the result', async () => {
    const goto = await dstack(['browse', 'goto', `${base}/form`])
    expect(goto.code).toBe(0)
    expect(goto.stdout).toMatch(/^at .*\/form \(200\)/)
    const snap = await dstack(['browse', 'snapshot', '-i', '--json'])
    expect(snap.code).toBe(0)
    const { data } = JSON.parse(snap.stdout) as {
      data: { refs: Record<string, { role: string; name: string }> }
    }
    const ref = (role: string) => Object.entries(data.refs).find(([, r]) => r.role === role)![0]
    expect((await dstack(['browse', 'fill', `@${ref('textbox')}`, 'Ada'])).code).toBe(0)
    expect((await dstack(['browse', 'click', `@${ref('button')}`])).code).toBe(0)
    const text = await dstack(['browse', 'text'])
    expect(text.stdout).toMatch(/<<<UNTRUSTED PAGE CONTENT nonce=[0-9a-f]+ [\s\S]*Thanks Ada/)
  })

  it('runs a batch from stdin and stops at the first failure with exit 1', async () => {
    const ok = await dstack(['browse', '--batch'], JSON.stringify([['goto', `${base}/form`], ['url']]))
    expect(ok.code).toBe(0)
    expect(ok.stdout).toContain(`${base}/form`)
    const bad = await dstack(['browse', '--batch'], JSON.stringify([['click', '#nope'], ['url']]))
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/error: .*#nope/)
    expect(bad.stdout).not.toContain(`${base}/form`)
  })

  it('reports unknown commands and bad batches clearly', async () => {
    const unknown = await dstack(['browse', 'teleport'])
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toMatch(/unknown command: teleport[\s\S]*hint: commands: goto/)
    const notJson = await dstack(['browse', '--batch'], '{not json')
    expect(notJson.code).toBe(2)
    expect(notJson.stderr).toMatch(/--batch: stdin is not JSON/)
    const wrongShape = await dstack(['browse', '--batch'], '[["goto"], "url"]')
    expect(wrongShape.code).toBe(2)
    expect(wrongShape.stderr).toMatch(/--batch: expected a JSON array of commands/)
  })

  it('status and stop', async () => {
    expect((await dstack(['browse', 'status'])).stdout).toMatch(/running: pid \d+/)
    expect((await dstack(['browse', 'stop'])).stdout).toMatch(/stopped pid \d+/)
    expect((await dstack(['browse', 'status'])).stdout).toMatch(/not running/)
  })
})

describe('dstack qa', () => {
  it('passes a clean page (exit 0) and fails a buggy one (exit 6) with a report', async () => {
    const good = await dstack(['qa', `${base}/form`, '--out', join(dir, 'good')])
    expect(good.code).toBe(0)
    expect(existsSync(join(dir, 'good', 'report.md'))).toBe(true)
    const bad = await dstack(['qa', `${base}/buggy`, '--out', join(dir, 'bad')])
    expect(bad.code).toBe(6)
    expect(readFileSync(join(dir, 'bad', 'report.md'), 'utf8')).toMatch(/undefinedFunction is not defined/)
  })

  it('a bad flow file exits 2 naming the line', async () => {
    const flow = join(dir, 'flow.yaml')
    writeFileSync(flow, 'steps:\n  - clik: "#x"\n')
    const result = await dstack(['qa', `${base}/form`, '--flow', flow])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/flow.yaml: line 2/)
  })
})

// QA flows against a site served by the test, with planted bugs: a console TypeError, a failing request, a broken
// link; and a login flow that passes, with a secret that never reaches the report.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { cleanup, tempDir } from '@dstack/git/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BrowserClient, stopDaemon } from '../src/client.ts'
import { loadFlow, SMOKE_FLOW } from '../src/qa/flow.ts'
import { runQa } from '../src/qa/run.ts'

const PAGES: Record<string, string> = {
  '/good': '<title>Good</title><h1>All fine</h1><a href="/login">Log in</a>',
  '/buggy': `<title>Buggy</title><h1>Shop</h1>
    <a href="/missing">Broken link</a> <a href="/good">Fine link</a>
    <script>fetch('/api/cart').catch(() => {}); window.onload = () => { null.total }</script>`,
  '/login': `<title>Login</title>
    <form onsubmit="event.preventDefault(); location.href = '/welcome?u=' + encodeURIComponent(email.value)">
      <label>Email <input id="email" name="email"></label>
      <label>Password <input id="password" type="password"></label>
      <button type="submit">Sign in</button>
    </form>`,
}

let site: Server
let base: string
const w = { workspace: '', home: '' }

beforeAll(async () => {
  site = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!
    if (path === '/welcome') {
      res.writeHead(200, { 'content-type': 'text/html' })
      res.end('<title>Welcome</title><p>Welcome back</p>')
      return
    }
    const page = PAGES[path]
    res.writeHead(page ? 200 : 404, { 'content-type': 'text/html' })
    res.end(page ?? 'not found')
  })
  await new Promise<void>((done) => site.listen(0, '127.0.0.1', done))
  base = `http://127.0.0.1:${(site.address() as AddressInfo).port}`
  w.workspace = tempDir('dstack-qa-ws-')
  w.home = tempDir('dstack-qa-home-')
})

afterAll(async () => {
  await stopDaemon(w)
  site.close()
  cleanup()
})

describe('dstack qa', () => {
  it('the smoke flow passes on a clean page and writes JSON + Markdown with the screenshot', async () => {
    const client = await BrowserClient.connect({ ...w, agent: 'qa-good' })
    const out = join(tempDir('dstack-qa-out-'), 'report')
    const report = await runQa(client, { url: `${base}/good`, flow: SMOKE_FLOW, outDir: out })
    expect(report.steps.filter((s) => !s.ok)).toEqual([])
    expect(report.ok).toBe(true)
    expect(report.steps.every((s) => s.ok)).toBe(true)
    expect(existsSync(join(out, 'loaded.png'))).toBe(true)
    expect(JSON.parse(readFileSync(report.files.json, 'utf8'))).toMatchObject({ ok: true, flow: 'smoke' })
    expect(readFileSync(report.files.markdown, 'utf8')).toContain('![loaded.png](loaded.png)')
  })

  it('finds the planted bugs: console error, failed request, broken link', async () => {
    const client = await BrowserClient.connect({ ...w, agent: 'qa-buggy' })
    const out = tempDir('dstack-qa-out-')
    const report = await runQa(client, { url: `${base}/buggy`, flow: SMOKE_FLOW, outDir: out })
    expect(report.ok).toBe(false)
    expect(report.consoleErrors.map((e) => e.text).join('\n')).toMatch(/Cannot read properties of null/)
    expect(report.failedRequests.map((e) => e.text).join('\n')).toMatch(/\/api\/cart 404/)
    expect(report.brokenLinks).toEqual([{ href: `${base}/missing`, status: 404 }])
    const failed = report.steps.find((s) => !s.ok)!
    expect(failed.error).toMatch(/console error/)
    expect(failed.screenshot && existsSync(failed.screenshot)).toBe(true)
    expect(readFileSync(report.files.markdown, 'utf8')).toMatch(/## Broken links \(1\)/)
  })

  it('replays a login flow from YAML; the secret is filled but never written to the report', async () => {
    const client = await BrowserClient.connect({ ...w, agent: 'qa-login' })
    const dir = tempDir('dstack-qa-flow-')
    const flowFile = join(dir, 'login.yaml')
    writeFileSync(
      flowFile,
      `name: login
steps:
  - goto: /login
  - fill: { target: '#email', value: ann@example.com }
  - fill: { target: '#password', value: hunter2-secret, secret: true }
  - click: 'button[type=submit]'
  - wait: { url: /welcome }
  - expect: { url: /welcome, text: Welcome back, title: Welcome, no_console_errors: true }
  - expect: { text: Goodbye }
`,
    )
    const report = await runQa(client, {
      url: base,
      flow: loadFlow(flowFile),
      outDir: join(dir, 'out'),
      checkLinks: false,
    })
    expect(report.steps.map((s) => s.ok)).toEqual([true, true, true, true, true, true, false])
    expect(report.steps[6]!.error).toBe('the page does not show "Goodbye"')
    const written = readFileSync(report.files.json, 'utf8') + readFileSync(report.files.markdown, 'utf8')
    expect(written).not.toContain('hunter2-secret')
  })

  it('a bad flow file is refused with its line', () => {
    const file = join(tempDir('dstack-qa-bad-'), 'flow.yaml')
    writeFileSync(file, 'steps:\n  - goto: /a\n  - clik: "#b"\n')
    expect(() => loadFlow(file)).toThrow(/flow.yaml: line 3/)
  })
})

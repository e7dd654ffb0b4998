// The daemon's life, with real Chromium: start on demand, one per workspace, busy is not dead, crash and restart,
// idle shutdown, no orphaned Chromium, the token and loopback guard, agents kept apart.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { cleanup, tempDir } from '@dstack/git/testing'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { BrowserClient, daemonStatus, stopDaemon } from '../src/client.ts'
import { daemonFiles, readDaemonState } from '../src/daemon/files.ts'

let site: Server
let base: string
const workspaces: Array<{ workspace: string; home: string }> = []

beforeAll(async () => {
  site = createServer((req, res) => {
    if (req.url === '/loop') {
      res.writeHead(200, { 'content-type': 'text/html' })
      res.end('<title>Loop</title><p>spinning</p><script>setTimeout(() => { for (;;) {} }, 1500)</script>')
      return
    }
    if (req.url === '/cookie') {
      res.writeHead(200, { 'set-cookie': 'who=first; Path=/', 'content-type': 'text/html' })
      res.end('<title>Cookie</title><p>set</p>')
      return
    }
    res.writeHead(200, { 'content-type': 'text/html' })
    res.end(
      `<title>Page ${req.url}</title><h1>Hello</h1><button onclick="document.title='clicked'">Go</button>`,
    )
  })
  await new Promise<void>((done) => site.listen(0, '127.0.0.1', done))
  base = `http://127.0.0.1:${(site.address() as AddressInfo).port}`
})

afterEach(async () => {
  for (const w of workspaces.splice(0)) await stopDaemon(w).catch(() => {})
})

afterAll(() => {
  site.close()
  cleanup()
})

function place(): { workspace: string; home: string } {
  const w = { workspace: tempDir('dstack-browser-ws-'), home: tempDir('dstack-browser-home-') }
  workspaces.push(w)
  return w
}

/** Chromium processes whose parent is `pid` (Playwright launches the browser as the daemon's child). */
function chromiumChildren(pid: number): number[] {
  const found: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      if (Number(fields[1]) === pid && /chrom/i.test(stat.slice(stat.indexOf('('), stat.lastIndexOf(')'))))
        found.push(Number(entry))
    } catch {
      // gone while we looked
    }
  }
  return found
}

function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}

async function until(check: () => boolean, ms = 10_000): Promise<boolean> {
  const deadline = Date.now() + ms
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
  return check()
}

describe('browser daemon', () => {
  it('starts on demand, publishes a 0600 state file, serves commands, and is reused', async () => {
    const w = place()
    const browser = await BrowserClient.connect(w)
    const state = readDaemonState(daemonFiles(w.workspace, w.home).state)!
    expect(state.pid).toBe(browser.state.pid)
    expect(statSync(daemonFiles(w.workspace, w.home).state).mode & 0o777).toBe(0o600)
    const reply = await browser.run(['goto', `${base}/one`])
    expect(reply).toMatchObject({ ok: true })
    expect(reply.output).toContain(`at ${base}/one (200)`)
    const again = await BrowserClient.connect(w)
    expect(again.state.pid).toBe(browser.state.pid)
    expect((await again.run(['url'])).output).toContain(`${base}/one`)
  })

  it('two clients starting at once get one daemon', async () => {
    const w = place()
    const [a, b, c] = await Promise.all([
      BrowserClient.connect(w),
      BrowserClient.connect(w),
      BrowserClient.connect(w),
    ])
    expect(new Set([a.state.pid, b.state.pid, c.state.pid]).size).toBe(1)
  })

  it('refuses a wrong token, a web page (Origin) and a foreign Host', async () => {
    const w = place()
    const browser = await BrowserClient.connect(w)
    const url = `http://127.0.0.1:${browser.state.port}/command`
    const body = JSON.stringify({ agent: 'x', argv: ['url'], cwd: w.workspace })
    const post = (headers: Record<string, string>) =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body }).then(
        (r) => r.status,
      )
    expect(await post({ authorization: 'Bearer nope' })).toBe(401)
    expect(await post({})).toBe(401)
    expect(
      await post({ authorization: `Bearer ${browser.state.token}`, origin: 'http://evil.example' }),
    ).toBe(403)
    expect(await post({ authorization: `Bearer ${browser.state.token}` })).toBe(200)
    // A DNS-rebinding page reaches 127.0.0.1 under its own name: the Host header gives it away.
    const withHost = (host: string) =>
      new Promise<number>((done, fail) => {
        const req = request(
          { host: '127.0.0.1', port: browser.state.port, path: '/health', headers: { host } },
          (res) => {
            res.resume()
            done(res.statusCode!)
          },
        )
        req.on('error', fail)
        req.end()
      })
    expect(await withHost(`evil.example:${browser.state.port}`)).toBe(403)
    expect(await withHost(`localhost:${browser.state.port}`)).toBe(200)
  })

  it('busy is not dead: a daemon that does not answer is reported busy and left running', async () => {
    const w = place()
    const browser = await BrowserClient.connect(w)
    process.kill(browser.state.pid, 'SIGSTOP')
    try {
      await expect(BrowserClient.connect(w)).rejects.toMatchObject({ code: 'busy' })
      expect(running(browser.state.pid)).toBe(true)
    } finally {
      process.kill(browser.state.pid, 'SIGCONT')
    }
    expect((await browser.run(['url'])).ok).toBe(true)
  }, 30_000)

  it('a killed daemon takes its Chromium with it, and the next command starts a fresh one', async () => {
    const w = place()
    const first = await BrowserClient.connect(w)
    await first.run(['goto', `${base}/x`])
    const chromium = chromiumChildren(first.state.pid)
    expect(chromium.length).toBeGreaterThan(0)
    process.kill(first.state.pid, 'SIGKILL')
    expect(await until(() => chromium.every((pid) => !running(pid)))).toBe(true)
    const second = await BrowserClient.connect(w)
    expect(second.state.pid).not.toBe(first.state.pid)
    expect((await second.run(['goto', `${base}/y`])).ok).toBe(true)
  })

  it('a Chromium crash ends the daemon (state cleared); SIGTERM stops it cleanly', async () => {
    const w = place()
    const first = await BrowserClient.connect(w)
    await first.run(['goto', `${base}/crash`])
    for (const pid of chromiumChildren(first.state.pid)) process.kill(pid, 'SIGKILL')
    expect(await until(() => !running(first.state.pid))).toBe(true)
    expect(readDaemonState(daemonFiles(w.workspace, w.home).state)).toBeNull()
    const second = await BrowserClient.connect(w)
    expect((await second.run(['goto', `${base}/after`])).ok).toBe(true)
    const chromium = chromiumChildren(second.state.pid)
    process.kill(second.state.pid, 'SIGTERM')
    expect(await until(() => !running(second.state.pid))).toBe(true)
    expect(chromium.every((pid) => !running(pid))).toBe(true)
    expect(readDaemonState(daemonFiles(w.workspace, w.home).state)).toBeNull()
  })

  it('a page stuck in a script loop costs one command, not the agent: its tab is closed at the time limit', async () => {
    const w = place()
    process.env.DSTACK_BROWSER_COMMAND_TIMEOUT_MS = '5000' // read by the daemon this starts
    let browser: BrowserClient
    try {
      browser = await BrowserClient.connect(w)
    } finally {
      delete process.env.DSTACK_BROWSER_COMMAND_TIMEOUT_MS
    }
    // The loop starts 1.5 s after load, so `goto` itself finishes even on a loaded machine.
    expect((await browser.run(['goto', `${base}/loop`])).ok).toBe(true)
    await browser.run(['wait', '--ms', '2000'])
    const stuck = await browser.run(['snapshot'])
    expect(stuck).toMatchObject({ ok: false, error: { code: 'timeout' } })
    expect((await browser.run(['tab', 'new', `${base}/after-loop`])).ok).toBe(true)
    expect((await browser.run(['url'])).output).toContain('/after-loop')
  })

  it('stops itself when idle: state file gone, no Chromium left', async () => {
    const w = place()
    const browser = await BrowserClient.connect({ ...w, settings: { idleMinutes: 0.03 } })
    await browser.run(['goto', `${base}/idle`])
    const chromium = chromiumChildren(browser.state.pid)
    expect(await until(() => !running(browser.state.pid), 15_000)).toBe(true)
    expect(chromium.every((pid) => !running(pid))).toBe(true)
    expect((await daemonStatus(w)).running).toBe(false)
  }, 30_000)

  it('stop ends it; stopping again is not an error; other settings than the running ones are refused', async () => {
    const w = place()
    const browser = await BrowserClient.connect(w)
    await expect(BrowserClient.connect({ ...w, settings: { allowEval: true } })).rejects.toMatchObject({
      code: 'settings-mismatch',
    })
    expect(await stopDaemon(w)).toEqual({ stopped: true, pid: browser.state.pid })
    expect(running(browser.state.pid)).toBe(false)
    expect(await stopDaemon(w)).toEqual({ stopped: false, pid: null })
  })

  it('gives each agent its own context: cookies and tabs are not shared', async () => {
    const w = place()
    const alice = await BrowserClient.connect({ ...w, agent: 'alice' })
    const bob = await BrowserClient.connect({ ...w, agent: 'bob' })
    await alice.run(['goto', `${base}/cookie`])
    await bob.run(['goto', `${base}/other`])
    const aliceCookies = await alice.run(['cookies'])
    const bobCookies = await bob.run(['cookies'])
    expect(aliceCookies.output).toMatch(/1 cookie/)
    expect(bobCookies.output).toMatch(/0 cookie/)
    expect((await alice.run(['url'])).output).toContain('/cookie')
    expect((await bob.run(['url'])).output).toContain('/other')
  })

  it('the allow-list holds for redirects, subresources and WebSockets, and refuses a malformed entry', async () => {
    // A second server plays the attacker: it must never be reached.
    let evilHits = 0
    const evil = createServer((_req, res) => {
      evilHits++
      res.end('EVIL')
    })
    evil.on('upgrade', (_req, socket) => {
      evilHits++
      socket.destroy()
    })
    await new Promise<void>((done) => evil.listen(0, '127.0.0.1', done))
    const evilBase = `http://127.0.0.1:${(evil.address() as AddressInfo).port}`
    const good = createServer((req, res) => {
      if (req.url === '/go-away' || req.url === '/img') {
        res.writeHead(302, { location: `${evilBase}/landed` })
        return res.end()
      }
      res.writeHead(200, { 'content-type': 'text/html' })
      res.end(
        `<title>Good</title><img src="/img"><script>try { new WebSocket('${evilBase.replace('http', 'ws')}/ws') } catch {}</script>`,
      )
    })
    await new Promise<void>((done) => good.listen(0, '127.0.0.1', done))
    const goodHost = `127.0.0.1:${(good.address() as AddressInfo).port}`
    try {
      const w = place()
      await expect(
        BrowserClient.connect({ ...w, settings: { allowDomains: ['http://x/path'] } }),
      ).rejects.toThrow(/x\/path/)
      const browser = await BrowserClient.connect({ ...w, settings: { allowDomains: [goodHost] } })
      expect((await browser.run(['goto', `http://${goodHost}/`])).ok).toBe(true)
      await browser.run(['wait', '--ms', '500'])
      const redirected = await browser.run(['goto', `http://${goodHost}/go-away`])
      expect(redirected.ok).toBe(false)
      expect(evilHits).toBe(0)
    } finally {
      good.close()
      evil.close()
    }
  })

  it('refuses eval unless started with it, and navigation off the allow-list', async () => {
    const w = place()
    const browser = await BrowserClient.connect({ ...w, settings: { allowDomains: ['127.0.0.1'] } })
    expect(await browser.run(['eval', '1+1'])).toMatchObject({ ok: false, error: { code: 'eval-disabled' } })
    expect(await browser.run(['goto', 'http://example.com/'])).toMatchObject({
      ok: false,
      error: { code: 'domain-blocked' },
    })
    expect((await browser.run(['goto', `${base}/ok`])).ok).toBe(true)
    expect(await browser.run(['nonsense'])).toMatchObject({ ok: false, error: { code: 'unknown-command' } })
    expect(await browser.run(['click'])).toMatchObject({ ok: false, error: { code: 'usage' } })
  })
})

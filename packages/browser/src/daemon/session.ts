// One agent's part of the browser: its own context (cookies, storage), tabs, refs, logs and secrets. Agents never
// see each other's pages.
import type { Browser, BrowserContext, Frame, Page } from 'playwright-core'
import { isAllowedUrl, newNonce } from '../page/defences.ts'
import { TabRefs } from '../page/snapshot.ts'

export interface LogEntry {
  at: string
  tab: number
  kind: string
  text: string
}

/** A bounded log: old entries fall off, so a chatty page cannot grow the daemon without limit. */
export class LogRing {
  readonly #entries: LogEntry[] = []
  readonly #max: number

  constructor(max = 2000) {
    this.#max = max
  }

  push(entry: LogEntry): void {
    this.#entries.push(entry)
    if (this.#entries.length > this.#max) this.#entries.splice(0, this.#entries.length - this.#max)
  }

  list(filter?: (e: LogEntry) => boolean): LogEntry[] {
    return filter ? this.#entries.filter(filter) : [...this.#entries]
  }

  clear(): void {
    this.#entries.length = 0
  }
}

/** Requests the browser makes on its own (the favicon): not the page's, so not the page's errors. */
function browserOwn(url: string): boolean {
  try {
    return new URL(url).pathname === '/favicon.ico'
  } catch {
    return false
  }
}

export class AgentSession {
  readonly agent: string
  readonly context: BrowserContext
  /** Marks this session's untrusted-content envelopes; a page cannot guess it. */
  readonly nonce = newNonce()
  readonly tabs: Page[] = []
  readonly refs = new WeakMap<Page, TabRefs>()
  /** One id counter for all tabs: a ref names one node in one tab, never a node of another tab. */
  readonly #ids = { next: 1 }
  readonly console = new LogRing()
  readonly network = new LogRing()
  /** Values filled with --secret: redacted from everything this session prints. */
  readonly secrets: string[] = []
  active = 0
  /** The frame `text`, `html` and `eval` read from; null = the tab's main frame. */
  frame: Frame | null = null

  private constructor(agent: string, context: BrowserContext) {
    this.agent = agent
    this.context = context
  }

  /** A new context for `agent`, with the domain allow-list enforced on every request when one is set. */
  static async open(browser: Browser, agent: string, allowDomains: string[] | null): Promise<AgentSession> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 720 } })
    const session = new AgentSession(agent, context)
    if (allowDomains) {
      // Chromium follows redirects without asking the route again, so every request is fetched here hop by hop:
      // a chain that touches a host off the list is refused whole, and the browser gets the last response (when the
      // allow-list is on, the page's URL is the first of a redirect chain).
      await context.route('**/*', async (route) => {
        let url = route.request().url()
        if (!isAllowedUrl(url, allowDomains)) return route.abort('blockedbyclient')
        if (!/^https?:/.test(url)) return route.continue()
        try {
          for (let hop = 0; hop < 10; hop++) {
            const response = await route.fetch({ url, maxRedirects: 0 })
            const location = response.headers().location
            if (response.status() < 300 || response.status() >= 400 || !location)
              return await route.fulfill({ response })
            url = new URL(location, url).toString()
            if (!isAllowedUrl(url, allowDomains)) return await route.abort('blockedbyclient')
          }
          await route.abort('failed')
        } catch {
          await route.abort('failed').catch(() => {})
        }
      })
      await context.routeWebSocket(
        () => true,
        (ws) =>
          isAllowedUrl(ws.url(), allowDomains)
            ? ws.connectToServer()
            : ws.close({ code: 1008, reason: 'blocked by the allow-list' }),
      )
    }
    context.on('page', (page) => session.adopt(page))
    return session
  }

  /** Tracks a page: its logs, its refs, and its place in the tab list (popups become tabs too). */
  adopt(page: Page): void {
    if (this.tabs.includes(page)) return
    this.tabs.push(page)
    this.refs.set(page, new TabRefs(this.#ids))
    const tab = () => this.tabs.indexOf(page)
    const now = () => new Date().toISOString()
    page.on('console', (m) => {
      if (!browserOwn(m.location().url))
        this.console.push({ at: now(), tab: tab(), kind: m.type(), text: m.text() })
    })
    page.on('pageerror', (e) =>
      this.console.push({ at: now(), tab: tab(), kind: 'pageerror', text: e.message }),
    )
    page.on('requestfailed', (r) => {
      if (browserOwn(r.url())) return
      this.network.push({
        at: now(),
        tab: tab(),
        kind: 'failed',
        text: `${r.method()} ${r.url()} ${r.failure()?.errorText ?? ''}`.trim(),
      })
    })
    page.on('response', (r) => {
      if (browserOwn(r.url())) return
      this.network.push({
        at: now(),
        tab: tab(),
        kind: r.status() >= 400 ? 'error' : 'ok',
        text: `${r.request().method()} ${r.url()} ${r.status()}`,
      })
    })
    page.on('close', () => this.drop(page))
  }

  /** Takes a tab out of the list at once (a closing tab must not take the next command, even before it is gone). */
  drop(page: Page): void {
    const i = this.tabs.indexOf(page)
    if (i >= 0) this.tabs.splice(i, 1)
    if (this.active >= this.tabs.length) this.active = Math.max(0, this.tabs.length - 1)
  }

  /** The active tab, opened on first use. */
  async page(): Promise<Page> {
    if (this.tabs.length === 0) this.adopt(await this.context.newPage())
    return this.tabs[this.active]!
  }

  refsOf(page: Page): TabRefs {
    let refs = this.refs.get(page)
    if (!refs) {
      refs = new TabRefs(this.#ids)
      this.refs.set(page, refs)
    }
    return refs
  }

  async close(): Promise<void> {
    await this.context.close().catch(() => {})
  }
}

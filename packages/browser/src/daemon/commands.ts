// Every command the daemon understands: its usage, its flags, and what it does to the agent's session. The CLI and
// batch/chain forms send argv here unchanged, so this file is the single source of truth for the command set.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { type ParseArgsConfig, parseArgs } from 'node:util'
import type { Page } from 'playwright-core'
import { z } from 'zod'
import { CommandError } from '../errors.ts'
import { FLAG, isAllowedUrl, isInjectionLike, safeDecode } from '../page/defences.ts'
import { extractText, resolveTarget, takeSnapshot } from '../page/snapshot.ts'
import type { AgentSession } from './session.ts'

/** What a command returns: a line for people, page-derived text (wrapped as untrusted by the server), data for --json. */
export interface CommandOutput {
  text: string
  page?: string
  data?: unknown
}

export interface CommandContext {
  session: AgentSession
  settings: { allowEval: boolean; allowDomains: string[] | null }
  artifacts: string
  /** The client's directory, for relative paths. */
  cwd: string
}

interface Parsed {
  positionals: string[]
  values: Record<string, string | boolean | string[] | undefined>
}

/** Longest a command may run (`wait` adds its own timeout); a page stuck in a loop gets its tab closed. */
const COMMAND_LIMIT_MS = Number(process.env.DSTACK_BROWSER_COMMAND_TIMEOUT_MS) || 45_000

/**
 * Runs `work`, but never longer than the command's limit: past it, the active tab is closed (which also stops a page
 * stuck in a script loop, and rejects what was waiting on it) so the agent's later commands are not stuck behind it.
 */
async function withTimeLimit<T>(
  session: AgentSession,
  name: string,
  limit: number,
  work: () => Promise<T>,
): Promise<T> {
  const timeout = new CommandError(
    'timeout',
    `${name} did not finish within ${Math.round(limit / 1000)} s; its tab was closed to stop the page`,
    'open the page again with `goto` (in a new tab: `tab new <url>`)',
  )
  let fired = false
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      fired = true
      const stuck = session.tabs[session.active]
      if (stuck) {
        session.drop(stuck)
        void stuck.close({ runBeforeUnload: false }).catch(() => {})
      }
      reject(timeout)
    }, limit)
  })
  try {
    return await Promise.race([work(), expired])
  } catch (error) {
    // Closing the tab makes the command fail its own way (target closed): the time limit is the real reason.
    throw fired ? timeout : error
  } finally {
    clearTimeout(timer)
  }
}

interface Command {
  usage: string
  summary: string
  /** Flags, as node:util parseArgs takes them. */
  options?: ParseArgsConfig['options']
  /** Positional arguments: at least `min`, at most `max`. */
  min?: number
  max?: number
  run: (ctx: CommandContext, args: Parsed) => Promise<CommandOutput>
  /** Time this command may take beyond the common limit (a `wait` with its own --timeout). */
  extraMs?: (args: Parsed) => number
}

const ACTION_TIMEOUT_MS = 5000
const NAVIGATION_TIMEOUT_MS = 30_000

async function title(page: Page): Promise<string> {
  return page.title().catch(() => '')
}

function checkUrl(ctx: CommandContext, url: string): string {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new CommandError(
      'bad-url',
      `not a URL: ${url}`,
      'give an absolute URL, e.g. http://127.0.0.1:3000/',
    )
  }
  if (!['http:', 'https:', 'about:', 'data:', 'file:'].includes(parsed.protocol))
    throw new CommandError('bad-url', `${parsed.protocol} URLs are not allowed`)
  if (ctx.settings.allowDomains && !isAllowedUrl(url, ctx.settings.allowDomains))
    throw new CommandError(
      'domain-blocked',
      `${parsed.host} is not on the allow-list (${ctx.settings.allowDomains.join(', ')})`,
      'start the daemon with --allow-domain for it, or stay on the allowed sites',
    )
  return parsed.toString()
}

async function navigated(page: Page, verb: string): Promise<CommandOutput> {
  const name = await title(page)
  const url = page.url()
  // A page can write its own URL (history.replaceState): one that reads like instructions goes in the envelope.
  // URL words are joined by - _ / + and such: read them as spaces.
  const suspicious = isInjectionLike(safeDecode(url).replace(/[-_/+.=&?#]+/g, ' '))
  const shown = suspicious ? '(URL flagged as injection-like: see below)' : url
  const inside = [suspicious ? `url: ${url} ${FLAG}` : '', name ? `title: ${name}` : '']
    .filter(Boolean)
    .join('\n')
  return { text: `${verb} ${shown}`.trim(), page: inside || undefined, data: { url, title: name } }
}

/** The active tab and the one element `target` (a ref or a CSS selector) names in it. */
async function elementFor(ctx: CommandContext, target: string) {
  const page = await ctx.session.page()
  return { page, element: await resolveTarget(page, ctx.session.refsOf(page), target) }
}

/** Runs an element action with a short timeout and says which element when it fails. */
async function act<T>(what: string, target: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action()
  } catch (error) {
    if (error instanceof CommandError) throw error
    const message = (error as Error).message.split('\n')[0]!
    throw new CommandError(
      'action-failed',
      `${what} ${target} failed: ${message}`,
      /intercepts pointer events/.test((error as Error).message)
        ? 'another element covers it (a dialog or banner?): snapshot, deal with that first'
        : 'snapshot again and check the element is visible and enabled',
    )
  }
}

/** back, forward, reload: move the active tab, then say where it is. */
function historyStep(usage: string, summary: string, move: (page: Page) => Promise<unknown>): Command {
  return {
    usage,
    summary,
    max: 0,
    async run(ctx) {
      const page = await ctx.session.page()
      await move(page)
      return navigated(page, 'at')
    },
  }
}

export const COMMANDS: Record<string, Command> = {
  goto: {
    usage: 'goto <url> [--wait load|domcontentloaded|networkidle]',
    summary: 'open a URL in the active tab',
    options: { wait: { type: 'string' } },
    min: 1,
    max: 1,
    async run(ctx, { positionals, values }) {
      const url = checkUrl(ctx, positionals[0]!)
      const waitUntil = z
        .enum(['load', 'domcontentloaded', 'networkidle'])
        .parse(values.wait ?? 'domcontentloaded')
      const page = await ctx.session.page()
      ctx.session.frame = null
      const response = await page.goto(url, { waitUntil, timeout: NAVIGATION_TIMEOUT_MS })
      const out = await navigated(page, 'at')
      return { ...out, text: `${out.text}${response ? ` (${response.status()})` : ''}` }
    },
  },
  back: historyStep('back', 'go back in history', (page) => page.goBack({ timeout: NAVIGATION_TIMEOUT_MS })),
  forward: historyStep('forward', 'go forward in history', (page) =>
    page.goForward({ timeout: NAVIGATION_TIMEOUT_MS }),
  ),
  reload: historyStep('reload', 'reload the active tab', (page) =>
    page.reload({ timeout: NAVIGATION_TIMEOUT_MS }),
  ),
  url: {
    usage: 'url',
    summary: "the active tab's URL and title",
    max: 0,
    async run(ctx) {
      return navigated(await ctx.session.page(), '')
    },
  },
  snapshot: {
    usage: 'snapshot [--interactive] [--diff] [--selector css] [--budget tokens]',
    summary:
      'the page as an accessibility outline with @refs (interactive-only, a diff since the last one, a token budget)',
    options: {
      interactive: { type: 'boolean', short: 'i' },
      diff: { type: 'boolean', short: 'D' },
      selector: { type: 'string', short: 's' },
      budget: { type: 'string' },
    },
    max: 0,
    async run(ctx, { values }) {
      const page = await ctx.session.page()
      const budget =
        values.budget === undefined ? undefined : z.coerce.number().int().min(100).parse(values.budget)
      const snap = await takeSnapshot(page, ctx.session.refsOf(page), {
        interactive: values.interactive === true,
        diff: values.diff === true,
        selector: values.selector as string | undefined,
        maxTokens: budget,
      })
      return {
        text: `snapshot ${snap.generation} of ${page.url()}: ${snap.stats.lines} lines, ~${snap.stats.estTokens} tokens${snap.stats.hidden ? `, ${snap.stats.hidden} hidden elements left out` : ''}${snap.stats.flagged ? `, ${snap.stats.flagged} injection-like texts flagged` : ''}`,
        page: snap.text,
        data: { generation: snap.generation, refs: snap.refs, stats: snap.stats },
      }
    },
  },
  click: {
    usage: 'click <@ref|css>',
    summary: 'click an element',
    options: { double: { type: 'boolean' } },
    min: 1,
    max: 1,
    async run(ctx, { positionals, values }) {
      const target = positionals[0]!
      const { page, element } = await elementFor(ctx, target)
      const before = page.url()
      await act('click', target, () =>
        values.double
          ? element.dblclick({ timeout: ACTION_TIMEOUT_MS })
          : element.click({ timeout: ACTION_TIMEOUT_MS }),
      )
      await page.waitForLoadState('domcontentloaded', { timeout: NAVIGATION_TIMEOUT_MS }).catch(() => {})
      return {
        text: page.url() === before ? `clicked ${target}` : `clicked ${target} → now at ${page.url()}`,
      }
    },
  },
  fill: {
    usage: 'fill <@ref|css> <value> [--secret]',
    summary: 'type a value into a field (--secret: never echoed, redacted from all output)',
    options: { secret: { type: 'boolean' } },
    min: 2,
    max: 2,
    async run(ctx, { positionals, values }) {
      const [target, value] = positionals as [string, string]
      if (values.secret) {
        if (value.length < 4)
          throw new CommandError(
            'usage',
            'a --secret value needs at least 4 characters',
            'shorter values cannot be told apart from page text to redact them',
          )
        ctx.session.secrets.push(value)
      }
      const { element } = await elementFor(ctx, target)
      await act('fill', target, () => element.fill(value, { timeout: ACTION_TIMEOUT_MS }))
      return { text: `filled ${target}${values.secret ? ' (secret)' : ` (${value.length} characters)`}` }
    },
  },
  select: {
    usage: 'select <@ref|css> <value|label>...',
    summary: 'choose options in a <select>',
    min: 2,
    async run(ctx, { positionals }) {
      const [target, ...choices] = positionals as [string, ...string[]]
      const { element } = await elementFor(ctx, target)
      const chosen = await act('select', target, async () => {
        try {
          return await element.selectOption(choices, { timeout: ACTION_TIMEOUT_MS })
        } catch {
          return await element.selectOption(
            choices.map((label) => ({ label })),
            { timeout: ACTION_TIMEOUT_MS },
          )
        }
      })
      return { text: `selected ${chosen.join(', ')} in ${target}`, data: { selected: chosen } }
    },
  },
  press: {
    usage: 'press <key> [@ref|css]',
    summary: 'press a key (Enter, Tab, Control+a…), on an element or the focused one',
    min: 1,
    max: 2,
    async run(ctx, { positionals }) {
      const page = await ctx.session.page()
      const [key, target] = positionals as [string, string | undefined]
      if (target) {
        const element = await resolveTarget(page, ctx.session.refsOf(page), target)
        await act('press', target, () => element.press(key, { timeout: ACTION_TIMEOUT_MS }))
      } else await page.keyboard.press(key)
      return { text: `pressed ${key}${target ? ` on ${target}` : ''}` }
    },
  },
  hover: {
    usage: 'hover <@ref|css>',
    summary: 'move the mouse over an element',
    min: 1,
    max: 1,
    async run(ctx, { positionals }) {
      const { element } = await elementFor(ctx, positionals[0]!)
      await act('hover', positionals[0]!, () => element.hover({ timeout: ACTION_TIMEOUT_MS }))
      return { text: `hovering ${positionals[0]}` }
    },
  },
  scroll: {
    usage: 'scroll [@ref|css] [--by pixels]',
    summary: 'scroll an element into view, or the page by some pixels (default: one screen)',
    options: { by: { type: 'string' } },
    max: 1,
    async run(ctx, { positionals, values }) {
      const page = await ctx.session.page()
      if (positionals[0]) {
        const element = await resolveTarget(page, ctx.session.refsOf(page), positionals[0])
        await act('scroll to', positionals[0], () =>
          element.scrollIntoViewIfNeeded({ timeout: ACTION_TIMEOUT_MS }),
        )
        return { text: `scrolled ${positionals[0]} into view` }
      }
      const by = values.by === undefined ? 700 : z.coerce.number().int().parse(values.by)
      await page.mouse.wheel(0, by)
      return { text: `scrolled by ${by}px` }
    },
  },
  wait: {
    usage: 'wait [<@ref|css>] [--text t] [--url part] [--ms n] [--load] [--timeout ms]',
    summary: 'wait for an element, some text, a URL, the load event, or a time',
    options: {
      text: { type: 'string' },
      url: { type: 'string' },
      ms: { type: 'string' },
      load: { type: 'boolean' },
      timeout: { type: 'string' },
    },
    max: 1,
    extraMs: ({ values }) => Number(values.timeout) || 0,
    async run(ctx, { positionals, values }) {
      const page = await ctx.session.page()
      const timeout =
        values.timeout === undefined
          ? 15_000
          : z.coerce.number().int().min(1).max(120_000).parse(values.timeout)
      if (values.ms !== undefined) {
        const ms = z.coerce.number().int().min(0).max(120_000).parse(values.ms)
        await page.waitForTimeout(ms)
        return { text: `waited ${ms} ms` }
      }
      const fail = (what: string) => (error: Error) => {
        throw new CommandError(
          'timeout',
          `${what} did not happen within ${timeout} ms: ${error.message.split('\n')[0]}`,
        )
      }
      if (values.text !== undefined) {
        const text = values.text as string
        await page
          .getByText(text)
          .first()
          .waitFor({ timeout })
          .catch(fail(`text "${text}"`))
        return { text: `"${text}" is on the page` }
      }
      if (values.url !== undefined) {
        const part = values.url as string
        await page
          .waitForURL((u) => u.toString().includes(part), { timeout })
          .catch(fail(`URL containing ${part}`))
        return { text: `at ${page.url()}` }
      }
      if (values.load) {
        await page.waitForLoadState('load', { timeout }).catch(fail('load'))
        return { text: 'loaded' }
      }
      const target = positionals[0]
      if (!target) throw new CommandError('usage', 'wait needs a target, --text, --url, --ms or --load')
      if (target.startsWith('@')) {
        const element = await resolveTarget(page, ctx.session.refsOf(page), target)
        await element.waitForElementState('visible', { timeout }).catch(fail(`${target} visible`))
      } else
        await page
          .locator(target)
          .first()
          .waitFor({ timeout })
          .catch(fail(`${target} visible`))
      return { text: `${target} is visible` }
    },
  },
  text: {
    usage: 'text [@ref|css]',
    summary: 'the visible text of the page or an element (hidden text left out, injection-like text flagged)',
    max: 1,
    async run(ctx, { positionals }) {
      const page = await ctx.session.page()
      const text = await extractText(page, ctx.session.refsOf(page), positionals[0], ctx.session.frame)
      return { text: `text of ${positionals[0] ?? page.url()}`, page: text, data: { text } }
    },
  },
  html: {
    usage: 'html [@ref|css]',
    summary: "an element's (or the page's) HTML",
    max: 1,
    async run(ctx, { positionals }) {
      const page = await ctx.session.page()
      const html = positionals[0]
        ? await (await resolveTarget(page, ctx.session.refsOf(page), positionals[0])).evaluate(
            (e) => e.outerHTML,
          )
        : await (ctx.session.frame ?? page.mainFrame()).content()
      const max = 200_000
      return {
        text: `html of ${positionals[0] ?? page.url()} (${html.length} characters${html.length > max ? `, first ${max} shown` : ''})`,
        page: html.slice(0, max),
      }
    },
  },
  attrs: {
    usage: 'attrs <@ref|css>',
    summary: "an element's attributes",
    min: 1,
    max: 1,
    async run(ctx, { positionals }) {
      const { element } = await elementFor(ctx, positionals[0]!)
      const attrs = await element.evaluate((e) =>
        Object.fromEntries([...e.attributes].map((a) => [a.name, a.value])),
      )
      return { text: `attributes of ${positionals[0]}`, page: JSON.stringify(attrs, null, 2), data: attrs }
    },
  },
  screenshot: {
    usage: 'screenshot [@ref|css] [--full] [--path file.png]',
    summary: 'a PNG of the viewport, the whole page (--full) or one element',
    options: { full: { type: 'boolean' }, path: { type: 'string' } },
    max: 1,
    async run(ctx, { positionals, values }) {
      const page = await ctx.session.page()
      const path = resolve(
        ctx.cwd,
        (values.path as string | undefined) ?? join(ctx.artifacts, `screenshot-${Date.now()}.png`),
      )
      mkdirSync(dirname(path), { recursive: true })
      if (positionals[0]) {
        const element = await resolveTarget(page, ctx.session.refsOf(page), positionals[0])
        await act('screenshot', positionals[0], () =>
          element.screenshot({ path, timeout: ACTION_TIMEOUT_MS }),
        )
      } else await page.screenshot({ path, fullPage: values.full === true })
      return { text: `saved ${path}`, data: { path } }
    },
  },
  links: {
    usage: 'links',
    summary: 'the links of the page (text and absolute href)',
    max: 0,
    async run(ctx) {
      const page = await ctx.session.page()
      // A string, not a function: this package compiles without the DOM's types.
      const links = (await (ctx.session.frame ?? page.mainFrame()).evaluate(
        "[...document.querySelectorAll('a[href]')].map((a) => ({ text: (a.textContent || '').trim().slice(0, 200), href: a.href }))",
      )) as Array<{ text: string; href: string }>
      return {
        text: `${links.length} link(s)`,
        page: links.map((l) => `${l.text} → ${l.href}`).join('\n'),
        data: links,
      }
    },
  },
  console: {
    usage: 'console [--errors] [--clear]',
    summary: "the session's console messages and page errors",
    options: { errors: { type: 'boolean' }, clear: { type: 'boolean' } },
    max: 0,
    async run(ctx, { values }) {
      const entries = ctx.session.console.list(
        (e) => !values.errors || e.kind === 'error' || e.kind === 'pageerror',
      )
      if (values.clear) ctx.session.console.clear()
      return {
        text: `${entries.length} console message(s)`,
        page: entries.map((e) => `[tab ${e.tab}] ${e.kind}: ${e.text}`).join('\n'),
        data: entries,
      }
    },
  },
  network: {
    usage: 'network [--failed] [--clear]',
    summary: 'requests the session made (--failed: 4xx/5xx and network failures)',
    options: { failed: { type: 'boolean' }, clear: { type: 'boolean' } },
    max: 0,
    async run(ctx, { values }) {
      const entries = ctx.session.network.list((e) => !values.failed || e.kind !== 'ok')
      if (values.clear) ctx.session.network.clear()
      return {
        text: `${entries.length} request(s)`,
        page: entries.map((e) => `[tab ${e.tab}] ${e.kind}: ${e.text}`).join('\n'),
        data: entries,
      }
    },
  },
  tabs: {
    usage: 'tabs',
    summary: "this agent's tabs",
    max: 0,
    async run(ctx) {
      await ctx.session.page()
      const tabs = await Promise.all(
        ctx.session.tabs.map(async (p, i) => ({
          index: i,
          url: p.url(),
          title: await title(p),
          active: i === ctx.session.active,
        })),
      )
      return {
        text: `${tabs.length} tab(s)`,
        page: tabs.map((t) => `${t.active ? '*' : ' '} ${t.index} ${t.url} ${t.title}`).join('\n'),
        data: tabs,
      }
    },
  },
  tab: {
    usage: 'tab new [url] | tab <index> | tab close [index]',
    summary: 'open, switch to or close a tab',
    min: 1,
    max: 2,
    async run(ctx, { positionals }) {
      const [what, arg] = positionals as [string, string | undefined]
      const s = ctx.session
      if (what === 'new') {
        const page = await s.context.newPage()
        s.adopt(page)
        s.active = s.tabs.indexOf(page)
        s.frame = null
        if (arg)
          await page.goto(checkUrl(ctx, arg), {
            waitUntil: 'domcontentloaded',
            timeout: NAVIGATION_TIMEOUT_MS,
          })
        return { text: `tab ${s.active} opened${arg ? ` at ${page.url()}` : ''}` }
      }
      if (what === 'close') {
        const index = arg === undefined ? s.active : z.coerce.number().int().min(0).parse(arg)
        const page = s.tabs[index]
        if (!page) throw new CommandError('no-tab', `there is no tab ${index}`, 'see `tabs`')
        await page.close()
        return { text: `tab ${index} closed; ${s.tabs.length} left` }
      }
      const index = z.coerce.number().int().min(0).safeParse(what)
      if (!index.success || !s.tabs[index.data])
        throw new CommandError('no-tab', `there is no tab ${what}`, 'see `tabs`')
      s.active = index.data
      s.frame = null
      await s.tabs[index.data]!.bringToFront()
      return { text: `tab ${index.data} is active: ${s.tabs[index.data]!.url()}` }
    },
  },
  frames: {
    usage: 'frames',
    summary: "the active tab's frames",
    max: 0,
    async run(ctx) {
      const page = await ctx.session.page()
      const frames = page.frames().map((f, i) => ({
        index: i,
        name: f.name(),
        url: f.url(),
        current: f === (ctx.session.frame ?? page.mainFrame()),
      }))
      return {
        text: `${frames.length} frame(s)`,
        page: frames.map((f) => `${f.current ? '*' : ' '} ${f.index} ${f.name || '-'} ${f.url}`).join('\n'),
        data: frames,
      }
    },
  },
  frame: {
    usage: 'frame <index|name|main>',
    summary: 'read text/html/eval from a frame (refs work in every frame regardless)',
    min: 1,
    max: 1,
    async run(ctx, { positionals }) {
      const page = await ctx.session.page()
      const which = positionals[0]!
      if (which === 'main') {
        ctx.session.frame = null
        return { text: 'main frame' }
      }
      const frames = page.frames()
      const frame = /^\d+$/.test(which) ? frames[Number(which)] : frames.find((f) => f.name() === which)
      if (!frame) throw new CommandError('no-frame', `there is no frame ${which}`, 'see `frames`')
      ctx.session.frame = frame === page.mainFrame() ? null : frame
      return { text: `frame ${which}: ${frame.url()}` }
    },
  },
  cookies: {
    usage: 'cookies [--import file.json] [--export file.json]',
    summary: "list this agent's cookies (values hidden), import them from a file, or export them (0600)",
    options: { import: { type: 'string' }, export: { type: 'string' } },
    max: 0,
    async run(ctx, { values }) {
      const context = ctx.session.context
      if (values.import) {
        const cookies = cookieFileSchema.parse(
          JSON.parse(readFileSync(resolve(ctx.cwd, values.import as string), 'utf8')),
        )
        const list = Array.isArray(cookies) ? cookies : cookies.cookies
        await context.addCookies(list)
        return { text: `imported ${list.length} cookie(s) from ${values.import}` }
      }
      const cookies = await context.cookies()
      if (values.export) {
        const path = resolve(ctx.cwd, values.export as string)
        mkdirSync(dirname(path), { recursive: true })
        writeFileSync(path, `${JSON.stringify({ cookies }, null, 2)}\n`, { mode: 0o600 })
        return { text: `exported ${cookies.length} cookie(s) to ${path} (mode 0600)` }
      }
      const shown = cookies.map(({ value: _value, ...rest }) => rest)
      return {
        text: `${cookies.length} cookie(s) (values not shown)`,
        page: shown
          .map(
            (c) =>
              `${c.domain}${c.path} ${c.name}${c.httpOnly ? ' httpOnly' : ''}${c.secure ? ' secure' : ''}`,
          )
          .join('\n'),
        data: shown,
      }
    },
  },
  eval: {
    usage: 'eval <javascript>',
    summary: 'run JavaScript in the page (only when the daemon was started with --allow-eval)',
    min: 1,
    max: 1,
    async run(ctx, { positionals }) {
      if (!ctx.settings.allowEval)
        throw new CommandError(
          'eval-disabled',
          'eval is off',
          'restart the daemon with `dstack browse stop` then `--allow-eval`',
        )
      const page = await ctx.session.page()
      const frame = ctx.session.frame ?? page.mainFrame()
      const result = await frame.evaluate(positionals[0]!)
      return {
        text: 'evaluated',
        page: typeof result === 'string' ? result : JSON.stringify(result, null, 2),
        data: result,
      }
    },
  },
}

/** Playwright's cookie shape, as a list or as `{ cookies: [...] }` (what `cookies --export` writes). */
const cookieSchema = z.object({
  name: z.string(),
  value: z.string(),
  domain: z.string().optional(),
  path: z.string().optional(),
  url: z.string().optional(),
  expires: z.number().optional(),
  httpOnly: z.boolean().optional(),
  secure: z.boolean().optional(),
  sameSite: z.enum(['Strict', 'Lax', 'None']).optional(),
})
const cookieFileSchema = z.union([z.array(cookieSchema), z.object({ cookies: z.array(cookieSchema) })])

/**
 * Parses argv for `command` and runs it in the session. Unknown commands and bad arguments are CommandErrors that say
 * the usage.
 *
 * @example
 * await runCommand(ctx, ['click', '@e3'])
 */
export async function runCommand(ctx: CommandContext, argv: readonly string[]): Promise<CommandOutput> {
  const [name, ...rest] = argv
  const command = name ? COMMANDS[name] : undefined
  if (!command || !Object.hasOwn(COMMANDS, name!))
    throw new CommandError(
      'unknown-command',
      `unknown command: ${name ?? '(none)'}`,
      `commands: ${Object.keys(COMMANDS).join(', ')}`,
    )
  let parsed: Parsed
  try {
    parsed = parseArgs({
      args: rest,
      options: command.options ?? {},
      allowPositionals: true,
      strict: true,
    }) as Parsed
  } catch (error) {
    throw new CommandError('usage', `${name}: ${(error as Error).message}`, `usage: ${command.usage}`)
  }
  const count = parsed.positionals.length
  if (count < (command.min ?? 0) || count > (command.max ?? Number.POSITIVE_INFINITY))
    throw new CommandError(
      'usage',
      `${name} takes ${command.min ?? 0}${command.max === command.min ? '' : `–${command.max ?? '∞'}`} argument(s), got ${count}`,
      `usage: ${command.usage}`,
    )
  try {
    const limit = COMMAND_LIMIT_MS + (command.extraMs?.(parsed) ?? 0)
    return await withTimeLimit(ctx.session, name!, limit, () => command.run(ctx, parsed))
  } catch (error) {
    if (error instanceof z.ZodError)
      throw new CommandError('usage', `${name}: ${error.issues[0]?.message}`, `usage: ${command.usage}`)
    throw error
  }
}

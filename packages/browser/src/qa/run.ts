// Runs a QA flow through a browser client and writes what happened: report.json and report.md with screenshots.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { BrowserClient } from '../client.ts'
import type { CommandReply } from '../daemon/server.ts'
import type { LogEntry } from '../daemon/session.ts'
import { FLAG, isInjectionLike } from '../page/defences.ts'
import type { Expectation, Flow, Step } from './flow.ts'

export interface StepReport {
  index: number
  step: Step
  ok: boolean
  error: string | null
  durationMs: number
  screenshot: string | null
}

export interface QaReport {
  url: string
  flow: string
  startedAt: string
  durationMs: number
  ok: boolean
  steps: StepReport[]
  consoleErrors: LogEntry[]
  failedRequests: LogEntry[]
  brokenLinks: Array<{ href: string; status: number | string }>
  screenshots: string[]
  /** report.json and report.md. */
  files: { json: string; markdown: string }
}

export interface QaOptions {
  /** The site under test; relative `goto` steps resolve against it. */
  url: string
  flow: Flow
  /** Where the report and screenshots go (created). */
  outDir: string
  /** Also check every same-origin link on the last page (GET, 4xx/5xx or no answer = broken); default true. */
  checkLinks?: boolean
}

/** The argv a step sends to the daemon. */
function argvOf(step: Step, base: string, outDir: string): string[][] {
  if ('goto' in step) return [['goto', new URL(step.goto, base).toString()]]
  if ('click' in step) return [['click', step.click]]
  if ('fill' in step)
    return [['fill', step.fill.target, step.fill.value, ...(step.fill.secret ? ['--secret'] : [])]]
  if ('select' in step) return [['select', step.select.target, ...[step.select.value].flat()]]
  if ('press' in step) return [['press', step.press]]
  if ('screenshot' in step)
    return [['screenshot', '--full', '--path', join(outDir, `${step.screenshot}.png`)]]
  if ('wait' in step) {
    const w = step.wait
    const argv = ['wait', ...(w.target ? [w.target] : [])]
    if (w.text) argv.push('--text', w.text)
    if (w.url) argv.push('--url', w.url)
    if (w.ms !== undefined) argv.push('--ms', String(w.ms))
    return [argv]
  }
  return []
}

/**
 * Replays `flow` against `url` in the client's browser session and writes `report.json` and `report.md` (with
 * screenshots, one more on every failure) into `outDir`. A failed action stops the flow; a failed expectation is
 * recorded and the flow goes on. Console errors and failed requests are collected throughout.
 *
 * @example
 * const report = await runQa(await BrowserClient.connect({ agent: 'qa' }), { url: 'http://127.0.0.1:3000/', flow, outDir: 'qa-out' })
 * report.ok // false: see report.md
 */
export async function runQa(client: BrowserClient, options: QaOptions): Promise<QaReport> {
  const started = performance.now()
  const startedAt = new Date().toISOString()
  const outDir = resolve(options.outDir)
  mkdirSync(outDir, { recursive: true })
  const base = new URL(options.url).toString()
  await client.run(['console', '--clear'])
  await client.run(['network', '--clear'])

  const steps: StepReport[] = []
  const screenshots: string[] = []
  let stopped = false
  for (const [index, step] of options.flow.steps.entries()) {
    const t = performance.now()
    let error: string | null = null
    if (stopped) error = 'not run: an earlier action failed'
    else if ('expect' in step) error = await check(client, step.expect)
    else
      for (const argv of argvOf(step, base, outDir)) {
        const reply = await client.run(argv)
        if (!reply.ok) {
          error = reply.output
          break
        }
        if ('screenshot' in step) screenshots.push(join(outDir, `${step.screenshot}.png`))
      }
    let shot: string | null = null
    if (error !== null && !stopped) {
      shot = join(outDir, `failure-${index + 1}.png`)
      const reply = await client.run(['screenshot', '--full', '--path', shot])
      if (reply.ok) screenshots.push(shot)
      else shot = null
      if (!('expect' in step)) stopped = true
    }
    steps.push({
      index: index + 1,
      step: shown(step),
      ok: error === null,
      error,
      durationMs: performance.now() - t,
      screenshot: shot,
    })
  }

  const consoleErrors = ((await client.run(['console', '--errors'])).data ?? []) as LogEntry[]
  const failedRequests = ((await client.run(['network', '--failed'])).data ?? []) as LogEntry[]
  const brokenLinks = options.checkLinks === false ? [] : await checkLinks(client, base)
  const report: Omit<QaReport, 'files'> = {
    url: base,
    flow: options.flow.name ?? 'flow',
    startedAt,
    durationMs: performance.now() - started,
    ok: steps.every((s) => s.ok) && brokenLinks.length === 0,
    steps,
    consoleErrors,
    failedRequests,
    brokenLinks,
    screenshots,
  }
  const files = { json: join(outDir, 'report.json'), markdown: join(outDir, 'report.md') }
  writeFileSync(files.json, `${JSON.stringify({ ...report, files }, null, 2)}\n`)
  writeFileSync(files.markdown, markdown(report, outDir))
  return { ...report, files }
}

/** The step as the report shows it: a secret value never leaves the browser session. */
function shown(step: Step): Step {
  return 'fill' in step && step.fill.secret ? { fill: { ...step.fill, value: '[secret]' } } : step
}

async function check(client: BrowserClient, expect: Expectation): Promise<string | null> {
  const problems: string[] = []
  const ask = (argv: string[]): Promise<CommandReply> => client.run(argv)
  if (expect.text !== undefined || expect.no_text !== undefined) {
    // The page's text alone: the reply's own words and envelope markers must not satisfy an expectation.
    const text = ((await ask(['text'])).data as { text?: string } | undefined)?.text ?? ''
    if (expect.text !== undefined && !text.includes(expect.text))
      problems.push(`the page does not show "${expect.text}"`)
    if (expect.no_text !== undefined && text.includes(expect.no_text))
      problems.push(`the page shows "${expect.no_text}"`)
  }
  if (expect.url !== undefined || expect.title !== undefined) {
    const reply = await ask(['url'])
    const { url, title } = reply.data as { url: string; title: string }
    if (expect.url !== undefined && !url.includes(expect.url))
      problems.push(`the URL is ${url}, not one containing ${expect.url}`)
    if (expect.title !== undefined && !title.includes(expect.title))
      problems.push(`the title is "${title}", not one containing "${expect.title}"`)
  }
  if (expect.visible !== undefined) {
    const reply = await ask(['wait', expect.visible, '--timeout', '3000'])
    if (!reply.ok) problems.push(`${expect.visible} is not visible: ${reply.output}`)
  }
  if (expect.no_console_errors) {
    const errors = ((await ask(['console', '--errors'])).data ?? []) as LogEntry[]
    if (errors.length > 0)
      problems.push(
        `${errors.length} console error(s): ${errors
          .map((e) => e.text)
          .join(' | ')
          .slice(0, 300)}`,
      )
  }
  if (expect.no_failed_requests) {
    const failed = ((await ask(['network', '--failed'])).data ?? []) as LogEntry[]
    if (failed.length > 0)
      problems.push(
        `${failed.length} failed request(s): ${failed
          .map((e) => e.text)
          .join(' | ')
          .slice(0, 300)}`,
      )
  }
  return problems.length > 0 ? problems.join('; ') : null
}

async function checkLinks(
  client: BrowserClient,
  base: string,
): Promise<Array<{ href: string; status: number | string }>> {
  const reply = await client.run(['links'])
  if (!reply.ok) return []
  const origin = new URL(base).origin
  const hrefs = [...new Set(((reply.data ?? []) as Array<{ href: string }>).map((l) => l.href))].filter(
    (href) => href.startsWith(`${origin}/`) || href === origin,
  )
  const broken: Array<{ href: string; status: number | string }> = []
  for (const href of hrefs.slice(0, 200)) {
    try {
      const res = await fetch(href, { redirect: 'follow', signal: AbortSignal.timeout(5000) })
      if (res.status >= 400) broken.push({ href, status: res.status })
    } catch (error) {
      broken.push({ href, status: (error as Error).message })
    }
  }
  return broken
}

/**
 * Text the page controls, made inert for Markdown: one line, in a code span (no links, images or headings render),
 * flagged when it reads like instructions.
 */
function pageText(text: string): string {
  const line = text
    .replace(/[\r\n]+/g, ' ')
    .replace(/`/g, "'")
    .slice(0, 500)
  return `\`${line}\`${isInjectionLike(line) ? ` ${FLAG}` : ''}`
}

function markdown(report: Omit<QaReport, 'files'>, outDir: string): string {
  const rel = (path: string) => path.slice(outDir.length + 1)
  const lines = [
    `# QA: ${report.flow} on ${report.url}`,
    '',
    `${report.ok ? '**passed**' : '**failed**'} · ${report.startedAt} · ${(report.durationMs / 1000).toFixed(1)} s`,
    '',
    '## Steps',
    '',
    ...report.steps.map(
      (s) =>
        `${s.index}. ${s.ok ? '✓' : '✗'} \`${JSON.stringify(s.step)}\`${s.error ? ` — ${s.error}` : ''}${s.screenshot ? `\n\n   ![failure at step ${s.index}](${rel(s.screenshot)})` : ''}`,
    ),
    '',
    `## Console errors (${report.consoleErrors.length})`,
    '',
    ...report.consoleErrors.map((e) => `- ${e.kind}: ${pageText(e.text)}`),
    '',
    `## Failed requests (${report.failedRequests.length})`,
    '',
    ...report.failedRequests.map((e) => `- ${pageText(e.text)}`),
    '',
    `## Broken links (${report.brokenLinks.length})`,
    '',
    ...report.brokenLinks.map((l) => `- ${pageText(l.href)} → ${pageText(String(l.status))}`),
    '',
    '## Screenshots',
    '',
    ...report.screenshots.map((s) => `![${rel(s)}](${rel(s)})`),
    '',
  ]
  return lines.join('\n')
}

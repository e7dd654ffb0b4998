import { join } from 'node:path'
import { BrowserClient, loadFlow, type QaReport, runQa, SMOKE_FLOW } from '@dstack/browser/client'
import { Args, Flags } from '@oclif/core'
import { DstackCommand } from '../lib/command.ts'
import { EXIT } from '../lib/exit-codes.ts'

export default class Qa extends DstackCommand {
  static override summary =
    'Run a QA flow against a site in the browser daemon and write a report (JSON + Markdown with screenshots)'
  static override description =
    `Without --flow: load the page, screenshot it, and check there are no console errors, no failed requests and no
broken same-origin links. A flow file (YAML or JSON) lists steps: goto, click, fill, select, press, wait,
screenshot, and expect (text, no_text, url, title, visible, no_console_errors, no_failed_requests):

  name: login
  steps:
    - goto: /login
    - fill: { target: '#email', value: a@b.c }
    - fill: { target: '#password', value: hunter22, secret: true }
    - click: 'button[type=submit]'
    - expect: { url: /dashboard, text: Welcome, no_console_errors: true }

A failed action stops the flow (with a screenshot); a failed expectation is recorded and the flow goes on.

Exit codes: 0 everything passed, 1 the browser failed, 2 a bad flow file, 4 the browser daemon cannot start,
6 a step, an expectation or a link failed (see the report).`
  static override examples = [
    '<%= config.bin %> qa http://127.0.0.1:3000/',
    '<%= config.bin %> qa http://127.0.0.1:3000/ --flow qa/login.yaml --out qa-report',
  ]
  static override args = { url: Args.string({ required: true, description: 'the site under test' }) }
  static override flags = {
    flow: Flags.string({ description: 'the flow file (YAML or JSON); default: a smoke check' }),
    out: Flags.string({ description: 'report directory (default ./qa-report-<time>)' }),
    agent: Flags.string({ description: 'the browser session to use (default qa)', default: 'qa' }),
    links: Flags.boolean({
      description: 'check same-origin links on the last page',
      default: true,
      allowNo: true,
    }),
  }

  async run(): Promise<QaReport> {
    const { args, flags } = await this.parse(Qa)
    const flow = flags.flow ? loadFlow(flags.flow) : SMOKE_FLOW
    const outDir =
      flags.out ?? join(process.cwd(), `qa-report-${new Date().toISOString().replace(/[:.]/g, '-')}`)
    const client = await BrowserClient.connect({ agent: flags.agent })
    const report = await runQa(client, { url: args.url, flow, outDir, checkLinks: flags.links })
    this.say(
      [
        ...report.steps.map(
          (s) =>
            `${s.ok ? '✓' : '✗'} ${s.index}. ${JSON.stringify(s.step)}${s.error ? `\n    ${s.error}` : ''}`,
        ),
        `${report.consoleErrors.length} console error(s), ${report.failedRequests.length} failed request(s), ${report.brokenLinks.length} broken link(s)`,
        `${report.ok ? 'passed' : 'FAILED'}: ${report.files.markdown}`,
      ].join('\n'),
    )
    if (!report.ok) {
      this.exitWith(report, EXIT.UNHEALTHY)
    }
    return report
  }
}

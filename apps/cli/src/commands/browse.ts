import { readFileSync } from 'node:fs'
import {
  BrowserClient,
  batchCommandsSchema,
  type CommandReply,
  daemonStatus,
  stopDaemon,
} from '@dstack/browser/client'
import { Flags } from '@oclif/core'
import { DstackCommand } from '../lib/command.ts'
import { EXIT } from '../lib/exit-codes.ts'

export default class Browse extends DstackCommand {
  static override summary =
    'Drive a persistent headless Chromium: navigate, snapshot with @refs, click, fill, read, screenshot'
  static override description =
    `One daemon per workspace (the repository you are in), started on demand and detached, on 127.0.0.1 behind a
bearer token; it stops after 30 idle minutes. Each agent (--agent, else DSTACK_AGENT, else the Claude session) has
its own browser context and tabs. Page content comes back inside an untrusted-content envelope with a per-session
nonce; hidden text is left out and injection-like text flagged.

Commands (after \`dstack browse\`):
  goto <url> | back | forward | reload | url
  snapshot [-i|--interactive] [-D|--diff] [-s css] [--budget tokens]
  click <@ref|css> | fill <@ref|css> <value> [--secret] | select <@ref|css> <value>... | press <key> [@ref]
  hover <@ref|css> | scroll [@ref] [--by px] | wait [@ref|css] [--text t] [--url u] [--ms n] [--load]
  text [@ref] | html [@ref] | attrs <@ref> | screenshot [@ref] [--full] [--path f]
  console [--errors] | network [--failed] | tabs | tab new [url] | tab <n> | tab close [n] | frames | frame <n|name|main>
  cookies [--import f] [--export f] | eval <js> (only with --allow-eval)
  status | stop
A ref from an old snapshot that no longer names the same element fails with an error instead of acting.
--batch reads a JSON array of commands from stdin ([["goto","http://…"],["snapshot","-i"]]) and stops at the
first failure.

Exit codes: 0 done, 1 the command failed (the message says why and what to do), 2 bad usage, 4 the browser
daemon cannot start or is busy.`
  static override examples = [
    '<%= config.bin %> browse goto http://127.0.0.1:3000/',
    '<%= config.bin %> browse snapshot -i',
    '<%= config.bin %> browse click @e3',
    `echo '[["goto","http://127.0.0.1:3000/login"],["fill","#email","a@b.c"],["click","@e4"]]' | <%= config.bin %> browse --batch`,
  ]
  static override strict = false
  static override flags = {
    agent: Flags.string({
      description: 'who is driving (default: DSTACK_AGENT, else the Claude session, else default)',
    }),
    batch: Flags.boolean({ description: 'read a JSON array of commands from stdin' }),
    'allow-eval': Flags.boolean({ description: 'start the daemon with `eval` enabled' }),
    'allow-domain': Flags.string({
      description: 'start the daemon allowing only these hosts (repeatable; *.example.com)',
      multiple: true,
    }),
    idle: Flags.integer({
      description: 'start the daemon stopping after this many idle minutes (default 30)',
      min: 1,
    }),
    workspace: Flags.string({ description: 'the workspace whose daemon to use (default: this repository)' }),
  }

  /** The browser command and its own flags (`snapshot -i`), passed through untouched; dstack's flags come first. */
  #command: string[] = []

  protected override async init(): Promise<void> {
    // Flags that take a value (from the definitions below), so their values are not taken for the command.
    const valued = new Set(
      Object.entries(Browse.flags).flatMap(([name, flag]) => (flag.type === 'option' ? [`--${name}`] : [])),
    )
    let i = 0
    while (i < this.argv.length && this.argv[i]!.startsWith('-')) i += valued.has(this.argv[i]!) ? 2 : 1
    const rest = this.argv.slice(i)
    // --json anywhere means JSON output, as on every other command.
    this.#command = rest.filter((a) => a !== '--json')
    this.argv = [...this.argv.slice(0, i), ...(rest.includes('--json') ? ['--json'] : [])]
    await super.init()
  }

  async run(): Promise<unknown> {
    const { flags } = await this.parse(Browse)
    const args = this.#command
    const workspace = flags.workspace
    if (args[0] === 'status') {
      const status = await daemonStatus({ workspace })
      this.say(
        status.running
          ? `running: pid ${status.state!.pid} on port ${status.state!.port}${status.healthy ? '' : ' (not answering: busy?)'}`
          : 'not running',
      )
      return status
    }
    if (args[0] === 'stop') {
      const stopped = await stopDaemon({ workspace })
      this.say(stopped.stopped ? `stopped pid ${stopped.pid}` : 'not running')
      return stopped
    }
    // A bad batch is refused before any daemon is started for it.
    const batch = flags.batch ? this.readBatch() : null
    if (!batch && args.length === 0)
      this.error('give a command, e.g. `dstack browse goto <url>` (see --help)', { exit: EXIT.USAGE })
    const settings = {
      allowEval: flags['allow-eval'] || undefined,
      allowDomains: flags['allow-domain'],
      idleMinutes: flags.idle,
    }
    const browser = await BrowserClient.connect({ workspace, agent: flags.agent, settings })
    const result = batch ? await browser.batch(batch) : await browser.run(args)
    const replies = 'replies' in result ? result.replies : [result]
    for (const reply of replies) this.print(reply)
    if (!result.ok) {
      this.exitWith(result, EXIT.ERROR)
    }
    return result
  }

  private readBatch(): string[][] {
    let input: unknown
    try {
      input = JSON.parse(readFileSync(0, 'utf8'))
    } catch (error) {
      this.error(`--batch: stdin is not JSON: ${(error as Error).message}`, { exit: EXIT.USAGE })
    }
    const parsed = batchCommandsSchema.safeParse(input)
    if (!parsed.success)
      this.error(
        `--batch: expected a JSON array of commands like [["goto","http://…"],["snapshot"]]: ${parsed.error.issues[0]?.message}`,
        { exit: EXIT.USAGE },
      )
    return parsed.data
  }

  private print(reply: CommandReply): void {
    if (this.jsonEnabled()) return
    if (reply.ok) this.log(reply.output)
    else
      process.stderr.write(
        `error: ${reply.output}${reply.error?.hint ? `\n  hint: ${reply.error.hint}` : ''}\n`,
      )
  }
}

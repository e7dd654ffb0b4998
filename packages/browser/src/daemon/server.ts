// The daemon: one Chromium for a workspace, one context per agent, an HTTP API on loopback behind a bearer token.
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { currentProcess, IdleTimer } from '@dstack/daemon'
import type { Browser } from 'playwright-core'
import type { z } from 'zod'
import { launchChromium } from '../chromium.ts'
import { BrowserError } from '../errors.ts'
import { redactDeep, redactSecrets, wrapUntrusted } from '../page/defences.ts'
import { runCommand } from './commands.ts'
import { clearDaemonState, type DaemonFiles, type DaemonSettings, writeDaemonState } from './files.ts'
import { batchRequestSchema, type CommandReply, commandRequestSchema, PROTOCOL_VERSION } from './protocol.ts'
import { AgentSession } from './session.ts'

export type { CommandReply } from './protocol.ts'
export { PROTOCOL_VERSION } from './protocol.ts'

/** One command for one agent; the batch form is a list of them, run in order, stopping at the first error. */

export interface ServerOptions {
  workspace: string
  files: DaemonFiles
  settings: DaemonSettings
  version: string
}

export interface RunningDaemon {
  port: number
  token: string
  close(reason: string): Promise<void>
}

/**
 * Launches Chromium and serves the command API on 127.0.0.1 (a port the OS picks), then publishes the state file.
 * Requests need the bearer token; a Host other than loopback (DNS rebinding) or any Origin (a web page) is refused.
 * The daemon stops after `idleMinutes` without a command (never while one runs), when Chromium goes away, or when
 * asked; Chromium and the state file go with it.
 *
 * @example
 * const daemon = await startDaemon({ workspace, files, settings, version })
 * // later: await daemon.close('test done')
 */
export async function startDaemon(options: ServerOptions): Promise<RunningDaemon> {
  const browser: Browser = await launchChromium()
  const token = randomBytes(32).toString('hex')
  const sessions = new Map<string, Promise<AgentSession>>()
  // Each agent's commands run one after another; different agents run side by side.
  const queues = new Map<string, Promise<unknown>>()
  let closing: Promise<void> | null = null

  const sessionFor = (agent: string) => {
    let session = sessions.get(agent)
    if (!session) {
      session = AgentSession.open(browser, agent, options.settings.allowDomains)
      sessions.set(agent, session)
    }
    return session
  }

  const execute = async (agent: string, argv: string[], cwd: string): Promise<CommandReply> => {
    const session = await sessionFor(agent)
    const redact = (text: string) => redactSecrets(text, session.secrets)
    try {
      const out = await runCommand(
        { session, settings: options.settings, artifacts: options.files.artifacts, cwd },
        argv,
      )
      const page =
        out.page === undefined || out.page === ''
          ? ''
          : `\n${wrapUntrusted(out.page, { nonce: session.nonce, source: (await session.page()).url() })}`
      return {
        ok: true,
        output: redact(`${out.text}${page}`),
        data: redactDeep(out.data, session.secrets),
      }
    } catch (error) {
      const e = error instanceof BrowserError ? error : null
      const message = redact((error as Error).message.split('\n')[0] ?? String(error))
      return {
        ok: false,
        output: message,
        error: { code: e?.code ?? 'failed', message, hint: e?.hint ?? null },
      }
    }
  }

  const enqueue = <T>(agent: string, work: () => Promise<T>): Promise<T> => {
    const previous = queues.get(agent) ?? Promise.resolve()
    const next = previous.then(work, work)
    queues.set(
      agent,
      next.catch(() => {}),
    )
    return next
  }

  const idle = new IdleTimer(options.settings.idleMinutes * 60_000, () => void close('idle'))

  const server: Server = createServer(async (req, res) => {
    const end = idle.begin()
    try {
      await handle(req, res)
    } catch (error) {
      send(res, 500, {
        ok: false,
        output: (error as Error).message,
        error: { code: 'internal', message: (error as Error).message, hint: null },
      })
    } finally {
      end()
    }
  })

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const port = (server.address() as AddressInfo).port
    // Only local tools talk to the daemon: a browser page (Origin) or a rebinding DNS name (Host) is turned away.
    const host = req.headers.host ?? ''
    if (req.headers.origin !== undefined || (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`))
      return send(res, 403, {
        ok: false,
        output: 'forbidden',
        error: { code: 'forbidden', message: 'forbidden', hint: null },
      })
    if (req.method === 'GET' && req.url === '/health')
      return send(res, 200, {
        ok: true,
        pid: process.pid,
        version: options.version,
        protocol: PROTOCOL_VERSION,
        agents: sessions.size,
      })
    if (!authorized(req.headers.authorization, token))
      return send(res, 401, {
        ok: false,
        output: 'unauthorized',
        error: { code: 'unauthorized', message: 'bad or missing token', hint: 're-read the state file' },
      })
    const body = await readBody(req)
    if (req.method === 'POST' && req.url === '/command') {
      const request = commandRequestSchema.safeParse(body)
      if (!request.success) return send(res, 400, invalid(request.error))
      const { agent, argv, cwd } = request.data
      const reply = await enqueue(agent, () => execute(agent, argv, cwd))
      return send(res, 200, reply)
    }
    if (req.method === 'POST' && req.url === '/batch') {
      const request = batchRequestSchema.safeParse(body)
      if (!request.success) return send(res, 400, invalid(request.error))
      const replies = await enqueue(request.data.agent, async () => {
        const out: CommandReply[] = []
        for (const argv of request.data.commands) {
          const reply = await execute(request.data.agent, argv, request.data.cwd)
          out.push(reply)
          if (!reply.ok) break
        }
        return out
      })
      return send(res, 200, { ok: replies.every((r) => r.ok), replies })
    }
    if (req.method === 'POST' && req.url === '/shutdown') {
      send(res, 200, { ok: true, output: 'stopping' })
      setImmediate(() => void close('asked to stop'))
      return
    }
    send(res, 404, {
      ok: false,
      output: 'not found',
      error: { code: 'not-found', message: `${req.method} ${req.url}`, hint: null },
    })
  }

  const close = (reason: string): Promise<void> => {
    closing ??= (async () => {
      idle.stop()
      clearDaemonState(options.files.state, process.pid)
      server.close()
      server.closeAllConnections()
      for (const session of sessions.values()) await (await session.catch(() => null))?.close()
      await browser.close().catch(() => {})
      process.stderr.write(`[dstack browser] stopped: ${reason}\n`)
    })()
    return closing
  }

  // Chromium gone (crash, OOM kill): this daemon is useless; the next command starts a fresh one.
  browser.on('disconnected', () => void close('chromium went away').then(() => process.exit(1)))

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const port = (server.address() as AddressInfo).port
  const me = currentProcess()
  writeDaemonState(options.files.state, {
    pid: me.pid,
    startTime: me.startTime,
    host: me.host,
    port,
    token,
    version: options.version,
    workspace: options.workspace,
    startedAt: new Date().toISOString(),
    settings: options.settings,
  })
  return { port, token, close }
}

function authorized(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header?.replace(/^Bearer /, '') ?? '')
  const expected = Buffer.from(token)
  return given.length === expected.length && timingSafeEqual(given, expected)
}

const MAX_BODY = 8 * 1024 * 1024

async function readBody(req: IncomingMessage): Promise<unknown> {
  let size = 0
  const chunks: Buffer[] = []
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > MAX_BODY) throw new Error(`request body over ${MAX_BODY} bytes`)
    chunks.push(chunk as Buffer)
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    return undefined
  }
}

function invalid(error: z.ZodError): CommandReply {
  const message = error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')
  return { ok: false, output: message, error: { code: 'bad-request', message, hint: null } }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

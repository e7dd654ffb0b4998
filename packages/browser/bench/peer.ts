// The peer of the browser bench: @playwright/mcp, installed at bench time with npm into
// <os tmpdir>/dstack-browser-bench-peers/mcp-<version>/ (reused when present) together with the MCP SDK client and
// js-tiktoken (the token counter of the whole bench), started over stdio and driven with the SDK client.

import { existsSync, mkdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { installPinned } from '../../../bench/harness.ts'

/** Pinned (npm view @playwright/mcp version / @modelcontextprotocol/sdk / js-tiktoken on 2026-11-23). */
export const MCP_VERSION = '0.0.83'
export const SDK_VERSION = '1.32.2'
export const TIKTOKEN_VERSION = '1.0.21'
export const PEER_CACHE = join(tmpdir(), 'dstack-browser-bench-peers', `mcp-${MCP_VERSION}`)

/** Installs the peer packages when missing; the error text when npm fails, else null. */
export async function installPeers(progress: (message: string) => void): Promise<string | null> {
  progress(
    `peers in ${PEER_CACHE}: @playwright/mcp@${MCP_VERSION}, @modelcontextprotocol/sdk@${SDK_VERSION}, js-tiktoken@${TIKTOKEN_VERSION}`,
  )
  return installPinned(PEER_CACHE, {
    '@playwright/mcp': MCP_VERSION,
    '@modelcontextprotocol/sdk': SDK_VERSION,
    'js-tiktoken': TIKTOKEN_VERSION,
  })
}

const peerRequire = () => createRequire(join(PEER_CACHE, 'package.json'))

/** o200k_base token counter from js-tiktoken, or null (with why) when it cannot be loaded. */
export async function loadTokenizer(): Promise<{ count: (text: string) => number } | { error: string }> {
  try {
    const { getEncoding } = (await import(peerRequire().resolve('js-tiktoken'))) as {
      getEncoding: (name: string) => { encode: (text: string) => number[] }
    }
    const encoding = getEncoding('o200k_base')
    return { count: (text) => encoding.encode(text).length }
  } catch (error) {
    return { error: (error as Error).message.split('\n')[0]! }
  }
}

export interface McpReply {
  ok: boolean
  /** The text parts of the response, joined: what lands in the agent's context. */
  text: string
  images: number
  ms: number
}

interface SdkClient {
  connect(transport: unknown): Promise<void>
  callTool(
    request: { name: string; arguments: Record<string, unknown> },
    schema?: unknown,
    options?: { timeout?: number },
  ): Promise<{
    content: Array<{ type: string; text?: string }>
    isError?: boolean
  }>
  close(): Promise<void>
}

interface SdkTransport {
  readonly pid: number | null
  readonly stderr: NodeJS.ReadableStream | null
}

/** One playwright-mcp server over stdio, with the SDK client that drives it. */
export class McpPeer {
  readonly client: SdkClient
  readonly transport: SdkTransport
  readonly stderr: string[]
  /** Spawn → MCP initialize done. */
  readonly connectMs: number

  private constructor(client: SdkClient, transport: SdkTransport, stderr: string[], connectMs: number) {
    this.client = client
    this.transport = transport
    this.stderr = stderr
    this.connectMs = connectMs
  }

  /** The flags it is started with: headless, Debian's Chromium, in-memory profile, dstack's viewport. */
  static args(outputDir: string): string[] {
    return [
      join(PEER_CACHE, 'node_modules', '@playwright', 'mcp', 'cli.js'),
      '--headless',
      '--executable-path',
      process.env.DSTACK_CHROMIUM || '/usr/bin/chromium',
      '--isolated',
      '--viewport-size',
      '1280x720',
      '--output-dir',
      outputDir,
      ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
    ]
  }

  /** Spawns the server in `cwd` (its workspace root: relative screenshot names land there) and connects. */
  static async start(cwd: string): Promise<McpPeer> {
    const require = peerRequire()
    const { Client } = (await import(require.resolve('@modelcontextprotocol/sdk/client/index.js'))) as {
      Client: new (info: { name: string; version: string }) => SdkClient
    }
    const { StdioClientTransport } = (await import(
      require.resolve('@modelcontextprotocol/sdk/client/stdio.js')
    )) as {
      StdioClientTransport: new (options: Record<string, unknown>) => SdkTransport
    }
    const outputDir = join(cwd, 'mcp-output')
    if (!existsSync(outputDir)) mkdirSync(outputDir, { recursive: true })
    const started = performance.now()
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: McpPeer.args(outputDir),
      cwd,
      stderr: 'pipe',
      env: { ...process.env, DEBUG: '' } as Record<string, string>,
    })
    const stderr: string[] = []
    transport.stderr?.on('data', (chunk: Buffer) => {
      stderr.push(chunk.toString('utf8'))
      if (stderr.length > 50) stderr.shift()
    })
    const client = new Client({ name: 'dstack-browser-bench', version: '1' })
    await client.connect(transport)
    return new McpPeer(client, transport, stderr, performance.now() - started)
  }

  get pid(): number | null {
    return this.transport.pid
  }

  async call(name: string, args: Record<string, unknown>): Promise<McpReply> {
    const started = performance.now()
    const result = await this.client.callTool({ name, arguments: args }, undefined, { timeout: 120_000 })
    const ms = performance.now() - started
    const text = result.content
      .filter((part) => part.type === 'text')
      .map((part) => part.text ?? '')
      .join('\n')
    const images = result.content.filter((part) => part.type === 'image').length
    return { ok: result.isError !== true && !text.startsWith('### Error'), text, images, ms }
  }

  async close(): Promise<void> {
    await this.client.close().catch(() => {})
  }
}

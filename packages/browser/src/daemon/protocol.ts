// What clients and the daemon send each other: no playwright here, so the client stays light.
import { z } from 'zod'

export const PROTOCOL_VERSION = '1'

const argvSchema = z.array(z.string().max(1_000_000)).min(1).max(64)

export const commandRequestSchema = z.strictObject({
  agent: z.string().regex(/^[A-Za-z0-9._:@-]{1,128}$/, 'agent names are letters, digits and . _ : @ -'),
  argv: argvSchema,
  /** The client's directory: relative paths in the command (screenshot --path, cookies files) resolve here. */
  cwd: z.string().startsWith('/'),
})

/** Commands for one agent in one request, run in order, stopping at the first that fails. */
export const batchRequestSchema = z.strictObject({
  agent: commandRequestSchema.shape.agent,
  commands: z.array(argvSchema).min(1).max(50),
  cwd: commandRequestSchema.shape.cwd,
})

/** What `--batch` reads: a JSON array of argv arrays. */
export const batchCommandsSchema = batchRequestSchema.shape.commands

export interface CommandReply {
  ok: boolean
  /** For people: what happened, then any page content inside its untrusted envelope. */
  output: string
  data?: unknown
  error?: { code: string; message: string; hint: string | null }
}

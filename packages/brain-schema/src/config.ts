import { postgresUrl } from '@dstack/config'
import { z } from 'zod'

/** An embedded brain: one PGlite database under `dataDir`, served to every process by one local server. */
export const embeddedBrainConfigSchema = z.strictObject({
  driver: z.literal('embedded'),
  /** e.g. ~/.dstack/brain (already expanded). */
  dataDir: z.string().min(1),
  /** Put the unix socket here when dataDir's path is too long for one. */
  socketDir: z.string().min(1).optional(),
  /** The server stops after this long with no client; default 15 minutes. */
  idleTimeoutMs: z.number().int().nonnegative().optional(),
})

/** Any Postgres 15+ by URL: a local server, or a Supabase project's connection string. */
export const postgresBrainConfigSchema = z.strictObject({
  driver: z.literal('postgres'),
  url: postgresUrl,
  poolSize: z.number().int().min(1).max(100).optional(),
})

export const brainConfigSchema = z.discriminatedUnion('driver', [
  embeddedBrainConfigSchema,
  postgresBrainConfigSchema,
])

export type EmbeddedBrainConfig = z.infer<typeof embeddedBrainConfigSchema>
export type PostgresBrainConfig = z.infer<typeof postgresBrainConfigSchema>
export type BrainConfig = z.infer<typeof brainConfigSchema>

/**
 * A Postgres URL with its password masked, safe for logs and `brain status`.
 *
 * @example
 * redactUrl('postgres://app:s3cret@db.example.com/brain') // 'postgres://app:***@db.example.com/brain'
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.toString()
  } catch {
    return '(invalid URL)'
  }
}

import { z } from 'zod'
import { agentHandle } from './identity.ts'

const minutes = z
  .number()
  .positive()
  .max(7 * 24 * 60)

/** A Postgres connection URL (a local server, or a Supabase project's connection string). */
export const postgresUrl = z
  .string()
  .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
  .refine((value) => URL.canParse(value), 'is not a valid URL')

/** The `brain:` section of config.yaml. */
export const brainFileSchema = z.discriminatedUnion('driver', [
  z.strictObject({
    driver: z.literal('embedded'),
    /** Default ~/.dstack/brain. */
    data_dir: z.string().min(1).optional(),
    /** Only when data_dir's path is too long for a unix socket. */
    socket_dir: z.string().min(1).optional(),
    /** The embedded server stops after this many minutes with no client; default 15. */
    idle_timeout_minutes: minutes.optional(),
  }),
  z.strictObject({
    driver: z.literal('postgres'),
    url: postgresUrl,
    pool_size: z.number().int().min(1).max(100).optional(),
  }),
])

/**
 * ~/.dstack/config.yaml. Every key is optional: a machine with no file runs on the embedded brain as its user.
 *
 * @example
 * configFileSchema.parse({ agent: 'alice', brain: { driver: 'embedded' } })
 */
export const configFileSchema = z.strictObject({
  agent: agentHandle.optional(),
  display_name: z.string().trim().min(1).max(200).optional(),
  email: z.email().optional(),
  machine: z.string().trim().min(1).max(200).optional(),
  brain: brainFileSchema.optional(),
  /** Where memories live (`dstack memory`, the SessionStart digest). */
  memory: z
    .strictObject({
      /** file (default): readable files under `dir`; brain: the team brain; eruka: an Eruka/openeruka server. */
      provider: z.enum(['file', 'brain', 'eruka']).optional(),
      /** For the file provider; default ~/.dstack/memory. */
      dir: z.string().min(1).optional(),
      /** The workspace when none is given; default: one per repository (derived from its remote). */
      workspace: z
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/)
        .optional(),
      eruka: z
        .strictObject({
          url: z.url({ protocol: /^https?$/ }),
          /** The header carrying the key: X-Service-Key (default) or Authorization. */
          auth_header: z.string().min(1).optional(),
          key: z.string().min(1).optional(),
        })
        .optional(),
    })
    .optional(),
  /** A hosted Supabase project: `dstack watch` streams changes through its Realtime service. */
  supabase: z
    .strictObject({
      url: z.url({ protocol: /^https?$/ }),
      /** The anon key, or a user JWT with the agent_id claim. */
      key: z.string().min(20),
    })
    .optional(),
})

export type ConfigFile = z.infer<typeof configFileSchema>
export type BrainFileConfig = z.infer<typeof brainFileSchema>

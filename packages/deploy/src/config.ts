import { existsSync, statSync } from 'node:fs'
import { dirname, isAbsolute, resolve } from 'node:path'
import {
  discoverRepos,
  healthCheckSchema,
  loadWorkspaceFileWith,
  type WorkspaceFile,
  WorkspaceFileError,
  workspaceFileSchema,
} from '@dstack/repo-graph'
import { z } from 'zod'

const commands = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).transform((c) => [c].flat())
/** Names that become file names and arguments on the target: no path separators, no leading dash or dot. */
const safeName = z
  .string()
  .regex(/^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,99}$/, 'letters, digits, _ . @ - (not first)')
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name')
/** An absolute path on the target with no `..` (it is where releases live and what cleanup deletes under). */
const targetPath = z
  .string()
  .refine(
    (p) => p.startsWith('/') && !p.split('/').includes('..') && p !== '/',
    'an absolute path, not / and no ..',
  )
/** A path inside the release: relative, no `..`. */
const releasePath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), 'a path inside the release, with no ..')

/** `local`, or `ssh://[user@]host[:port]`. */
const hostSchema = z.union([
  z.literal('local'),
  z
    .string()
    .regex(
      /^ssh:\/\/(?:[A-Za-z0-9_][A-Za-z0-9_.-]*@)?(?:[A-Za-z0-9][A-Za-z0-9.-]*|\[[0-9a-fA-F:]+\])(?::\d{1,5})?$/,
      'local or ssh://[user@]host[:port]',
    ),
])

const sshSchema = z.strictObject({
  /** Private key to log in with (ssh -i). */
  identity_file: z.string().min(1).optional(),
  /** known_hosts to check the host key against; hosts are always checked (StrictHostKeyChecking=yes). */
  known_hosts: z.string().min(1).optional(),
  /** Seconds to wait for the connection. */
  connect_timeout_s: z.number().int().min(1).max(300).default(10),
})

const systemdSchema = z.strictObject({
  unit: safeName,
  /** Run systemctl through `sudo -n` (a deploy user allowed to restart only this unit). */
  sudo: z.boolean().default(false),
})

const processSchema = z.strictObject({
  /** The service's argv, run in the release directory with its .env loaded; never through a shell. */
  command: z.array(z.string().min(1)).min(1),
  /** SIGTERM, then SIGKILL after this long. */
  stop_timeout_ms: z.number().int().min(0).max(600_000).default(10_000),
  /** After the start, how long it must stay up for the restart step to pass (a crash on boot fails it here, with its log). */
  boot_check_ms: z.number().int().min(0).max(60_000).default(500),
})

const caddySchema = z.strictObject({
  /** The admin API as the target reaches it. */
  admin: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:2019'),
  /** The site config inside the release (a Caddyfile, or Caddy JSON), POSTed whole to /load. */
  config: releasePath,
  adapter: z.enum(['caddyfile', 'json']).default('caddyfile'),
})

const migrationsSchema = z.strictObject({
  /** Directory of `*.sql` files in the repository, applied in name order. */
  dir: z.string().min(1),
  /** The environment variable (from env or secrets) that holds the postgres:// URL. */
  database_env: envName.default('DATABASE_URL'),
  /** pg_dump before applying anything (custom format, in <root>/backups). */
  backup: z.boolean().default(true),
})

const secretSchema = z.union([z.strictObject({ env: envName }), z.strictObject({ file: z.string().min(1) })])

const hooksSchema = z.strictObject({
  /** Run on the target in the new release, after the switch, before the restart (argv, no shell). */
  before_restart: z.array(z.string().min(1)).min(1).optional(),
  /** Run on the target in the new release after a healthy deploy. */
  after_deploy: z.array(z.string().min(1)).min(1).optional(),
})

/**
 * One deployable service in dstack.yaml's `deploy:` map.
 *
 * @example
 * serviceSchema.parse({
 *   repo: 'ares', build: 'cargo build --release', artifact: 'target/release', hosts: ['ssh://deploy@vps1'],
 *   root: '/srv/ares', process: { command: ['./ares'] }, health: { url: 'http://127.0.0.1:3000/health' },
 * })
 */
export const serviceSchema = z
  .strictObject({
    /** A repository of the fleet (by id) or a directory relative to dstack.yaml; default: the service's name. */
    repo: z.string().min(1).optional(),
    /** Run in the repository with `sh -c`, in order, before anything is uploaded. */
    build: commands.optional(),
    /** What becomes the release: a directory (its contents) or a file, relative to the repository. */
    artifact: z.string().min(1).default('.'),
    hosts: z.array(hostSchema).min(1).default(['local']),
    /** On each host: releases/, current, backups/, logs/ and .dstack/ live here. */
    root: targetPath,
    ssh: sshSchema.default({ connect_timeout_s: 10 }),
    systemd: systemdSchema.optional(),
    process: processSchema.optional(),
    health: healthCheckSchema.optional(),
    caddy: caddySchema.optional(),
    migrations: migrationsSchema.optional(),
    /** Plain settings, written to the release's .env. */
    env: z.record(envName, z.string()).default({}),
    /** Values read on the deploying machine at run time (never in the plan, the report or argv). */
    secrets: z.record(envName, secretSchema).default({}),
    hooks: hooksSchema.default({}),
    /** Releases kept on each host (the current and the previous one are never removed). */
    keep: z.number().int().min(2).max(100).default(5),
    /** The deploy lock expires on its own after this long, so a crashed deploy never blocks the next for good. */
    lock_ttl_s: z.number().int().min(10).max(86_400).default(1200),
    /** Longest a single build, upload or target command may run. */
    step_timeout_s: z.number().int().min(1).max(86_400).default(900),
  })
  .refine((s) => !(s.systemd && s.process), { message: 'give either systemd or process, not both' })
  .refine((s) => !(s.secrets && s.env && Object.keys(s.secrets).some((k) => k in s.env)), {
    message: 'a key is in both env and secrets',
  })

export type ServiceConfig = z.infer<typeof serviceSchema>

/** dstack.yaml with its `deploy:` map validated. */
export const deployFileSchema = workspaceFileSchema.extend({
  deploy: z.record(safeName, serviceSchema).default({}),
})

export interface DeployFile extends WorkspaceFile {
  deploy: Record<string, ServiceConfig>
  path: string
}

/**
 * Reads dstack.yaml and validates its `deploy:` services; problems come back as WorkspaceFileError with their lines.
 *
 * @example
 * const file = loadDeployFile('/opt/dstack.yaml')
 * Object.keys(file.deploy) // ['api', 'web']
 */
export function loadDeployFile(path: string): DeployFile {
  return loadWorkspaceFileWith(path, deployFileSchema) as DeployFile
}

/** A service with everything resolved for planning: its name, its repository directory and its artifact path. */
export interface Service extends ServiceConfig {
  name: string
  /** Absolute path of the repository it is built from. */
  repoDir: string
  /** Absolute path of the artifact after the build. */
  artifactPath: string
  /** Absolute migrations directory, when migrations are configured. */
  migrationsDir: string | null
}

/**
 * The named service of a deploy file, with its repository found: a fleet repository id (discovered under the
 * file's roots) or a directory relative to the file. Throws WorkspaceFileError for an unknown service or repository.
 *
 * @example
 * const api = resolveService(loadDeployFile('/opt/dstack.yaml'), 'api')
 * api.repoDir // '/opt/ares'
 */
export function resolveService(file: DeployFile, name: string): Service {
  const config = file.deploy[name]
  if (!config) {
    const known = Object.keys(file.deploy)
    throw new WorkspaceFileError(file.path, [
      `no service "${name}" under deploy: (${known.length ? `known: ${known.join(', ')}` : 'none is defined'})`,
    ])
  }
  const repoDir = findRepoDir(file, config.repo ?? name)
  if (!repoDir)
    throw new WorkspaceFileError(file.path, [
      `deploy.${name}.repo: "${config.repo ?? name}" is neither a repository under ${file.roots.join(', ')} nor a directory next to dstack.yaml`,
    ])
  return {
    ...config,
    name,
    repoDir,
    artifactPath: resolve(repoDir, config.artifact),
    migrationsDir: config.migrations ? resolve(repoDir, config.migrations.dir) : null,
  }
}

function findRepoDir(file: DeployFile, repo: string): string | null {
  const direct = isAbsolute(repo) ? repo : resolve(dirname(file.path), repo)
  if (existsSync(direct) && statSync(direct).isDirectory()) return direct
  const found = discoverRepos(file.roots, { depth: file.depth, ignore: file.ignore }).repos.find(
    (r) => r.id === repo || r.id.split('/').at(-1) === repo,
  )
  return found?.root ?? null
}

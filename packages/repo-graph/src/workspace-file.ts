import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { formatYamlIssue, parseYaml } from '@dstack/config'
import { findRepo } from '@dstack/git'
import { z } from 'zod'
import { DEFAULT_IGNORE } from './discover.ts'

/** The workspace file's name, looked for in the current directory and its parents. */
export const WORKSPACE_FILE = 'dstack.yaml'

const commands = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).transform((c) => [c].flat())

/** An HTTP check that a service answers after a restart. */
export const healthCheckSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/ }),
  /** Expected status; default: any 2xx or 3xx. */
  status: z.number().int().min(100).max(599).optional(),
  /** Text the body must contain. */
  body: z.string().optional(),
  /** Per attempt; default 2000. */
  timeout_ms: z.number().int().positive().max(600_000).default(2000),
  /** Attempts after the first, with backoff (0.25 s doubling, at most 2 s apart); default 5. */
  retries: z.number().int().min(0).max(100).default(5),
})

const serviceSchema = z.strictObject({
  name: z.string().min(1),
  /** The command that restarts it (`sudo systemctl restart ares`). */
  restart: z.string().min(1),
  health: healthCheckSchema.optional(),
})

const repoEntrySchema = z.strictObject({
  /** Run in the repository, in order, when it or something it depends on changed. */
  build: commands.optional(),
  /** Services this repository runs; restarted after every build, in dependency order. */
  services: z.array(serviceSchema).default([]),
  /** Run after all restarts: smoke tests that prove the repository still works (`./scripts/smoke.sh`). */
  verify: commands.optional(),
})

/**
 * dstack.yaml: where the fleet is (roots, relative to the file) and how each repository is built, restarted and
 * verified. Every key is optional.
 *
 * @example
 * workspaceFileSchema.parse({ roots: ['.'], repos: { ares: { build: 'cargo build --release' } } })
 */
export const workspaceFileSchema = z.strictObject({
  roots: z.array(z.string().min(1)).min(1).default(['.']),
  depth: z.number().int().min(0).max(32).default(3),
  ignore: z.array(z.string().min(1)).default(DEFAULT_IGNORE),
  repos: z.record(z.string().min(1), repoEntrySchema).default({}),
  /** Services and how to deploy them: validated by @dstack/deploy, which extends this schema. */
  deploy: z.record(z.string().min(1), z.unknown()).default({}),
})

export type HealthCheck = z.infer<typeof healthCheckSchema>
export type RepoEntry = z.infer<typeof repoEntrySchema>

export interface WorkspaceFile extends z.infer<typeof workspaceFileSchema> {
  /** The file read; null for the defaults used when there is none. */
  path: string | null
}

/** dstack.yaml is not valid; each problem names its line and key. */
export class WorkspaceFileError extends Error {
  readonly file: string
  readonly problems: string[]

  constructor(file: string, problems: string[]) {
    super(`${file}: ${problems.join('; ')}`)
    this.file = file
    this.problems = problems
    this.name = 'WorkspaceFileError'
  }
}

/**
 * The nearest dstack.yaml in `from` or a parent directory, or null.
 *
 * @example
 * findWorkspaceFile('/opt/ares/src') // '/opt/dstack.yaml'
 */
export function findWorkspaceFile(from: string): string | null {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    const file = join(dir, WORKSPACE_FILE)
    if (existsSync(file)) return file
    if (dirname(dir) === dir) return null
  }
}

/**
 * Reads and validates a dstack.yaml; roots come back absolute (relative ones are taken from the file's directory).
 * Throws WorkspaceFileError naming each bad line.
 *
 * @example
 * const ws = loadWorkspaceFile('/opt/dstack.yaml')
 * ws.roots // ['/opt']
 * ws.repos.ares.build // ['cargo build --release']
 */
export function loadWorkspaceFile(path: string): WorkspaceFile {
  return loadWorkspaceFileWith(path, workspaceFileSchema)
}

/**
 * loadWorkspaceFile with a schema that extends workspaceFileSchema (a package that owns a key of dstack.yaml, as
 * @dstack/deploy owns `deploy`), so its problems are reported with their lines like the rest.
 *
 * @example
 * const ws = loadWorkspaceFileWith('/opt/dstack.yaml', workspaceFileSchema.extend({ deploy: servicesSchema }))
 */
export function loadWorkspaceFileWith<S extends typeof workspaceFileSchema | WorkspaceSchemaExtension>(
  path: string,
  schema: S,
): z.infer<S> & { path: string } {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new WorkspaceFileError(path, [(error as Error).message])
  }
  const result = parseYaml(text, schema)
  if (!result.ok) throw new WorkspaceFileError(path, result.issues.map(formatYamlIssue))
  const dir = dirname(resolve(path))
  const value = result.value as z.infer<S>
  return { ...value, roots: value.roots.map((r: string) => resolve(dir, r)), path: resolve(path) }
}

/** A schema made by `workspaceFileSchema.extend(…)`. */
export type WorkspaceSchemaExtension = z.ZodType<z.infer<typeof workspaceFileSchema>>

/**
 * The workspace for `cwd`: the nearest dstack.yaml; without one, the defaults rooted at the directory that holds
 * the current repository and its siblings (`/opt` from `/opt/ares/src`), or at `cwd` outside any repository.
 *
 * @example
 * resolveWorkspace('/opt/ares/src').roots // ['/opt']
 */
export function resolveWorkspace(cwd: string): WorkspaceFile {
  const file = findWorkspaceFile(cwd)
  if (file) return loadWorkspaceFile(file)
  const repo = findRepo(cwd)
  const root = repo ? dirname(repo.root) : resolve(cwd)
  return { ...workspaceFileSchema.parse({}), roots: [root], path: null }
}

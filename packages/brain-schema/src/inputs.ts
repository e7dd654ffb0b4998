import { agentHandle } from '@dstack/config'
import type { Insertable } from 'kysely'
import { z } from 'zod'
import type { Database } from './database.generated.ts'
import { BrainError } from './errors.ts'
import { MAX_HANDOFF_FILES } from './outbox/append.ts'

// Validation at the boundary, mirroring the SQL checks so bad input is refused with a readable message before it
// reaches the database (whose constraints stay as the last line of defence).

export { agentHandle }

const id = z.uuid()
const title = z.string().trim().min(1).max(300)

/** A path relative to the repository root, with forward slashes. */
export const repoPath = z
  .string()
  .min(1)
  .max(4096)
  .refine((path) => !path.startsWith('/'), 'must be relative to the repository root')
  .refine((path) => !path.split('/').includes('..'), 'must stay inside the repository (no ..)')

export const featureName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._/-]{0,99}$/, 'a feature name is lowercase, e.g. auth, billing/invoices')

/** [first_line, last_line] of a changed region, 1-based and inclusive. */
export const hunk = z
  .tuple([z.number().int().min(1), z.number().int().min(1)])
  .refine(([first, last]) => first <= last, 'a hunk is [first_line, last_line] with first <= last')

export const knowledgeState = z.enum(['CONFIRMED', 'INFERRED', 'UNCERTAIN', 'UNKNOWN'])

/** A memory workspace name. */
export const workspaceName = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/,
    'a workspace is 1-128 letters, digits, dots, underscores or dashes',
  )

/** How a deploy ended (`dstack deploy`): mirrors the check on dstack.deploys.outcome. */
export const deployOutcome = z.enum(['deployed', 'rolled-back', 'aborted', 'failed', 'refused'])

/** The most steps one deploy records: a runaway caller cannot write megabytes into the log. */
export const MAX_DEPLOY_STEPS = 500

/** One step of a deploy as stored in dstack.deploys.steps. */
export const deployStep = z.strictObject({
  id: z.string().min(1).max(100),
  status: z.string().min(1).max(50),
  duration_ms: z.number().int().min(0).max(2_147_483_647),
})

const link = <A extends string, B extends string>(a: A, b: B) =>
  z.strictObject({ [a]: id, [b]: id } as { [K in A | B]: typeof id })

/**
 * zod schemas for what callers write into each table. Tables written only by triggers (decision_versions,
 * decision_counters) have none. jsonb fields take values here; operations serialise them.
 *
 * @example
 * const agent = inputSchemas.agents.parse({ id: 'alice', display_name: 'Alice' })
 */
export const inputSchemas = {
  agents: z.strictObject({
    id: agentHandle,
    display_name: z.string().trim().min(1).max(200),
    email: z.email().nullish(),
  }),
  repos: z.strictObject({
    canonical: z.string().trim().min(1).max(500),
    default_branch: z.string().min(1).max(255).optional(),
  }),
  features: z.strictObject({ repo_id: id, name: featureName, description: z.string().max(2000).nullish() }),
  files: z.strictObject({ repo_id: id, path: repoPath }),
  branches: z.strictObject({
    repo_id: id,
    name: z.string().min(1).max(255),
    base: z.string().min(1).max(255).optional(),
  }),
  intents: z.strictObject({
    id: id.optional(),
    agent_id: agentHandle,
    repo_id: id,
    branch_id: id.nullish(),
    session_id: z.string().max(200).nullish(),
    title,
    body: z.string().max(20_000).nullish(),
    promises: z.string().max(5_000).nullish(),
    not_touching: z.array(repoPath).max(500).optional(),
    status: z.enum(['active', 'paused', 'shipped', 'abandoned']).optional(),
    inferred: z.boolean().optional(),
    pr_url: z.url().nullish(),
  }),
  edits: z.strictObject({
    id: id.optional(),
    agent_id: agentHandle,
    repo_id: id,
    file_id: id,
    intent_id: id.nullish(),
    branch_id: id.nullish(),
    session_id: z.string().max(200).nullish(),
    op: z.enum(['edit', 'write', 'create', 'delete', 'rename', 'notebook']),
    tool: z.string().max(100).nullish(),
    summary: z.string().max(2_000).nullish(),
    hunks: z.array(hunk).max(10_000).optional(),
  }),
  decisions: z.strictObject({
    id: id.optional(),
    repo_id: id,
    number: z.number().int().positive().optional(),
    title,
    body: z.string().min(1).max(100_000),
    status: z.enum(['proposed', 'accepted', 'superseded', 'deprecated']).optional(),
    superseded_by: id.nullish(),
    authored_by: agentHandle,
    updated_by: agentHandle.nullish(),
    source: z.enum(['manual', 'infer', 'import']).optional(),
  }),
  decision_events: z.strictObject({
    id: id.optional(),
    decision_id: id,
    agent_id: agentHandle,
    kind: z.enum([
      'authored',
      'revised',
      'status_changed',
      'superseded',
      'supersedes',
      'linked',
      'evidence',
      'comment',
    ]),
    summary: z.string().trim().min(1).max(2_000),
    detail: z.record(z.string(), z.json()).optional(),
    source: z.string().max(500).nullish(),
    occurred_at: z.date().optional(),
  }),
  handoffs: z.strictObject({
    id: id.optional(),
    repo_id: id,
    intent_id: id.nullish(),
    from_agent: agentHandle,
    to_agent: agentHandle.nullish(),
    session_id: z.string().max(200).nullish(),
    branch_name: z.string().max(255).nullish(),
    note: z.string().trim().min(1).max(20_000),
    blocker: z.string().max(5_000).nullish(),
    next_step: z.string().max(5_000).nullish(),
    uncommitted_files: z.array(repoPath).max(MAX_HANDOFF_FILES).optional(),
    status: z.enum(['open', 'picked_up', 'resolved', 'expired']).optional(),
    auto_generated: z.boolean().optional(),
  }),
  presence: z.strictObject({
    agent_id: agentHandle,
    session_id: z.string().min(1).max(200),
    repo_id: id,
    branch_name: z.string().max(255).nullish(),
    intent_id: id.nullish(),
    status: z.enum(['planning', 'coding', 'reviewing', 'shipping', 'browsing', 'idle', 'away']).optional(),
    active_files: z.array(repoPath).max(1_000).optional(),
    machine: z.string().max(200).nullish(),
  }),
  pushes: z.strictObject({
    id: id.optional(),
    agent_id: agentHandle,
    repo_id: id,
    branch_id: id.nullish(),
    session_id: z.string().max(200).nullish(),
    head_sha: z
      .string()
      .regex(/^[0-9a-f]{7,64}$/)
      .nullish(),
    remote: z.string().max(500).nullish(),
    pushed_at: z.date().optional(),
  }),
  deploys: z.strictObject({
    id: id.optional(),
    agent_id: agentHandle,
    repo_id: id.nullish(),
    service: z.string().trim().min(1).max(200),
    target: z.string().min(1).max(500),
    release: z.string().min(1).max(200),
    previous_release: z.string().min(1).max(200).nullish(),
    outcome: deployOutcome,
    reason: z.string().max(20_000).nullish(),
    duration_ms: z.number().int().min(0).max(2_147_483_647),
    steps: z.array(deployStep).max(MAX_DEPLOY_STEPS).optional(),
    started_at: z.date(),
    finished_at: z.date().optional(),
  }),
  memories: z.strictObject({
    workspace: workspaceName,
    key: z.string().min(1).max(1024),
    value: z.json(),
    state: knowledgeState,
    confidence: z.number().min(0).max(1).optional(),
    agent_id: agentHandle.nullish(),
    session_id: z.string().max(200).nullish(),
    repo: z.string().max(500).nullish(),
    branch: z.string().max(255).nullish(),
    commit_sha: z
      .string()
      .regex(/^[0-9a-f]{7,64}$/)
      .nullish(),
    source: z.string().max(500).nullish(),
    supersedes: z.string().max(1024).nullish(),
    expires_at: z.date().nullish(),
  }),
  file_features: link('file_id', 'feature_id'),
  decision_features: link('decision_id', 'feature_id'),
  decision_files: link('decision_id', 'file_id'),
  intent_features: link('intent_id', 'feature_id'),
  intent_decisions: link('intent_id', 'decision_id'),
} as const

export type InputTable = keyof typeof inputSchemas
export type Input<T extends InputTable> = z.infer<(typeof inputSchemas)[T]>

// Compile-time check: every input field is a column of its table (catches renames and typos).
type FieldsAreColumns<I, T> = [Exclude<keyof I, keyof T>] extends [never] ? true : false
export const inputSchemasMatchColumns: {
  [T in InputTable]: FieldsAreColumns<Input<T>, Insertable<Database[T]>>
} = {
  agents: true,
  repos: true,
  features: true,
  files: true,
  branches: true,
  intents: true,
  edits: true,
  decisions: true,
  decision_events: true,
  handoffs: true,
  presence: true,
  pushes: true,
  deploys: true,
  memories: true,
  file_features: true,
  decision_features: true,
  decision_files: true,
  intent_features: true,
  intent_decisions: true,
}

/** Input that failed validation: nothing was written. */
export class InvalidInputError extends BrainError {
  readonly issues: z.core.$ZodIssue[]

  constructor(what: string, issues: z.core.$ZodIssue[]) {
    super(
      'INVALID_INPUT',
      `invalid ${what}: ${issues.map((issue) => `${issue.path.join('.') || 'value'}: ${issue.message}`).join('; ')}`,
    )
    this.issues = issues
  }
}

/**
 * Validates input for a table, throwing InvalidInputError with every problem listed.
 *
 * @example
 * parseInput('agents', { id: 'Alice!', display_name: '' }) // throws: invalid agents input: id: an agent handle is ...
 */
export function parseInput<T extends InputTable>(table: T, value: unknown): Input<T> {
  const result = inputSchemas[table].safeParse(value)
  if (!result.success) throw new InvalidInputError(`${table} input`, result.error.issues)
  return result.data as Input<T>
}

// Generated from the live brain schema by `pnpm --filter @dstack/brain-schema gen:types`. Do not edit.
// test/schema-types.test.ts regenerates it on PGlite and on Postgres and fails if it differs.

import type { ColumnType, Generated, GeneratedAlways, Selectable } from 'kysely'
import { z } from 'zod'

/** A jsonb value as read; write jsonb columns as JSON text (JSON.stringify). */
export type JsonValue = z.infer<ReturnType<typeof z.json>>

export interface ActiveIntentsView {
  id: string | null
  agent_id: string | null
  display_name: string | null
  repo_id: string | null
  repo: string | null
  branch_id: string | null
  branch_name: string | null
  session_id: string | null
  title: string | null
  body: string | null
  promises: string | null
  not_touching: string[] | null
  status: string | null
  inferred: boolean | null
  created_at: Date | null
  updated_at: Date | null
}

export interface AgentsTable {
  id: string
  display_name: string
  email: string | null
  created_at: ColumnType<Date, Date | string | undefined, Date | string>
}

export interface BranchesTable {
  id: Generated<string>
  repo_id: string
  name: string
  base: Generated<string>
  created_at: ColumnType<Date, Date | string | undefined, Date | string>
}

export interface DecisionCountersTable {
  repo_id: string
  last_number: number
}

export interface DecisionEventsTable {
  id: Generated<string>
  decision_id: string
  agent_id: string
  kind: 'authored' | 'revised' | 'status_changed' | 'superseded' | 'supersedes' | 'linked' | 'evidence' | 'comment'
  summary: string
  detail: ColumnType<JsonValue, string | undefined, string>
  source: string | null
  occurred_at: ColumnType<Date, Date | string | undefined, Date | string>
  created_at: ColumnType<Date, Date | string | undefined, Date | string>
}

export interface DecisionFeaturesTable {
  decision_id: string
  feature_id: string
  created_at: ColumnType<Date, Date | string | undefined, Date | string>
}

export interface DecisionFilesTable {
  decision_id: string
  file_id: string
  created_at: ColumnType<Date, Date | string | undefined, Date | string>
}

export interface DecisionVersionsTable {
  decision_id: string
  version: number
  title: string
  body: string
  status: string
  superseded_by: string | null
  written_by: string | null
  written_at: ColumnType<Date, Date | string, Date | string>
  snapshot_at: ColumnType<Date, Date | string | undefined, Date | string>
}

export interface DecisionsTable {
  id: Generated<string>
  repo_id: string
  number: Generated<number>
  title: string
  body: string
  status: Generated<'proposed' | 'accepted' | 'superseded' | 'deprecated'>
  superseded_by: string | null
  authored_by: string
  updated_by: string | null
  source: Generated<'manual' | 'infer' | 'import'>
  version: Generated<number>
  created_at: ColumnType<Date, Date | string | undefined, Date | string>
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>
  search: GeneratedAlways<string | null>
}

export interface DecisionsByFeatureView {
  feature_id: string | null
  repo_id: string | null
  feature_name: string | null
  decision_id: string | null
  number: number | null
  title: string | null
  status: string | null
  version: number | null
  created_at: Date | null
  updated_at: Date | null
}

export interface DeploysTable {
  id: Generated<string>
  agent_id: string
  repo_id: string | null
  service: string
  target: string
  release: string
  previous_release: string | null
  outcome: 'deployed' | 'rolled-back' | 'aborted' | 'failed' | 'refused'
  reason: string | null
  duration_ms: number
  steps: ColumnType<JsonValue, string | undefined, string>
  started_at: ColumnType<Date, Date | string, Date | string>
  finished_at: ColumnType<Date, Date | string | undefined, Date | string>
}

export interface EditsTable {
  id: Generated<string>
  agent_id: string
  repo_id: string
  file_id: string
  intent_id: string | null
  branch_id: string | null
  session_id: string | null
  op: 'edit' | 'write' | 'create' | 'delete' | 'rename' | 'notebook'
  tool: string | null
  summary: string | null
  hunks: ColumnType<JsonValue, string | undefined, string>
  created_at: ColumnType<Date, Date | string | undefined, Date | string>
}

export interface FeaturesTable {
  id: Generated<string>
  repo_id: string
  name: string
  description: string | null
  created_at: ColumnType<Date, Date | string | undefined, Date | string>
}

export interface FileFeaturesTable {
  file_id: string
  feature_id: string
  created_at: ColumnType<Date, Date | string | undefined, Date | string>
}

export interface FileIntentsView {
  file_id: string | null
  repo_id: string | null
  path: string | null
  intent_id: string | null
  agent_id: string | null
  intent_title: string | null
  intent_status: string | null
  edit_count: number | null
  last_edit_at: Date | null
}

export interface FilesTable {
  id: Generated<string>
  repo_id: string
  path: string
  last_seen_at: ColumnType<Date, Date | string | undefined, Date | string>
}

export interface HandoffsTable {
  id: Generated<string>
  repo_id: string
  intent_id: string | null
  from_agent: string
  to_agent: string | null
  session_id: string | null
  branch_name: string | null
  note: string
  blocker: string | null
  next_step: string | null
  uncommitted_files: Generated<string[]>
  status: Generated<'open' | 'picked_up' | 'resolved' | 'expired'>
  auto_generated: Generated<boolean>
  created_at: ColumnType<Date, Date | string | undefined, Date | string>
  picked_up_at: ColumnType<Date | null, Date | string | null, Date | string | null>
  picked_up_by: string | null
  resolved_at: ColumnType<Date | null, Date | string | null, Date | string | null>
  resolved_by: string | null
  search: GeneratedAlways<string | null>
}

export interface IntentDecisionsTable {
  intent_id: string
  decision_id: string
  created_at: ColumnType<Date, Date | string | undefined, Date | string>
}

export interface IntentFeaturesTable {
  intent_id: string
  feature_id: string
  created_at: ColumnType<Date, Date | string | undefined, Date | string>
}

export interface IntentsTable {
  id: Generated<string>
  agent_id: string
  repo_id: string
  branch_id: string | null
  session_id: string | null
  title: string
  body: string | null
  promises: string | null
  not_touching: Generated<string[]>
  status: Generated<'active' | 'paused' | 'shipped' | 'abandoned'>
  inferred: Generated<boolean>
  pr_url: string | null
  created_at: ColumnType<Date, Date | string | undefined, Date | string>
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>
  shipped_at: ColumnType<Date | null, Date | string | null, Date | string | null>
  search: GeneratedAlways<string | null>
}

export interface LivePresenceView {
  agent_id: string | null
  display_name: string | null
  session_id: string | null
  repo_id: string | null
  repo: string | null
  branch_name: string | null
  intent_id: string | null
  intent_title: string | null
  status: string | null
  active_files: string[] | null
  machine: string | null
  started_at: Date | null
  last_heartbeat: Date | null
  heartbeat_age_seconds: number | null
}

export interface MemoriesTable {
  workspace: string
  key: string
  value: ColumnType<JsonValue, string, string>
  state: 'CONFIRMED' | 'INFERRED' | 'UNCERTAIN' | 'UNKNOWN'
  confidence: Generated<number>
  agent_id: string | null
  session_id: string | null
  repo: string | null
  branch: string | null
  commit_sha: string | null
  source: string | null
  supersedes: string | null
  expires_at: ColumnType<Date | null, Date | string | null, Date | string | null>
  created_at: ColumnType<Date, Date | string | undefined, Date | string>
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>
  search: GeneratedAlways<string | null>
}

export interface PresenceTable {
  agent_id: string
  session_id: string
  repo_id: string
  branch_name: string | null
  intent_id: string | null
  status: Generated<'planning' | 'coding' | 'reviewing' | 'shipping' | 'browsing' | 'idle' | 'away'>
  active_files: Generated<string[]>
  machine: string | null
  started_at: ColumnType<Date, Date | string | undefined, Date | string>
  last_heartbeat: ColumnType<Date, Date | string | undefined, Date | string>
}

export interface PushesTable {
  id: Generated<string>
  agent_id: string
  repo_id: string
  branch_id: string | null
  session_id: string | null
  head_sha: string | null
  remote: string | null
  pushed_at: ColumnType<Date, Date | string | undefined, Date | string>
}

export interface ReposTable {
  id: Generated<string>
  canonical: string
  default_branch: Generated<string>
  created_at: ColumnType<Date, Date | string | undefined, Date | string>
}

export interface Database {
  active_intents: ActiveIntentsView
  agents: AgentsTable
  branches: BranchesTable
  decision_counters: DecisionCountersTable
  decision_events: DecisionEventsTable
  decision_features: DecisionFeaturesTable
  decision_files: DecisionFilesTable
  decision_versions: DecisionVersionsTable
  decisions: DecisionsTable
  decisions_by_feature: DecisionsByFeatureView
  deploys: DeploysTable
  edits: EditsTable
  features: FeaturesTable
  file_features: FileFeaturesTable
  file_intents: FileIntentsView
  files: FilesTable
  handoffs: HandoffsTable
  intent_decisions: IntentDecisionsTable
  intent_features: IntentFeaturesTable
  intents: IntentsTable
  live_presence: LivePresenceView
  memories: MemoriesTable
  presence: PresenceTable
  pushes: PushesTable
  repos: ReposTable
}

/** zod schemas of rows as `pg` returns them, one per table and view. */
export const rowSchemas = {
  active_intents: z.object({
    id: z.guid().nullable(),
    agent_id: z.string().nullable(),
    display_name: z.string().nullable(),
    repo_id: z.guid().nullable(),
    repo: z.string().nullable(),
    branch_id: z.guid().nullable(),
    branch_name: z.string().nullable(),
    session_id: z.string().nullable(),
    title: z.string().nullable(),
    body: z.string().nullable(),
    promises: z.string().nullable(),
    not_touching: z.array(z.string()).nullable(),
    status: z.string().nullable(),
    inferred: z.boolean().nullable(),
    created_at: z.date().nullable(),
    updated_at: z.date().nullable(),
  }),
  agents: z.object({
    id: z.string(),
    display_name: z.string(),
    email: z.string().nullable(),
    created_at: z.date(),
  }),
  branches: z.object({
    id: z.guid(),
    repo_id: z.guid(),
    name: z.string(),
    base: z.string(),
    created_at: z.date(),
  }),
  decision_counters: z.object({
    repo_id: z.guid(),
    last_number: z.number().int(),
  }),
  decision_events: z.object({
    id: z.guid(),
    decision_id: z.guid(),
    agent_id: z.string(),
    kind: z.enum(['authored', 'revised', 'status_changed', 'superseded', 'supersedes', 'linked', 'evidence', 'comment']),
    summary: z.string(),
    detail: z.json(),
    source: z.string().nullable(),
    occurred_at: z.date(),
    created_at: z.date(),
  }),
  decision_features: z.object({
    decision_id: z.guid(),
    feature_id: z.guid(),
    created_at: z.date(),
  }),
  decision_files: z.object({
    decision_id: z.guid(),
    file_id: z.guid(),
    created_at: z.date(),
  }),
  decision_versions: z.object({
    decision_id: z.guid(),
    version: z.number().int(),
    title: z.string(),
    body: z.string(),
    status: z.string(),
    superseded_by: z.guid().nullable(),
    written_by: z.string().nullable(),
    written_at: z.date(),
    snapshot_at: z.date(),
  }),
  decisions: z.object({
    id: z.guid(),
    repo_id: z.guid(),
    number: z.number().int(),
    title: z.string(),
    body: z.string(),
    status: z.enum(['proposed', 'accepted', 'superseded', 'deprecated']),
    superseded_by: z.guid().nullable(),
    authored_by: z.string(),
    updated_by: z.string().nullable(),
    source: z.enum(['manual', 'infer', 'import']),
    version: z.number().int(),
    created_at: z.date(),
    updated_at: z.date(),
    search: z.string().nullable(),
  }),
  decisions_by_feature: z.object({
    feature_id: z.guid().nullable(),
    repo_id: z.guid().nullable(),
    feature_name: z.string().nullable(),
    decision_id: z.guid().nullable(),
    number: z.number().int().nullable(),
    title: z.string().nullable(),
    status: z.string().nullable(),
    version: z.number().int().nullable(),
    created_at: z.date().nullable(),
    updated_at: z.date().nullable(),
  }),
  deploys: z.object({
    id: z.guid(),
    agent_id: z.string(),
    repo_id: z.guid().nullable(),
    service: z.string(),
    target: z.string(),
    release: z.string(),
    previous_release: z.string().nullable(),
    outcome: z.enum(['deployed', 'rolled-back', 'aborted', 'failed', 'refused']),
    reason: z.string().nullable(),
    duration_ms: z.number().int(),
    steps: z.json(),
    started_at: z.date(),
    finished_at: z.date(),
  }),
  edits: z.object({
    id: z.guid(),
    agent_id: z.string(),
    repo_id: z.guid(),
    file_id: z.guid(),
    intent_id: z.guid().nullable(),
    branch_id: z.guid().nullable(),
    session_id: z.string().nullable(),
    op: z.enum(['edit', 'write', 'create', 'delete', 'rename', 'notebook']),
    tool: z.string().nullable(),
    summary: z.string().nullable(),
    hunks: z.json(),
    created_at: z.date(),
  }),
  features: z.object({
    id: z.guid(),
    repo_id: z.guid(),
    name: z.string(),
    description: z.string().nullable(),
    created_at: z.date(),
  }),
  file_features: z.object({
    file_id: z.guid(),
    feature_id: z.guid(),
    created_at: z.date(),
  }),
  file_intents: z.object({
    file_id: z.guid().nullable(),
    repo_id: z.guid().nullable(),
    path: z.string().nullable(),
    intent_id: z.guid().nullable(),
    agent_id: z.string().nullable(),
    intent_title: z.string().nullable(),
    intent_status: z.string().nullable(),
    edit_count: z.number().int().nullable(),
    last_edit_at: z.date().nullable(),
  }),
  files: z.object({
    id: z.guid(),
    repo_id: z.guid(),
    path: z.string(),
    last_seen_at: z.date(),
  }),
  handoffs: z.object({
    id: z.guid(),
    repo_id: z.guid(),
    intent_id: z.guid().nullable(),
    from_agent: z.string(),
    to_agent: z.string().nullable(),
    session_id: z.string().nullable(),
    branch_name: z.string().nullable(),
    note: z.string(),
    blocker: z.string().nullable(),
    next_step: z.string().nullable(),
    uncommitted_files: z.array(z.string()),
    status: z.enum(['open', 'picked_up', 'resolved', 'expired']),
    auto_generated: z.boolean(),
    created_at: z.date(),
    picked_up_at: z.date().nullable(),
    picked_up_by: z.string().nullable(),
    resolved_at: z.date().nullable(),
    resolved_by: z.string().nullable(),
    search: z.string().nullable(),
  }),
  intent_decisions: z.object({
    intent_id: z.guid(),
    decision_id: z.guid(),
    created_at: z.date(),
  }),
  intent_features: z.object({
    intent_id: z.guid(),
    feature_id: z.guid(),
    created_at: z.date(),
  }),
  intents: z.object({
    id: z.guid(),
    agent_id: z.string(),
    repo_id: z.guid(),
    branch_id: z.guid().nullable(),
    session_id: z.string().nullable(),
    title: z.string(),
    body: z.string().nullable(),
    promises: z.string().nullable(),
    not_touching: z.array(z.string()),
    status: z.enum(['active', 'paused', 'shipped', 'abandoned']),
    inferred: z.boolean(),
    pr_url: z.string().nullable(),
    created_at: z.date(),
    updated_at: z.date(),
    shipped_at: z.date().nullable(),
    search: z.string().nullable(),
  }),
  live_presence: z.object({
    agent_id: z.string().nullable(),
    display_name: z.string().nullable(),
    session_id: z.string().nullable(),
    repo_id: z.guid().nullable(),
    repo: z.string().nullable(),
    branch_name: z.string().nullable(),
    intent_id: z.guid().nullable(),
    intent_title: z.string().nullable(),
    status: z.string().nullable(),
    active_files: z.array(z.string()).nullable(),
    machine: z.string().nullable(),
    started_at: z.date().nullable(),
    last_heartbeat: z.date().nullable(),
    heartbeat_age_seconds: z.number().nullable(),
  }),
  memories: z.object({
    workspace: z.string(),
    key: z.string(),
    value: z.json(),
    state: z.enum(['CONFIRMED', 'INFERRED', 'UNCERTAIN', 'UNKNOWN']),
    confidence: z.number(),
    agent_id: z.string().nullable(),
    session_id: z.string().nullable(),
    repo: z.string().nullable(),
    branch: z.string().nullable(),
    commit_sha: z.string().nullable(),
    source: z.string().nullable(),
    supersedes: z.string().nullable(),
    expires_at: z.date().nullable(),
    created_at: z.date(),
    updated_at: z.date(),
    search: z.string().nullable(),
  }),
  presence: z.object({
    agent_id: z.string(),
    session_id: z.string(),
    repo_id: z.guid(),
    branch_name: z.string().nullable(),
    intent_id: z.guid().nullable(),
    status: z.enum(['planning', 'coding', 'reviewing', 'shipping', 'browsing', 'idle', 'away']),
    active_files: z.array(z.string()),
    machine: z.string().nullable(),
    started_at: z.date(),
    last_heartbeat: z.date(),
  }),
  pushes: z.object({
    id: z.guid(),
    agent_id: z.string(),
    repo_id: z.guid(),
    branch_id: z.guid().nullable(),
    session_id: z.string().nullable(),
    head_sha: z.string().nullable(),
    remote: z.string().nullable(),
    pushed_at: z.date(),
  }),
  repos: z.object({
    id: z.guid(),
    canonical: z.string(),
    default_branch: z.string(),
    created_at: z.date(),
  }),
} as const

/** The row type of a table or view. */
export type Row<T extends keyof Database> = Selectable<Database[T]>

// Compile-time proof that the zod row schemas and the kysely types describe the same rows.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
export const rowSchemasMatchTypes: {
  [T in keyof Database]: Same<z.infer<(typeof rowSchemas)[T]>, Row<T>>
} = {
  active_intents: true,
  agents: true,
  branches: true,
  decision_counters: true,
  decision_events: true,
  decision_features: true,
  decision_files: true,
  decision_versions: true,
  decisions: true,
  decisions_by_feature: true,
  deploys: true,
  edits: true,
  features: true,
  file_features: true,
  file_intents: true,
  files: true,
  handoffs: true,
  intent_decisions: true,
  intent_features: true,
  intents: true,
  live_presence: true,
  memories: true,
  presence: true,
  pushes: true,
  repos: true,
}

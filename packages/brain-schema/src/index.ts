// @dstack/brain-schema: the team brain's schema, drivers, migrations and typed operations.

export { introspectSchema, type LiveColumn, renderDatabaseModule } from './codegen.ts'
export {
  type BrainConfig,
  brainConfigSchema,
  type EmbeddedBrainConfig,
  embeddedBrainConfigSchema,
  type PostgresBrainConfig,
  postgresBrainConfigSchema,
  redactUrl,
} from './config.ts'
export type * from './database.generated.ts'
export { rowSchemas } from './database.generated.ts'
export { type BrainDriver, driverFor, embeddedDriver, postgresDriver } from './drivers.ts'
export {
  type EmbeddedLocation,
  type EmbeddedServerInfo,
  type EmbeddedServerStatus,
  type EnsureEmbeddedOptions,
  embeddedServerStatus,
  ensureEmbeddedServer,
  socketAccepts,
  stopEmbeddedServer,
} from './embedded/launcher.ts'
export { type EmbeddedPaths, embeddedPaths, type ServerState } from './embedded/paths.ts'
export {
  AppendOnlyError,
  BrainError,
  BrainUnavailableError,
  KnowledgeConflictError,
  NotFoundError,
  SchemaNotReadyError,
  StateConflictError,
  translateError,
} from './errors.ts'
export { type Check, type CheckStatus, checkAgent, checkSchema, diagnoseBrain } from './health.ts'
export {
  agentHandle,
  deployOutcome,
  deployStep,
  featureName,
  hunk,
  type Input,
  type InputTable,
  InvalidInputError,
  inputSchemas,
  knowledgeState,
  MAX_DEPLOY_STEPS,
  parseInput,
  repoPath,
  workspaceName,
} from './inputs.ts'
export {
  bundledMigrationsDir,
  loadMigrations,
  type Migration,
  migrationChecksum,
} from './migrate/migrations.ts'
export {
  type AppliedMigration,
  assertSchemaReady,
  type MigrateResult,
  type MigrationPlan,
  ModifiedMigrationError,
  migrate,
  migrationStatus,
} from './migrate/runner.ts'
export { type Brain, type OpenBrainOptions, openBrain } from './open-brain.ts'
export {
  type Decision,
  type DecisionDetail,
  type DecisionEvent,
  type DecisionHit,
  type DecisionVersion,
  getDecision,
  searchDecisions,
  supersedeDecision,
  updateDecision,
  updateDecisionSchema,
  writeDecision,
  writeDecisionSchema,
} from './ops/decisions.ts'
export {
  type Deploy,
  type DeployScope,
  type LogDeployInput,
  listDeploys,
  listDeploysSchema,
  logDeploy,
  logDeploySchema,
} from './ops/deploys.ts'
export {
  DIGEST_DEFAULT_CHARS,
  DIGEST_MAX_CHARS,
  renderDigest,
  type TeamDigest,
  teamDigest,
} from './ops/digest.ts'
export {
  featureForPath,
  type LoggedEdit,
  logEdit,
  logEditSchema,
  recordPush,
  recordPushSchema,
} from './ops/edits.ts'
export { searchMatch, searchRank, searchTerms } from './ops/fulltext.ts'
export {
  autoHandoff,
  type Handoff,
  listHandoffs,
  type PickedUpHandoff,
  pickupHandoff,
  stableUuid,
  writeHandoff,
  writeHandoffSchema,
} from './ops/handoffs.ts'
export { type AuditEvent, auditTrail, type Standup, standup, type WhyResult, why } from './ops/history.ts'
export {
  currentIntent,
  type InferResult,
  type Intent,
  inferIntent,
  shipIntent,
  titleFromPrompt,
  writeIntent,
  writeIntentSchema,
} from './ops/intents.ts'
export {
  deleteMemory,
  getMemoryRow,
  loadMemoryRows,
  type MemoryRow,
  type MemoryRowInput,
  type MemorySearchOptions,
  searchMemoryRows,
  upsertMemory,
} from './ops/memories.ts'
export {
  conflictPrecheck,
  type OutgoingFile,
  type Overlap,
  type PrecheckResult,
} from './ops/precheck.ts'
export { heartbeat, type LivePresence, leave, livePresence, presenceStatus } from './ops/presence.ts'
export {
  ensureBranch,
  ensureFeature,
  ensureFile,
  ensureRepo,
  expireStalePresence,
  nextDecisionNumber,
  registerAgent,
} from './ops/registry.ts'
export { recordSampleActivity, SAMPLE_REPO, type SampleActivity } from './ops/sample.ts'
export {
  type Db,
  findRepoId,
  inTransaction,
  type ResolvedScope,
  resolveScope,
  type Scope,
  scopeSchema,
} from './ops/scope.ts'
export { type BrainSummary, brainSummary } from './ops/summary.ts'
export {
  appendToOutbox,
  MAX_HANDOFF_FILES,
  type NewOutboxEntry,
  type OutboxEntry,
  type OutboxRepo,
  pendingCount,
} from './outbox/append.ts'
export { type FlushOptions, type FlushResult, flushOutbox, outboxEntrySchema } from './outbox/flush.ts'
export {
  type BrainChange,
  type BrainSubscription,
  brainChangeSchema,
  listenBrain,
  REALTIME_TABLES,
  type RealtimeTable,
  type SupabaseRealtimeOptions,
  subscribeSupabase,
  type WatchOptions,
} from './realtime.ts'
export { resetBrain } from './reset.ts'
export { type BrainStatus, brainStatus } from './status.ts'
export { type BrainUpResult, brainDown, brainUp } from './up.ts'
export { BRAIN_SCHEMA_VERSION } from './version.ts'

export {
  type DeployFile,
  deployFileSchema,
  loadDeployFile,
  resolveService,
  type Service,
  type ServiceConfig,
  serviceSchema,
} from './config.ts'
export {
  closeAll,
  deployOrder,
  openServiceTargets,
  type PreparedDeploy,
  type PrepareOptions,
  prepareDeploy,
  runPrepared,
  serviceHosts,
} from './deploy.ts'
export { databaseUrl, envFileText, type ResolvedEnv, redact, resolveEnv, SecretError } from './env.ts'
export { NotFoundError, UsageError } from './errors.ts'
export {
  type BreakingChange,
  breakingChanges,
  listMigrations,
  MIGRATIONS_TABLE,
  type Migration,
  pgEnv,
} from './migrations.ts'
export {
  type DeployPlan,
  describeStep,
  type PlanOptions,
  planDeploy,
  planRollback,
  type Reached,
  type RollbackStep,
  releaseName,
  rollbackCandidate,
  type Step,
  type StepInput,
  type StepKind,
} from './plan.ts'
export { commandLine, formatPlan, formatReport } from './report.ts'
export { type DeployReport, type Outcome, type RunOptions, runDeploy, type StepRun } from './run.ts'
export { LOCKED_EXIT, MOVED_EXIT } from './scripts.ts'
export {
  forceUnlock,
  type HistoryEntry,
  historyEntrySchema,
  inspectTarget,
  serviceStatus,
  type TargetState,
} from './state.ts'
export * from './targets/index.ts'

export {
  type AuditFinding,
  type AuditOptions,
  type AuditReport,
  auditRepos,
  FINDING_KINDS,
  type FindingKind,
  testCandidates,
} from './audit.ts'
export { DEFAULT_IGNORE, type DiscoverOptions, type Discovery, discoverRepos } from './discover.ts'
export { type BranchState, type RepoState, type RepoStatesOptions, repoStates } from './git-state.ts'
export { buildGraph, defaultCacheFile, type GraphOptions } from './graph.ts'
export { findManifests, MANIFESTS, PACKAGE_MANIFEST } from './manifests/index.ts'
export type {
  DeclaredDep,
  DeclaredPackage,
  DeclaredWorkspace,
  DepSpec,
  ParsedManifest,
} from './manifests/types.ts'
export { mapPool } from './pool.ts'
export {
  type Affected,
  type AffectedPackage,
  affected,
  type ChangeSet,
  changedFiles,
  dependentRepos,
  resolveChanges,
} from './queries/affected.ts'
export { GraphIndex, where } from './queries/index-graph.ts'
export { type Cycle, type Ordering, type OrderOptions, orderPackages, orderRepos } from './queries/order.ts'
export { type WhyResult, why } from './queries/why.ts'
export {
  checkHealth,
  type Phase,
  type PlanRun,
  type PlanStep,
  planRebuild,
  type RebuildPlan,
  type RunPlanOptions,
  runPlan,
  type StepResult,
} from './rebuild.ts'
export { type GraphFormat, renderGraph } from './render.ts'
export { formatSyncLine, type SyncAction, type SyncOptions, type SyncResult, syncRepos } from './sync.ts'
export * from './types.ts'
export * from './waves/index.ts'
export {
  findWorkspaceFile,
  type HealthCheck,
  healthCheckSchema,
  loadWorkspaceFile,
  loadWorkspaceFileWith,
  type RepoEntry,
  resolveWorkspace,
  WORKSPACE_FILE,
  type WorkspaceFile,
  WorkspaceFileError,
  type WorkspaceSchemaExtension,
  workspaceFileSchema,
} from './workspace-file.ts'

export {
  BLOCK_BEGIN,
  BLOCK_END,
  companionPath,
  renderExecutionBlock,
  updateImplementationDoc,
} from './companion.ts'
export {
  type ExecuteOptions,
  type ExecutionReport,
  type ExecutorSummary,
  executePlan,
  type RealOverlap,
  type StopReason,
  type TaskReport,
  type TaskStatus,
  taskPrompt,
  type WaveEvent,
  WaveExecutionError,
  type WaveReport,
} from './execute.ts'
export {
  findOverlaps,
  isGlob,
  matchesAny,
  type OverlapOptions,
  type OverlapRule,
  type PatternOverlap,
  patternOverlap,
} from './overlap.ts'
export { type ExecutorSpec, loadPlan, type Plan, PlanError, type PlanTask, parsePlan } from './plan.ts'
export {
  type Deferral,
  type PlanWavesOptions,
  planWaves,
  trackedFiles,
  type Wave,
  type Waves,
} from './schedule.ts'

// @dstack/hooks: Claude Code hooks for the dstack team brain.

export { noteFlushOutcome, startBackgroundFlush } from './background.ts'
export {
  checkGate,
  GATE_QUESTIONS,
  type GateAnswers,
  type GateCheck,
  type GateKey,
  gateHook,
  recordGateAnswers,
  stagedTree,
} from './gate.ts'
export { gitCalls } from './git-calls.ts'
export { HOOK_EVENTS, type HookEvent, type HookInput, MAX_INPUT_BYTES, parseHookInput } from './input.ts'
export { formatOverlaps, prePush } from './pre-push.ts'
export { gitPush, type HookResult, type RunHookOptions, runHook } from './runtime.ts'
export { sessionStart } from './session-start.ts'
export {
  type CommandHandler,
  type HookSpec,
  type HooksStatus,
  hooksStatus,
  type InstallOptions,
  type InstallResult,
  installHooks,
  isDstackHandler,
  SettingsFileError,
  uninstallHooks,
} from './settings/install.ts'
export { canonicalJson } from './settings/json.ts'
export { dstackHookSpecs, EDIT_MATCHER, installLauncher, type Launcher, PLUGIN_LAUNCHER } from './specs.ts'
export {
  EDIT_TOOLS,
  type LineRange,
  mergeRanges,
  patchRanges,
  rangesOf,
  type ToolEdit,
  toolEdit,
} from './tool-edits.ts'
export {
  HOOK_FLUSH_BUDGET_MS,
  NotInRepositoryError,
  type OpenWorkspaceOptions,
  openHookWorkspace,
  openWorkspace,
  repositoryAt,
  type Workspace,
} from './workspace.ts'

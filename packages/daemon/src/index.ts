export { type WriteFileAtomicOptions, writeFileAtomic } from './atomic-file.ts'
export { IdleTimer } from './idle.ts'
export {
  type AcquireLockOptions,
  acquireLock,
  type HeldLock,
  type LockOwner,
  LockTimeoutError,
  readLockOwner,
  type TryLockResult,
  tryLock,
} from './lock.ts'
export {
  currentProcess,
  isAlive,
  type ProcessIdentity,
  processStartTime,
  type SpawnDetachedOptions,
  spawnDetached,
} from './process.ts'
export { type CommandResult, type RunCommandOptions, runCommand } from './run.ts'
export { shellQuote, singleQuote } from './shell.ts'
export { type WaitForOptions, waitFor } from './wait.ts'

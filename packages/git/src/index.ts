export {
  currentHead,
  type HeadState,
  type OutgoingChanges,
  type OutgoingCommit,
  type OutgoingOptions,
  outgoingChanges,
  uncommittedFiles,
} from './changes.ts'
export { type ConfigEntry, parseGitConfig } from './config.ts'
export { type ChangedFile, type ChangeStatus, type LineRange, parseUnifiedDiff } from './diff.ts'
export { GitError, type GitResult, type RunGitOptions, runGit } from './exec.ts'
export { canonicalRemote } from './remote.ts'
export { findRepo, type RepoIdentity, type RepoLocation, readRepoIdentity, repoRelativePath } from './repo.ts'

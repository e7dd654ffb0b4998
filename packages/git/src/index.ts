export {
  currentHead,
  type HeadState,
  type OutgoingChanges,
  type OutgoingCommit,
  type OutgoingOptions,
  outgoingChanges,
  uncommittedFiles,
  unpushedFiles,
} from './changes.ts'
export { type ConfigEntry, parseGitConfig } from './config.ts'
export { type ChangedFile, type ChangeStatus, type LineRange, parseUnifiedDiff } from './diff.ts'
export { GIT_REPO_ENV, GitError, type GitResult, type RunGitOptions, runGit, withoutRepoEnv } from './exec.ts'
export { canonicalRemote } from './remote.ts'
export { findRepo, type RepoIdentity, type RepoLocation, readRepoIdentity, repoRelativePath } from './repo.ts'

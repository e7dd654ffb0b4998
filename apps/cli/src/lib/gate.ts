import { findRepo } from '@dstack/git'
import type { DstackCommand } from './command.ts'
import { EXIT } from './exit-codes.ts'

/** The repository of the current directory, for `dstack gate`; exit 2 outside one. */
export function gateRepo(command: DstackCommand): string {
  const repo = findRepo(process.cwd())
  if (!repo)
    command.error('not inside a git repository: the gate answers for what is staged there', {
      exit: EXIT.USAGE,
    })
  return repo.root
}

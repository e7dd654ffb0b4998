import { Flags } from '@oclif/core'

/** The flags every `dstack memory` command takes. */
export const memoryFlags = {
  workspace: Flags.string({
    char: 'w',
    description:
      'the workspace (default: memory.workspace in config, else one per repository, else "personal")',
  }),
  provider: Flags.string({ options: ['file', 'brain', 'eruka'], description: 'override memory.provider' }),
  dir: Flags.string({
    description:
      "file provider: the memory directory, e.g. a repository's .dstack/memory to share it through git",
  }),
}

/** The exit codes of `dstack memory` commands, for --help. */
export const MEMORY_EXIT_HELP =
  'Exit codes: 0 done (import: conflicts and skipped lines are reported, not failed), 2 invalid key/value or a value that looks like a secret, 3 bad config, 4 memory back-end unreachable, 5 brain schema not ready, 7 not found, 8 a memory in a higher knowledge state is stored (it was kept), 9 a stored memory is corrupt (export: the backup is incomplete)'

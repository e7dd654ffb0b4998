/**
 * What `dstack` exit codes mean. Scripts and hooks can branch on them; every command documents which it uses.
 */
export const EXIT = {
  OK: 0,
  /** Unexpected failure (a bug, or an error dstack does not know). */
  ERROR: 1,
  /** Bad flags or arguments, a destructive command without --yes, not inside a git repository; also a push
   *  blocked by `dstack precheck --strict` (the same code Claude Code treats as "block"). */
  USAGE: 2,
  /** ~/.dstack/config.yaml, a DSTACK_* variable, or a dstack.yaml is invalid. */
  CONFIG: 3,
  /** The brain cannot be reached (embedded server failed to start, Postgres down, wrong URL). */
  BRAIN_UNAVAILABLE: 4,
  /** The brain's schema is not what this dstack expects (pending or modified migrations). */
  SCHEMA: 5,
  /** `dstack doctor` found at least one failing check; a `repos plan --run` step or a `repos sync` repository
   *  failed; `audit --strict` found a warning; a deploy or rollback failed (rolled back, aborted, needs a person). */
  UNHEALTHY: 6,
  /** What the command names does not exist (an ADR number, a handoff id, an intent to ship, a release to roll back
   *  to, a service's host). */
  NOT_FOUND: 7,
  /** The state changed under you: a handoff someone else picked up, a superseded decision, a memory in a higher
   *  knowledge state than the one written; a deploy refused (locked by someone else, the target changed since the
   *  plan, a breaking migration without --force). */
  CONFLICT: 8,
  /** Stored data cannot be read (a corrupt memory file); everything else still works. */
  CORRUPT: 9,
  /** Stopped by Ctrl-C or SIGTERM (128 + SIGINT, as shells report it); what had started was stopped first. */
  INTERRUPTED: 130,
} as const

export type ExitCode = (typeof EXIT)[keyof typeof EXIT]

/** The exit codes every command that reads or writes the team brain can return, for `--help` texts. */
export const BRAIN_EXIT_HELP =
  'Exit codes: 0 done, 2 bad input or not inside a git repository, 3 bad config, 4 brain unreachable, 5 schema not ready (run `dstack brain up`)'

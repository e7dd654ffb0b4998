/**
 * What `dstack` exit codes mean. Scripts and hooks can branch on them; every command documents which it uses.
 */
export const EXIT = {
  OK: 0,
  /** Unexpected failure (a bug, or an error dstack does not know). */
  ERROR: 1,
  /** Bad flags or arguments, or a destructive command without --yes. */
  USAGE: 2,
  /** ~/.dstack/config.yaml or a DSTACK_* variable is invalid. */
  CONFIG: 3,
  /** The brain cannot be reached (embedded server failed to start, Postgres down, wrong URL). */
  BRAIN_UNAVAILABLE: 4,
  /** The brain's schema is not what this dstack expects (pending or modified migrations). */
  SCHEMA: 5,
  /** `dstack doctor` found at least one failing check. */
  UNHEALTHY: 6,
} as const

export type ExitCode = (typeof EXIT)[keyof typeof EXIT]

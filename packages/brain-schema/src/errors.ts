/** Every error this package raises on purpose derives from BrainError, with a stable `code`. */
export class BrainError extends Error {
  readonly code: string

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }
}

/** The brain could not be reached (server down, wrong URL, socket missing). Nothing was written. */
export class BrainUnavailableError extends BrainError {
  constructor(message: string, options?: ErrorOptions) {
    super('BRAIN_UNAVAILABLE', message, options)
  }
}

/** The schema is missing or behind the code: run `dstack brain migrate`. */
export class SchemaNotReadyError extends BrainError {
  constructor(message: string) {
    super('SCHEMA_NOT_READY', message)
  }
}

/** The thing an operation names does not exist (a decision number, a handoff id). */
export class NotFoundError extends BrainError {
  constructor(message: string) {
    super('NOT_FOUND', message)
  }
}

/** The operation lost a race or contradicts the current state (a handoff someone else already picked up). */
export class StateConflictError extends BrainError {
  constructor(message: string) {
    super('STATE_CONFLICT', message)
  }
}

/** An update or delete on an append-only table (edits, decision timeline, decision versions). */
export class AppendOnlyError extends BrainError {
  constructor(message: string, options?: ErrorOptions) {
    super('APPEND_ONLY', message, options)
  }
}

/** A write with a lower knowledge state than the stored memory; the stored value was kept. */
export class KnowledgeConflictError extends BrainError {
  readonly stored: string
  readonly incoming: string

  constructor(message: string, stored: string, incoming: string, options?: ErrorOptions) {
    super('KNOWLEDGE_CONFLICT', message, options)
    this.stored = stored
    this.incoming = incoming
  }
}

/** Postgres error fields we read (pg's DatabaseError has them). */
interface PgErrorLike {
  code?: string
  message: string
  detail?: string
}

function isPgError(error: unknown): error is PgErrorLike {
  return error instanceof Error && typeof (error as PgErrorLike).code === 'string'
}

/**
 * Turns the schema's custom SQLSTATEs (DS001, DS409, ...) into typed errors; anything else comes back unchanged.
 *
 * @example
 * try { await db.updateTable('edits').set({ summary: 'x' }).execute() }
 * catch (e) { throw translateError(e) } // AppendOnlyError
 */
export function translateError(error: unknown): unknown {
  if (!isPgError(error)) return error
  switch (error.code) {
    case 'DS001':
      return new AppendOnlyError(error.message, { cause: error })
    case 'DS409': {
      let detail: { stored?: string; incoming?: string } = {}
      try {
        detail = JSON.parse(error.detail ?? '{}') as typeof detail
      } catch {}
      return new KnowledgeConflictError(error.message, detail.stored ?? '', detail.incoming ?? '', {
        cause: error,
      })
    }
    default:
      return error
  }
}

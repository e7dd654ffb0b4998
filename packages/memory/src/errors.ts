import type { KnowledgeState } from './types.ts'

/** Every error this package raises on purpose, with a stable `code`. */
export class MemoryError extends Error {
  readonly code: string

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }
}

/** A write with a lower knowledge state than the stored memory: nothing was written, the stored value stays. */
export class MemoryConflictError extends MemoryError {
  readonly key: string
  readonly stored: KnowledgeState
  readonly incoming: KnowledgeState

  constructor(key: string, stored: KnowledgeState, incoming: KnowledgeState) {
    super('KNOWLEDGE_CONFLICT', `memory ${key} is ${stored}: an ${incoming} write may not overwrite it`)
    this.key = key
    this.stored = stored
    this.incoming = incoming
  }
}

/** A key, workspace or value that is not valid: nothing was written. */
export class InvalidMemoryError extends MemoryError {
  constructor(message: string) {
    super('INVALID_MEMORY', message)
  }
}

/** The value looks like it holds a secret (a token, a private key): refused, nothing was written. */
export class SecretRefusedError extends MemoryError {
  readonly findings: Array<{ path: string; kind: string }>

  constructor(key: string, findings: Array<{ path: string; kind: string }>) {
    super(
      'SECRET_REFUSED',
      `memory ${key} was not stored: it looks like it holds a secret (${findings
        .map((f) => `${f.kind} at ${f.path}`)
        .join(', ')}). Store a reference to where the secret lives instead.`,
    )
    this.findings = findings
  }
}

/** A stored memory that cannot be read (a corrupt file): other memories are unaffected. */
export class CorruptMemoryError extends MemoryError {
  readonly location: string

  constructor(location: string, problem: string) {
    super('CORRUPT_MEMORY', `${location}: ${problem}`)
    this.location = location
  }
}

/** The back-end cannot be reached (server down, network). Nothing was written. */
export class MemoryUnavailableError extends MemoryError {
  constructor(message: string, options?: ErrorOptions) {
    super('MEMORY_UNAVAILABLE', message, options)
  }
}

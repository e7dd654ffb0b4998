// @dstack/memory: one MemoryProvider over readable files (default), the team brain, or Eruka.

export { memoryDigest } from './digest.ts'
export {
  CorruptMemoryError,
  InvalidMemoryError,
  MemoryConflictError,
  MemoryError,
  MemoryUnavailableError,
  SecretRefusedError,
} from './errors.ts'
export { importMemories, type MergeConflict, mergeMemories, parseJsonl, toJsonl } from './exchange.ts'
export {
  applyGc,
  DUPLICATE_SIMILARITY,
  type DuplicateGroup,
  findDuplicates,
  type GcPlan,
  planGc,
} from './hygiene.ts'
export { canonicalKey, canonicalPrefix, decodeSegment, encodeSegment, underPrefix } from './keys.ts'
export { memoryDirFor, type OpenMemoryOptions, openMemory, workspaceForRepo } from './open.ts'
export { checkWorkspace, isExpired, MAX_VALUE_BYTES, prepareWrite } from './prepare.ts'
export { BrainProvider } from './providers/brain.ts'
export { ErukaProvider } from './providers/eruka.ts'
export { FileProvider } from './providers/file.ts'
export { Bm25Index, textOf, tokenize } from './search/bm25.ts'
export { findSecrets, redactSecrets, type SecretFinding } from './secrets.ts'
export { canOverwrite, stateRank } from './state.ts'
export type {
  ImportReport,
  JsonValue,
  KnowledgeState,
  Memory,
  MemoryChange,
  MemoryProvider,
  MemoryWrite,
  Provenance,
  SearchHit,
  SearchOptions,
} from './types.ts'
export { KNOWLEDGE_STATES } from './types.ts'

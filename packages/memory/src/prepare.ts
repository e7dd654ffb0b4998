import { z } from 'zod'
import { InvalidMemoryError, MemoryConflictError, SecretRefusedError } from './errors.ts'
import { canonicalKey } from './keys.ts'
import { findSecrets } from './secrets.ts'
import { canOverwrite } from './state.ts'
import {
  type JsonValue,
  knowledgeStateSchema,
  type Memory,
  type MemoryWrite,
  provenanceSchema,
  workspaceSchema,
} from './types.ts'

/** Values above this are refused: a memory is a note, not a file store. */
export const MAX_VALUE_BYTES = 1024 * 1024

const writeSchema = z.strictObject({
  key: z.string(),
  value: z.json(),
  state: knowledgeStateSchema,
  confidence: z.number().min(0).max(1).optional(),
  provenance: provenanceSchema.optional(),
  supersedes: z.string().nullish(),
  expiresAt: z.union([z.iso.datetime({ offset: true }), z.date()]).nullish(),
  ttlSeconds: z.number().positive().optional(),
})

/**
 * Validates a workspace name; throws InvalidMemoryError.
 *
 * @example
 * checkWorkspace('acme-api') // 'acme-api'
 */
export function checkWorkspace(workspace: string): string {
  const parsed = workspaceSchema.safeParse(workspace)
  if (!parsed.success)
    throw new InvalidMemoryError(`workspace ${JSON.stringify(workspace)}: ${parsed.error.issues[0]!.message}`)
  return parsed.data
}

/**
 * Turns a caller's write into the memory to store, checking everything at the boundary: the key (canonical form),
 * the value (JSON, at most 1 MiB, no secrets), state, confidence, provenance and expiry. `existing` is the stored
 * memory at that key, if any: a lower state than its state throws MemoryConflictError; its createdAt is kept.
 *
 * @example
 * const memory = prepareWrite('acme', { key: 'api/ttl', value: 3600, state: 'CONFIRMED' }, null)
 */
export function prepareWrite(
  workspace: string,
  write: MemoryWrite,
  existing: Memory | null,
  now = new Date(),
): Memory {
  const parsed = writeSchema.safeParse(write)
  if (!parsed.success) {
    throw new InvalidMemoryError(
      `invalid memory write: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'value'}: ${i.message}`).join('; ')}`,
    )
  }
  const input = parsed.data
  const key = canonicalKey(input.key)
  const value = input.value as JsonValue
  const size = Buffer.byteLength(JSON.stringify(value))
  if (size > MAX_VALUE_BYTES) {
    throw new InvalidMemoryError(
      `memory ${key} is ${size} bytes: at most ${MAX_VALUE_BYTES} (store a pointer instead)`,
    )
  }
  // The key and the provenance are stored and shown too (a key becomes a file name): scan them like the value.
  const secrets = [
    ...findSecrets(key, 'key'),
    ...findSecrets((input.provenance ?? {}) as JsonValue, 'provenance'),
    ...findSecrets(value),
  ]
  if (secrets.length > 0) throw new SecretRefusedError(key.replace(/[^/]{24,}/g, '…'), secrets)
  if (existing && !canOverwrite(existing.state, input.state)) {
    throw new MemoryConflictError(key, existing.state, input.state)
  }
  const expiresAt =
    input.ttlSeconds !== undefined
      ? new Date(now.getTime() + input.ttlSeconds * 1000).toISOString()
      : input.expiresAt
        ? new Date(input.expiresAt).toISOString()
        : null
  const stamp = now.toISOString()
  return {
    workspace: checkWorkspace(workspace),
    key,
    value,
    state: input.state,
    confidence: input.confidence ?? 1,
    provenance: input.provenance ?? {},
    createdAt: existing?.createdAt ?? stamp,
    updatedAt: stamp,
    supersedes: input.supersedes ? canonicalKey(input.supersedes) : null,
    expiresAt,
  }
}

/**
 * Whether a memory is past its expiry at `now`.
 *
 * @example
 * isExpired(memory) // false for a memory without expiresAt
 */
export function isExpired(memory: Memory, now = Date.now()): boolean {
  return memory.expiresAt !== null && Date.parse(memory.expiresAt) <= now
}

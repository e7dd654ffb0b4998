import type { KnowledgeState } from './types.ts'

const RANK: Record<KnowledgeState, number> = { CONFIRMED: 4, INFERRED: 3, UNCERTAIN: 2, UNKNOWN: 1 }

/**
 * Whether a write in state `incoming` may replace a memory in state `stored`: only at the same or a higher rank
 * (CONFIRMED > INFERRED > UNCERTAIN > UNKNOWN). Stricter than openeruka's code, which only refuses INFERRED over
 * CONFIRMED and lets UNCERTAIN or UNKNOWN overwrite a confirmed fact.
 *
 * @example
 * canOverwrite('CONFIRMED', 'INFERRED') // false
 */
export function canOverwrite(stored: KnowledgeState, incoming: KnowledgeState): boolean {
  return RANK[incoming] >= RANK[stored]
}

/** The rank of a state, 4 (CONFIRMED) to 1 (UNKNOWN). */
export function stateRank(state: KnowledgeState): number {
  return RANK[state]
}

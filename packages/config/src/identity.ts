import { z } from 'zod'

/** A teammate handle: lowercase, the attribution key on every brain row. The one definition dstack uses. */
export const agentHandle = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9._-]{0,62}$/,
    'an agent handle is 1-63 lowercase letters, digits, dots, underscores or dashes, starting with a letter or digit',
  )

/**
 * Turns any user name into a valid handle, for a machine with no configured agent.
 *
 * @example
 * handleFromUsername('Alice Liddell') // 'alice-liddell'
 */
export function handleFromUsername(name: string): string {
  const handle = name
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, 63)
  return handle || 'agent'
}

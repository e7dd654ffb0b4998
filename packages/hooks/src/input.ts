// Reading what Claude Code sends a hook: one JSON object on stdin (never environment variables: the
// CLAUDE_TOOL_INPUT_* variables fstack relied on do not exist). Every field is optional here because parallel hooks
// have been seen to get empty stdin; a hook that cannot read its input does nothing and exits 0.
//
// This runs on every tool call, so it narrows with typeof instead of zod: importing zod costs ~35 ms, more than
// the whole process start. The outbox entries built from it are validated with zod when they are flushed.

/** The hook events dstack handles. */
export const HOOK_EVENTS = [
  'SessionStart',
  'UserPromptSubmit',
  'PreToolUse',
  'PostToolUse',
  'Stop',
  'PreCompact',
  'SessionEnd',
] as const

export type HookEvent = (typeof HOOK_EVENTS)[number]

/** The fields dstack reads, all checked for type; anything else in the payload is ignored. */
export interface HookInput {
  session_id?: string
  cwd?: string
  hook_event_name?: string
  source?: string
  prompt?: string
  tool_name?: string
  tool_input?: Record<string, unknown>
  tool_response?: unknown
  stop_hook_active?: boolean
  last_assistant_message?: string
  reason?: string
  trigger?: string
  agent_id?: string
}

/** Bigger stdin than this is not a real hook payload (a Write of a huge file is the largest, and capped by Claude). */
export const MAX_INPUT_BYTES = 64 * 1024 * 1024

const STRING_FIELDS = [
  'session_id',
  'cwd',
  'hook_event_name',
  'source',
  'prompt',
  'tool_name',
  'last_assistant_message',
  'reason',
  'trigger',
  'agent_id',
] as const

/**
 * Parses a hook's stdin. Returns null for empty, invalid or non-object input instead of throwing.
 *
 * @example
 * parseHookInput('{"session_id":"s1","tool_name":"Edit","tool_input":{"file_path":"/repo/a.ts"}}')?.tool_name // 'Edit'
 */
export function parseHookInput(text: string): HookInput | null {
  if (text.length === 0 || text.length > MAX_INPUT_BYTES) return null
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch {
    return null
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return null
  const source = raw as Record<string, unknown>
  const input: HookInput = {}
  for (const field of STRING_FIELDS) {
    const value = source[field]
    if (typeof value === 'string' && value.length > 0) input[field] = value
  }
  const toolInput = source.tool_input
  if (typeof toolInput === 'object' && toolInput !== null && !Array.isArray(toolInput)) {
    input.tool_input = toolInput as Record<string, unknown>
  }
  if ('tool_response' in source) input.tool_response = source.tool_response
  if (typeof source.stop_hook_active === 'boolean') input.stop_hook_active = source.stop_hook_active
  return input
}

/** A string field of tool_input, if it is one. */
export function toolString(input: HookInput, key: string): string | undefined {
  const value = input.tool_input?.[key]
  return typeof value === 'string' ? value : undefined
}

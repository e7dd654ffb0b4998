import { PLUGIN_ROOT } from './build.ts'
import { type CliManifest, checkCommandLines } from './cli-lines.ts'
import type { Bundle, Problem } from './sources.ts'

/**
 * What the bundle adds to every session before any skill runs: the listing of model-invocable skill descriptions
 * (Claude Code shows `name: description` for each). Claude Code gives the listing 1% of the context window and drops
 * descriptions beyond it; 8,000 characters (about 2,000 tokens) fits a 200k-token window with nothing dropped.
 */
export const LISTING_BUDGET_CHARS = 8_000

/** Events whose matcher filters something, and on what; events not listed take no matcher. */
const MATCHERS: Record<string, RegExp | 'tool'> = {
  PreToolUse: 'tool',
  PostToolUse: 'tool',
  PostToolUseFailure: 'tool',
  PermissionRequest: 'tool',
  PermissionDenied: 'tool',
  SessionStart: /^(startup|resume|clear|compact|fork)(\|(startup|resume|clear|compact|fork))*$/,
  PreCompact: /^(manual|auto)(\|(manual|auto))?$/,
  PostCompact: /^(manual|auto)(\|(manual|auto))?$/,
  SessionEnd:
    /^(clear|resume|logout|prompt_input_exit|other)(\|(clear|resume|logout|prompt_input_exit|other))*$/,
  Notification: /^[a-z_*|]+$/,
  SubagentStart: /^.+$/,
  SubagentStop: /^.+$/,
}
const KNOWN_EVENTS = new Set([
  ...Object.keys(MATCHERS),
  'Setup',
  'InstructionsLoaded',
  'UserPromptSubmit',
  'UserPromptExpansion',
  'MessageDisplay',
  'PostToolBatch',
  'TaskCreated',
  'TaskCompleted',
  'Stop',
  'StopFailure',
  'TeammateIdle',
  'ConfigChange',
  'CwdChanged',
  'DirectoryAdded',
  'FileChanged',
  'WorktreeCreate',
  'WorktreeRemove',
  'Elicitation',
  'ElicitationResult',
])
const TOOL_NAME = /^[A-Za-z_][A-Za-z0-9_]*(\|[A-Za-z_][A-Za-z0-9_]*)*$/
const TOOL_EVENTS = new Set([
  'PreToolUse',
  'PostToolUse',
  'PostToolUseFailure',
  'PermissionRequest',
  'PermissionDenied',
])

/** hooks.json as Claude Code reads it. */
export interface HooksFile {
  hooks: Record<
    string,
    Array<{
      matcher?: string
      hooks: Array<{ type: string; command?: string; args?: string[]; if?: string; timeout?: number }>
    }>
  >
}

/**
 * Problems of a plugin hooks.json: unknown events, matchers on events that take none or values the event never
 * has, `if` rules outside tool events, handlers not in exec form with ${CLAUDE_PLUGIN_ROOT}.
 *
 * @example
 * validateHooks({ hooks: { SessionStart: [{ matcher: 'Bash', hooks: [] }] } })
 * // [{ path: 'hooks/hooks.json', line: 0, message: 'SessionStart matcher "Bash" is not one of its values …' }]
 */
export function validateHooks(file: HooksFile): Problem[] {
  const problems: Problem[] = []
  const say = (message: string) => problems.push({ path: 'hooks/hooks.json', line: 0, message })
  for (const [event, groups] of Object.entries(file.hooks)) {
    if (!KNOWN_EVENTS.has(event)) {
      say(`unknown event ${event}`)
      continue
    }
    for (const group of groups) {
      const rule = MATCHERS[event]
      if (group.matcher !== undefined && group.matcher !== '' && group.matcher !== '*') {
        if (!rule) say(`${event} takes no matcher (Claude Code would silently ignore "${group.matcher}")`)
        else if (rule === 'tool' ? !TOOL_NAME.test(group.matcher) : !rule.test(group.matcher))
          say(`${event} matcher "${group.matcher}" is not one of its values`)
      }
      for (const handler of group.hooks) {
        if (handler.if && !TOOL_EVENTS.has(event)) say(`${event}: "if" only works on tool events`)
        if (handler.if && !/^[A-Za-z]+\(.+\)$/.test(handler.if))
          say(`${event}: "if" must be one permission rule, got ${handler.if}`)
        if (handler.type === 'command' && (!handler.args || !handler.command?.startsWith(`${PLUGIN_ROOT}/`)))
          say(
            `${event}: a plugin handler must use the exec form (command + args) under \${CLAUDE_PLUGIN_ROOT}`,
          )
      }
    }
  }
  return problems
}

/** The always-loaded cost of the bundle, per skill. */
export interface ListingCost {
  /** Characters of `name: description` per model-invocable skill and command. */
  perEntry: Record<string, number>
  total: number
  budget: number
}

/**
 * What the skill listing costs in characters (skills and commands that the model may invoke; those with
 * `disable-model-invocation` are not listed).
 *
 * @example
 * listingCost(bundle).total // 9214
 */
export function listingCost(bundle: Bundle): ListingCost {
  const perEntry: Record<string, number> = {}
  for (const doc of [...bundle.skills, ...bundle.commands]) {
    const fm = doc.frontmatter
    if (!fm || fm['disable-model-invocation']) continue
    perEntry[doc.name] = `${fm.name}: ${fm.description}`.length
  }
  const total = Object.values(perEntry).reduce((a, b) => a + b, 0)
  return { perEntry, total, budget: LISTING_BUDGET_CHARS }
}

/**
 * Everything wrong with a bundle: its own reading problems, command lines the CLI would not accept, hook problems,
 * and a listing over budget. Empty means it can ship.
 *
 * @example
 * const problems = validateBundle(readBundle('skills'), { manifest, hooks: pluginHooks() })
 * for (const p of problems) console.error(`${p.path}:${p.line}: ${p.message}`)
 */
export function validateBundle(
  bundle: Bundle,
  options: { manifest: CliManifest; hooks: HooksFile },
): Problem[] {
  const problems = [
    ...bundle.problems,
    ...checkCommandLines([...bundle.skills, ...bundle.commands], options.manifest),
    ...validateHooks(options.hooks),
  ]
  const cost = listingCost(bundle)
  if (cost.total > cost.budget)
    problems.push({
      path: '.',
      line: 0,
      message: `the skill listing is ${cost.total} characters, over the ${cost.budget} budget: shorten descriptions`,
    })
  return problems
}

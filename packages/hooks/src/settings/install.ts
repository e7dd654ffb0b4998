// Installs dstack's hooks into Claude Code's settings.json next to other tools' hooks. Ours are recognised by
// their command (`dstack hook …`), so upgrades replace exactly what an earlier version installed and nothing else.
import { rmSync } from 'node:fs'
import { basename } from 'node:path'
import {
  formatSettings,
  type MatcherGroup,
  readSettings,
  resolveSettingsTarget,
  type Settings,
  SettingsFileError,
  unchangedSince,
  withSettingsLock,
  writeBackup,
  writeSettings,
} from './file.ts'
import { canonicalJson } from './json.ts'

export { SettingsFileError }

/** A Claude Code command hook handler (exec form when `args` is given, else `command` is a shell string). */
export interface CommandHandler {
  type: 'command'
  command: string
  args?: string[]
  timeout?: number
  if?: string
  statusMessage?: string
  async?: boolean
}

/** One handler to install under an event, in the matcher group `matcher` (omitted or '': every tool). */
export interface HookSpec {
  event: string
  matcher?: string
  handler: CommandHandler
}

export interface InstallResult {
  path: string
  /** Whether the file was written. */
  changed: boolean
  /** Copy of the file as it was before this change; null when nothing was written or the file was new. */
  backupPath: string | null
  /** Handlers added for events that had no dstack handler being replaced. */
  added: number
  /** Old dstack handlers replaced by a new one on the same event (new arguments, matcher, timeout…). */
  updated: number
  /** dstack handlers removed without a replacement. */
  removed: number
}

export interface HooksStatus {
  path: string
  exists: boolean
  installed: Array<{ spec: HookSpec; state: 'installed' | 'missing' }>
  /** dstack handlers that match no spec: an install would remove them. */
  stale: Array<{ event: string; matcher?: string; handler: unknown }>
  /** Other tools' handlers, counted. */
  foreignHandlers: number
}

const SHELL_FORM = /(^|[\s/])dstack['"]?\s+hook\s/
// Claude Code's event names are PascalCase; checking also keeps names like "__proto__" out of the hooks object.
const EVENT_NAME = /^[A-Z][A-Za-z0-9]*$/

/**
 * Recognises a handler that dstack installed: a command handler whose executable is `dstack` with `hook` as first
 * argument, or an older shell-form command such as `/usr/local/bin/dstack hook pre-tool-use`.
 *
 * @example
 * isDstackHandler({ type: 'command', command: '/opt/bin/dstack', args: ['hook', 'stop'] }) // true
 * isDstackHandler({ type: 'command', command: 'npx prettier --write' }) // false
 */
export function isDstackHandler(handler: unknown): boolean {
  if (typeof handler !== 'object' || handler === null || Array.isArray(handler)) return false
  const { type, command, args } = handler as { type?: unknown; command?: unknown; args?: unknown }
  if (type !== 'command' || typeof command !== 'string') return false
  if (Array.isArray(args) && basename(command) === 'dstack' && args[0] === 'hook') return true
  return SHELL_FORM.test(command)
}

interface WantedHook {
  spec: HookSpec
  /** '' for "every tool": omitted and '' are the same group. */
  matcher: string
  /** The handler as it will be written (a JSON copy: undefined fields dropped). */
  handler: Record<string, unknown>
  key: string
}

function matcherOf(matcher: string | undefined): string {
  return matcher ?? ''
}

/** Checks specs (a bad one is a bug in the caller, not in the file) and drops exact duplicates. */
function prepare(specs: HookSpec[]): WantedHook[] {
  const wanted: WantedHook[] = []
  for (const spec of specs) {
    if (!EVENT_NAME.test(spec.event))
      throw new TypeError(`invalid hook event name ${JSON.stringify(spec.event)}`)
    if (spec.matcher !== undefined && typeof spec.matcher !== 'string')
      throw new TypeError(`hook matcher for ${spec.event} must be a string`)
    if (spec.handler?.type !== 'command' || typeof spec.handler.command !== 'string' || !spec.handler.command)
      throw new TypeError(`hook for ${spec.event} must be a command handler with a command`)
    // Anything we install must be recognisable as ours later, or upgrades and uninstall would leave it behind.
    if (!isDstackHandler(spec.handler))
      throw new TypeError(
        `hook for ${spec.event} is not a dstack handler (dstack hook …): ${spec.handler.command}`,
      )
    const handler = JSON.parse(JSON.stringify(spec.handler)) as Record<string, unknown>
    const item = { spec, matcher: matcherOf(spec.matcher), handler, key: canonicalJson(handler) }
    const duplicate = wanted.some(
      (w) => w.spec.event === spec.event && w.matcher === item.matcher && w.key === item.key,
    )
    if (!duplicate) wanted.push(item)
  }
  return wanted
}

interface Located {
  event: string
  group: MatcherGroup
  handler: unknown
}

interface Classified {
  /** Our handlers to keep, with the wanted hook each one satisfies. */
  kept: Map<unknown, WantedHook>
  /** Our handlers no wanted hook accounts for (older versions, moved matchers, duplicates). */
  stale: Located[]
  foreign: number
}

/** Sorts every handler in the file into foreign, ours-and-wanted (first copy only) and ours-but-stale. */
function classify(settings: Settings, wanted: WantedHook[]): Classified {
  const kept = new Map<unknown, WantedHook>()
  const satisfied = new Set<WantedHook>()
  const stale: Located[] = []
  let foreign = 0
  for (const [event, groups] of Object.entries(settings.hooks ?? {})) {
    for (const group of groups) {
      for (const handler of group.hooks) {
        if (!isDstackHandler(handler)) {
          foreign++
          continue
        }
        const key = canonicalJson(handler)
        const match = wanted.find(
          (w) =>
            !satisfied.has(w) &&
            w.spec.event === event &&
            w.matcher === matcherOf(group.matcher) &&
            w.key === key,
        )
        if (match) {
          satisfied.add(match)
          kept.set(handler, match)
        } else stale.push({ event, group, handler })
      }
    }
  }
  return { kept, stale, foreign }
}

interface Merge {
  changed: boolean
  added: number
  updated: number
  removed: number
}

/** Edits `settings` in place so that its dstack handlers are exactly `wanted`; other content is left as is. */
function merge(settings: Settings, wanted: WantedHook[]): Merge {
  const { kept, stale } = classify(settings, wanted)
  const staleHandlers = new Set(stale.map((s) => s.handler))
  // Groups we removed handlers from, with their event: the only ones we may delete when they end up empty.
  const touched = new Map<MatcherGroup, string>()
  const removedPerEvent = new Map<string, number>()
  for (const { event, group } of stale) {
    if (touched.has(group)) continue
    group.hooks = group.hooks.filter((h) => !staleHandlers.has(h))
    touched.set(group, event)
  }
  for (const { event } of stale) removedPerEvent.set(event, (removedPerEvent.get(event) ?? 0) + 1)

  // Add what is missing before dropping emptied groups, so an upgraded handler stays where the old one was.
  const present = new Set(kept.values())
  const insertedEvents: string[] = []
  for (const w of wanted) {
    if (present.has(w)) continue
    settings.hooks ??= {}
    const hooks = settings.hooks
    if (!Object.hasOwn(hooks, w.spec.event)) hooks[w.spec.event] = []
    const groups = hooks[w.spec.event]!
    let group = groups.find((g) => matcherOf(g.matcher) === w.matcher)
    if (!group) {
      group = w.matcher === '' ? { hooks: [] } : { matcher: w.matcher, hooks: [] }
      groups.push(group)
    }
    group.hooks.push(structuredClone(w.handler))
    insertedEvents.push(w.spec.event)
  }

  // Drop only groups our removal emptied, and events and `hooks` only if that left them empty.
  const hooks = settings.hooks
  if (hooks) {
    const events = new Set(touched.values())
    for (const event of events) {
      const groups = hooks[event]!
      const left = groups.filter((g) => !(touched.has(g) && g.hooks.length === 0))
      if (left.length === groups.length) continue
      if (left.length === 0) delete hooks[event]
      else hooks[event] = left
    }
    if (events.size > 0 && Object.keys(hooks).length === 0) delete settings.hooks
  }

  let updated = 0
  for (const event of insertedEvents) {
    const count = removedPerEvent.get(event) ?? 0
    if (count > 0) {
      removedPerEvent.set(event, count - 1)
      updated++
    }
  }
  return {
    changed: insertedEvents.length > 0 || stale.length > 0,
    added: insertedEvents.length - updated,
    updated,
    removed: stale.length - updated,
  }
}

// A rewrite is retried when the file changed under us (another tool saving it); past this, we give up.
const MAX_ATTEMPTS = 5

export interface InstallOptions {
  now?: Date
  /** Where to put the backup of the previous file (default: next to it). */
  backupDir?: string
}

function apply(path: string, wanted: WantedHook[], options: InstallOptions): InstallResult {
  const { now, backupDir } = options
  const target = resolveSettingsTarget(path)
  const unchanged = (m: Merge): InstallResult => ({ path, changed: false, backupPath: null, ...counts(m) })
  // Most runs change nothing: decide that without taking the lock, so they leave no trace at all.
  const first = merge(readSettings(path, target).settings, wanted)
  if (!first.changed) return unchanged(first)
  return withSettingsLock(path, target, () => {
    for (let attempt = 1; ; attempt++) {
      const snapshot = readSettings(path, target)
      const result = merge(snapshot.settings, wanted)
      if (!result.changed) return unchanged(result)
      const text = formatSettings(snapshot.settings, snapshot)
      const backupPath = snapshot.bytes
        ? writeBackup(path, snapshot.bytes, now ?? new Date(), backupDir)
        : null
      // Another program may have saved the file while we merged: start over from its version, never clobber it.
      if (!unchangedSince(path, target, snapshot.bytes)) {
        if (backupPath) rmSync(backupPath, { force: true })
        if (attempt >= MAX_ATTEMPTS) throw new SettingsFileError(path, 'it keeps changing while we update it')
        continue
      }
      writeSettings(target, text, snapshot.mode)
      return { path, changed: true, backupPath, ...counts(result) }
    }
  })
}

function counts(m: Merge): Pick<InstallResult, 'added' | 'updated' | 'removed'> {
  return { added: m.added, updated: m.updated, removed: m.removed }
}

/**
 * Merges `specs` into a Claude Code settings file (created if missing). Each spec goes into the first group of
 * its event with the same matcher (a new group at the end of the event's list if none); every dstack handler
 * that is not exactly one of the specs is removed, so upgrades replace old entries and a changed matcher moves
 * the handler; groups and events that removal empties are deleted. Other tools' handlers and every other key are
 * kept as they are. Nothing is written when the file already matches (same bytes, same mtime); otherwise the
 * original is first copied to `<path>.dstack-backup-<YYYYMMDDTHHMMSSZ>`. A file that is not valid JSON, or whose
 * `hooks` has the wrong shape, throws SettingsFileError and is left untouched. Specs that are not dstack command
 * handlers (see isDstackHandler) throw TypeError.
 *
 * @example
 * installHooks(join(homedir(), '.claude', 'settings.json'), [
 *   { event: 'PostToolUse', matcher: 'Edit|Write', handler: { type: 'command', command: '/usr/local/bin/dstack', args: ['hook', 'post-tool-use'], timeout: 10 } },
 * ])
 * // { path: '…/settings.json', changed: true, backupPath: '…/settings.json.dstack-backup-20250102T030405Z', added: 1, updated: 0, removed: 0 }
 */
export function installHooks(path: string, specs: HookSpec[], options: InstallOptions = {}): InstallResult {
  return apply(path, prepare(specs), options)
}

/**
 * Removes every dstack handler and only those, deleting groups and events that held nothing else; backs the file
 * up first like installHooks. A missing file, or one without dstack handlers, is left alone (changed: false).
 *
 * @example
 * uninstallHooks(join(homedir(), '.claude', 'settings.json')) // { changed: true, removed: 3, … }
 */
export function uninstallHooks(path: string, options: InstallOptions = {}): InstallResult {
  return apply(path, [], options)
}

/**
 * Reports, without writing, which specs are installed exactly, which dstack handlers are stale (an install would
 * remove them) and how many handlers belong to other tools. Throws SettingsFileError for an unreadable file.
 *
 * @example
 * const status = hooksStatus(settingsPath, specs)
 * status.installed.filter((i) => i.state === 'missing').length // 0 when up to date
 */
export function hooksStatus(path: string, specs: HookSpec[]): HooksStatus {
  const wanted = prepare(specs)
  const snapshot = readSettings(path)
  const { kept, stale, foreign } = classify(snapshot.settings, wanted)
  const present = new Set(kept.values())
  return {
    path,
    exists: snapshot.exists,
    installed: specs.map((spec) => {
      const matcher = matcherOf(spec.matcher)
      const key = canonicalJson(spec.handler)
      const hit = wanted.some(
        (w) => present.has(w) && w.spec.event === spec.event && w.matcher === matcher && w.key === key,
      )
      return { spec, state: hit ? 'installed' : 'missing' }
    }),
    stale: stale.map(({ event, group, handler }) =>
      group.matcher === undefined ? { event, handler } : { event, matcher: group.matcher, handler },
    ),
    foreignHandlers: foreign,
  }
}

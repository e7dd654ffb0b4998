// Reading, validating and rewriting Claude Code's settings.json. The file belongs to the user and to other tools,
// so anything we cannot fully understand is refused rather than rewritten.
import { chmodSync, existsSync, lstatSync, readFileSync, readlinkSync, statSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { tryLock, writeFileAtomic } from '@dstack/daemon'
import { z } from 'zod'
import { describeJsonError, parseJsonPreservingNumbers } from './json.ts'

/** settings.json cannot be read or is not in a shape we can safely edit; nothing was written. */
export class SettingsFileError extends Error {
  readonly path: string
  /** What is wrong, e.g. `line 3, column 5: Unexpected token '}'`. */
  readonly problem: string

  constructor(path: string, problem: string, options?: { cause?: unknown }) {
    super(`${path}: ${problem} (the file was left unchanged)`, options)
    this.name = 'SettingsFileError'
    this.path = path
    this.problem = problem
  }
}

// Only what we walk through is checked; every other key, and every handler's content, passes through untouched.
const handlerSchema = z.looseObject({})
const groupSchema = z.looseObject({ matcher: z.string().optional(), hooks: z.array(handlerSchema) })
const settingsSchema = z.looseObject({ hooks: z.record(z.string(), z.array(groupSchema)).optional() })

/** A matcher group as it sits in the parsed file (other keys included). */
export type MatcherGroup = z.infer<typeof groupSchema>
/** The parsed file: `hooks` validated, the rest opaque. */
export type Settings = z.infer<typeof settingsSchema>

/** One read of the settings file. */
export interface SettingsSnapshot {
  exists: boolean
  /** The exact bytes read, for the backup and to notice concurrent writers; null when missing. */
  bytes: Buffer | null
  /** Permission bits to keep on rewrite; null when missing. */
  mode: number | null
  /** Parsed from the file (not a validated copy), so key order and unknown keys survive a rewrite. */
  settings: Settings
  bom: boolean
  crlf: boolean
}

const UTF8 = new TextDecoder('utf-8', { fatal: true })

function describePath(path: PropertyKey[]): string {
  let out = ''
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`
    else if (typeof part === 'string' && /^[A-Za-z_$][\w$]*$/.test(part)) out += out ? `.${part}` : part
    else out += `[${JSON.stringify(String(part))}]`
  }
  return out || '(top level)'
}

function readBytes(path: string, target: string): Buffer | null {
  try {
    return readFileSync(target)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw new SettingsFileError(path, `cannot read: ${(error as Error).message}`, { cause: error })
  }
}

/**
 * Follows symlinks to the file that really holds the settings, even a dangling link's target, so that a rewrite
 * (temp file + rename) replaces the target instead of turning a dotfiles-managed link into a plain file.
 *
 * @example
 * resolveSettingsTarget('/home/me/.claude/settings.json') // '/home/me/dotfiles/claude/settings.json'
 */
export function resolveSettingsTarget(path: string): string {
  let current = resolve(path)
  for (let hops = 0; hops < 40; hops++) {
    try {
      if (!lstatSync(current).isSymbolicLink()) return current
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return current
      throw new SettingsFileError(path, `cannot read: ${(error as Error).message}`, { cause: error })
    }
    current = resolve(dirname(current), readlinkSync(current))
  }
  throw new SettingsFileError(path, 'too many levels of symbolic links')
}

/**
 * Reads and validates the settings file. A missing, empty or whitespace-only file reads as `{}`; anything else
 * that is not a JSON object with a well-formed `hooks` section throws SettingsFileError.
 *
 * @example
 * const { settings } = readSettings('/home/me/.claude/settings.json')
 * Object.keys(settings.hooks ?? {}) // ['PreToolUse', 'Stop']
 */
export function readSettings(path: string, target = resolveSettingsTarget(path)): SettingsSnapshot {
  const bytes = readBytes(path, target)
  if (bytes === null) return { exists: false, bytes: null, mode: null, settings: {}, bom: false, crlf: false }
  const mode = statSync(target).mode & 0o7777
  let text: string
  try {
    text = UTF8.decode(bytes) // also drops a leading BOM
  } catch (error) {
    throw new SettingsFileError(path, 'not valid UTF-8 text', { cause: error })
  }
  const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf
  const crlf = text.includes('\r\n')
  if (text.trim() === '') return { exists: true, bytes, mode, settings: {}, bom, crlf }

  let value: unknown
  try {
    value = parseJsonPreservingNumbers(text)
  } catch (error) {
    const problem = describeJsonError(text, error)
    const where = problem.line === null ? '' : `line ${problem.line}, column ${problem.column}: `
    throw new SettingsFileError(path, `not valid JSON: ${where}${problem.message}`, { cause: error })
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const found = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`
    throw new SettingsFileError(path, `expected a JSON object at the top level, found ${found}`)
  }
  const result = settingsSchema.safeParse(value)
  if (!result.success) {
    const problems = result.error.issues.slice(0, 3).map((i) => `${describePath(i.path)}: ${i.message}`)
    const more = result.error.issues.length > 3 ? ` (and ${result.error.issues.length - 3} more)` : ''
    throw new SettingsFileError(path, `unexpected shape: ${problems.join('; ')}${more}`)
  }
  return { exists: true, bytes, mode, settings: value as Settings, bom, crlf }
}

/**
 * Serialises settings the way we write them: 2-space indentation and a trailing newline, keeping the original
 * file's BOM and CRLF line endings if it had them.
 *
 * @example
 * formatSettings({ hooks: {} }, { bom: false, crlf: false }) // '{\n  "hooks": {}\n}\n'
 */
export function formatSettings(settings: Settings, style: { bom: boolean; crlf: boolean }): string {
  const text = `${JSON.stringify(settings, null, 2)}\n`
  // JSON.stringify escapes newlines inside strings, so every \n here is a line break.
  return `${style.bom ? '\uFEFF' : ''}${style.crlf ? text.replaceAll('\n', '\r\n') : text}`
}

/**
 * Replaces the settings file atomically, keeping its permission bits (0600 for a new file).
 *
 * @example
 * writeSettings('/home/me/.claude/settings.json', text, 0o644)
 */
export function writeSettings(target: string, text: string, mode: number | null): void {
  const wanted = mode ?? 0o600
  writeFileAtomic(target, text, { mode: wanted })
  // The temp file's mode went through the umask: put back bits it may have dropped (e.g. 0664 under umask 022).
  if ((statSync(target).mode & 0o7777) !== wanted) chmodSync(target, wanted)
}

function backupStamp(now: Date): string {
  return now
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replaceAll('-', '')
    .replaceAll(':', '')
}

/**
 * Saves the original bytes as `<path>.dstack-backup-<YYYYMMDDTHHMMSSZ>` (0600), adding `-2`, `-3`… when that name
 * is taken (two changes within a second) so an earlier backup is never overwritten. Returns the backup's path.
 *
 * @example
 * writeBackup('/home/me/.claude/settings.json', bytes, new Date('2025-01-02T03:04:05Z'))
 * // '/home/me/.claude/settings.json.dstack-backup-20250102T030405Z'
 */
export function writeBackup(path: string, bytes: Uint8Array, now: Date, backupDir?: string): string {
  // A project's settings live in the repository: its backups go elsewhere so they never show up in `git status`.
  const where = backupDir ? join(backupDir, basename(path)) : path
  const base = `${where}.dstack-backup-${backupStamp(now)}`
  let candidate = base
  for (let n = 2; existsSync(candidate); n++) candidate = `${base}-${n}`
  writeFileAtomic(candidate, bytes, { mode: 0o600 })
  return candidate
}

const LOCK_TIMEOUT_MS = 10_000
const sleeper = new Int32Array(new SharedArrayBuffer(4))

/**
 * Runs `fn` holding `<target>.dstack.lock`, so two dstack processes never interleave their read-merge-write of
 * the same settings file. Synchronous (the install API is), so it sleeps with Atomics.wait between attempts.
 *
 * @example
 * withSettingsLock(path, target, () => merge())
 */
export function withSettingsLock<T>(path: string, target: string, fn: () => T): T {
  const lockPath = `${target}.dstack.lock`
  const deadline = Date.now() + LOCK_TIMEOUT_MS
  for (;;) {
    const attempt = tryLock(lockPath, `update ${target}`)
    if (attempt.acquired) {
      try {
        return fn()
      } finally {
        attempt.lock.release()
      }
    }
    if (Date.now() >= deadline) {
      const holder = attempt.heldBy
        ? `pid ${attempt.heldBy.pid} on ${attempt.heldBy.host}`
        : 'another process'
      throw new SettingsFileError(path, `${holder} is updating it (lock ${lockPath}); try again`)
    }
    Atomics.wait(sleeper, 0, 0, 20)
  }
}

/**
 * Whether the file still holds exactly `bytes` (null: still missing).
 *
 * @example
 * if (!unchangedSince(path, target, snapshot.bytes)) retry()
 */
export function unchangedSince(path: string, target: string, bytes: Buffer | null): boolean {
  const now = readBytes(path, target)
  return now === null || bytes === null ? now === bytes : now.equals(bytes)
}

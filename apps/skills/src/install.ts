import { createHash } from 'node:crypto'
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { findRepo } from '@dstack/git'
import { canonicalJson, dstackHookSpecs, hooksStatus, installHooks, uninstallHooks } from '@dstack/hooks'
import { z } from 'zod'
import { PLUGIN_ROOT, SHIM } from './build.ts'
import type { Bundle } from './sources.ts'

/** Where a bundle is installed: the user's ~/.claude, or a project's .claude (shared with the team via git). */
export interface InstallTarget {
  scope: 'user' | 'project'
  /** The .claude directory. */
  claudeDir: string
}

/**
 * The .claude directory for a scope: `$CLAUDE_CONFIG_DIR` or ~/.claude for the user; for a project, `.claude` at
 * the root of the repository holding `project` (or `project` itself outside one).
 *
 * @example
 * installTarget('project', '/work/api/src') // { scope: 'project', claudeDir: '/work/api/.claude' }
 */
export function installTarget(
  scope: 'user' | 'project',
  project = process.cwd(),
  env = process.env,
): InstallTarget {
  const claudeDir =
    scope === 'project'
      ? join(findRepo(project)?.root ?? project, '.claude')
      : (env.CLAUDE_CONFIG_DIR ?? join(homedir(), '.claude'))
  return { scope, claudeDir }
}

const recordSchema = z.strictObject({
  version: z.literal(1),
  installedAt: z.string(),
  /** Files written, relative to the .claude directory, with the sha256 written. */
  files: z.record(z.string(), z.string()),
  /** Files that were there before and were moved into the backup (relative paths). */
  backedUp: z.array(z.string()),
  /** settings.json as it was before the first install (null: there was none). */
  settingsBefore: z.string().nullable(),
  /** Whether the .claude directory itself was there before (uninstall removes it only if the install made it). */
  claudeDirExisted: z.boolean(),
  /** Whether this install added dstack's hooks (false when `dstack hooks install` had put them there first). */
  hooksOurs: z.boolean(),
})
type InstallRecord = z.infer<typeof recordSchema>

const HOME_DIR = 'dstack'
const recordPath = (t: InstallTarget) => join(t.claudeDir, HOME_DIR, 'installed.json')
const backupDir = (t: InstallTarget) => join(t.claudeDir, HOME_DIR, 'backup')
const settingsPath = (t: InstallTarget) => join(t.claudeDir, 'settings.json')
const sha = (text: string | Buffer) => createHash('sha256').update(text).digest('hex')

/** The files an install writes, relative to the .claude directory, with their contents. */
export function installFiles(
  bundle: Bundle,
  target: InstallTarget,
): Map<string, { text: string; mode: number }> {
  // Outside a plugin there is no ${CLAUDE_PLUGIN_ROOT}: templates and the shim live in .claude/dstack — by absolute
  // path for the user, relative to the repository for a project (its .claude is shared with other machines).
  const home = target.scope === 'project' ? `.claude/${HOME_DIR}` : join(target.claudeDir, HOME_DIR)
  const local = (text: string) => text.replaceAll(PLUGIN_ROOT, home)
  const files = new Map<string, { text: string; mode: number }>()
  for (const skill of bundle.skills)
    files.set(`skills/${skill.name}/SKILL.md`, { text: local(skill.text), mode: 0o644 })
  for (const command of bundle.commands)
    files.set(`commands/${command.name}.md`, { text: local(command.text), mode: 0o644 })
  for (const template of bundle.templates)
    files.set(`${HOME_DIR}/templates/${template}`, {
      text: readFileSync(join(bundle.root, 'templates', template), 'utf8'),
      mode: 0o644,
    })
  files.set(`${HOME_DIR}/bin/dstack`, { text: SHIM, mode: 0o755 })
  return files
}

/** The hook handlers an install adds: through the installed shim for the user; each teammate's own dstack for a project. */
function hookSpecs(target: InstallTarget) {
  return dstackHookSpecs(
    target.scope === 'project'
      ? { kind: 'per-user' }
      : { kind: 'path', path: join(target.claudeDir, HOME_DIR, 'bin', 'dstack') },
  )
}

export interface InstallReport {
  target: InstallTarget
  written: string[]
  unchanged: number
  /** Files of someone else's that were in the way, moved to .claude/dstack/backup (restored by uninstall). */
  backedUp: string[]
  /** Installed files edited since the last install: left as they are (delete one to get the shipped version). */
  keptModified: string[]
  hooksChanged: boolean
  /** dstack's hooks were already installed by `dstack hooks install`: left as they are. */
  hooksLeft: boolean
}

/**
 * Installs the bundle into a .claude directory: skills/, commands/, dstack/templates, dstack/bin/dstack, and the
 * hooks in settings.json (unless `dstack hooks install` put dstack's hooks there already). Idempotent (a second run
 * writes nothing); a file of someone else's in the way is moved to .claude/dstack/backup first (the record is
 * written at once, so an interrupted install can still be undone) and uninstall puts it back; an installed file
 * edited since is left alone.
 *
 * @example
 * const report = installBundle(readBundle('skills'), installTarget('user'))
 * report.written.length // 37 on the first run, 0 on the next
 */
export function installBundle(bundle: Bundle, target: InstallTarget): InstallReport {
  // A settings.json that is not valid JSON throws here, before any file is written.
  const status = hooksStatus(settingsPath(target), hookSpecs(target))
  const previous = readRecord(target)
  const record: InstallRecord = previous ?? {
    version: 1,
    installedAt: new Date().toISOString(),
    files: {},
    backedUp: [],
    settingsBefore: existsSync(settingsPath(target)) ? readFileSync(settingsPath(target), 'utf8') : null,
    claudeDirExisted: existsSync(target.claudeDir),
    hooksOurs: status.stale.length === 0 && status.installed.every((i) => i.state === 'missing'),
  }
  const report: InstallReport = {
    target,
    written: [],
    unchanged: 0,
    backedUp: [],
    keptModified: [],
    hooksChanged: false,
    hooksLeft: !record.hooksOurs,
  }
  const wanted = installFiles(bundle, target)
  for (const [rel, { text, mode }] of wanted) {
    const file = join(target.claudeDir, rel)
    const current = existsSync(file) ? readFileSync(file, 'utf8') : null
    if (current === text) {
      record.files[rel] = sha(text)
      report.unchanged++
      continue
    }
    if (current !== null && rel in record.files && sha(current) !== record.files[rel]) {
      report.keptModified.push(rel)
      continue
    }
    if (current !== null && !(rel in record.files)) {
      // Not ours: keep it to put back on uninstall. Never over an earlier backup of the same path.
      const saved = join(backupDir(target), rel)
      if (existsSync(saved))
        throw new Error(
          `${file} is in the way and ${saved} already holds a backup of it: move one of them first`,
        )
      mkdirSync(dirname(saved), { recursive: true })
      renameSync(file, saved)
      record.backedUp.push(rel)
      report.backedUp.push(rel)
      writeRecord(target, record)
    }
    mkdirSync(dirname(file), { recursive: true })
    writeFileSync(file, text, { mode })
    chmodSync(file, mode)
    record.files[rel] = sha(text)
    report.written.push(rel)
    writeRecord(target, record)
  }
  // Files an earlier version installed that this one no longer has.
  for (const rel of Object.keys(record.files))
    if (!wanted.has(rel)) {
      removeOurs(target, rel, record.files[rel]!)
      delete record.files[rel]
    }
  if (record.hooksOurs)
    report.hooksChanged = installHooks(settingsPath(target), hookSpecs(target), {
      backupDir: backupDir(target),
    }).changed
  writeRecord(target, record)
  return report
}

export interface UninstallReport {
  removed: string[]
  /** Installed files someone edited since: kept (when one replaced a file of yours, it is now `<path>.dstack-edited`). */
  keptModified: string[]
  restored: string[]
  hooksRemoved: boolean
}

/**
 * Removes what installBundle installed and puts back what it had moved aside; settings.json gets its original
 * bytes back when nothing else in it changed since (otherwise the pre-uninstall copy is kept beside it). An
 * installed file edited since is kept; if it had replaced a file of yours, yours comes back and the edited one is
 * kept as `<path>.dstack-edited`.
 *
 * @example
 * uninstallBundle(installTarget('user')) // { removed: [...], restored: [], keptModified: [], hooksRemoved: true }
 */
export function uninstallBundle(target: InstallTarget): UninstallReport {
  const record = readRecord(target)
  const report: UninstallReport = { removed: [], keptModified: [], restored: [], hooksRemoved: false }
  if (!record) return report
  for (const [rel, hash] of Object.entries(record.files)) {
    if (removeOurs(target, rel, hash)) report.removed.push(rel)
    else if (existsSync(join(target.claudeDir, rel))) report.keptModified.push(rel)
  }
  for (const rel of record.backedUp) {
    const saved = join(backupDir(target), rel)
    const file = join(target.claudeDir, rel)
    if (!existsSync(saved)) continue
    if (existsSync(file)) renameSync(file, `${file}.dstack-edited`)
    mkdirSync(dirname(file), { recursive: true })
    renameSync(saved, file)
    report.restored.push(rel)
  }
  const settings = settingsPath(target)
  if (record.hooksOurs && existsSync(settings)) {
    const backups = join(target.claudeDir, HOME_DIR, 'settings-backup')
    report.hooksRemoved = uninstallHooks(settings, { backupDir: backups }).changed
    const now = readFileSync(settings, 'utf8')
    if (record.settingsBefore === null && sameJson(now, '{}')) rmSync(settings)
    else if (record.settingsBefore !== null && sameJson(now, record.settingsBefore))
      writeFileSync(settings, record.settingsBefore)
    else if (existsSync(backups))
      // Something else in settings.json changed since the install: keep the copy from before this uninstall.
      for (const name of readdirSync(backups)) renameSync(join(backups, name), join(target.claudeDir, name))
  }
  rmSync(join(target.claudeDir, HOME_DIR), { recursive: true, force: true })
  for (const rel of Object.keys(record.files))
    pruneEmpty(target.claudeDir, dirname(join(target.claudeDir, rel)))
  if (!record.claudeDirExisted && existsSync(target.claudeDir) && readdirSync(target.claudeDir).length === 0)
    rmdirSync(target.claudeDir)
  return report
}

export interface InstalledFile {
  path: string
  state: 'ok' | 'modified' | 'missing' | 'outdated'
}

/**
 * What is installed in a .claude directory and in what state: `ok`, `modified` (edited since), `missing`, or
 * `outdated` (differs from `bundle`, when given). Null when dstack's bundle is not installed there.
 *
 * @example
 * listInstalled(installTarget('user'), readBundle('skills'))?.filter((f) => f.state !== 'ok')
 */
export function listInstalled(target: InstallTarget, bundle?: Bundle): InstalledFile[] | null {
  const record = readRecord(target)
  if (!record) return null
  const wanted = bundle ? installFiles(bundle, target) : null
  return Object.entries(record.files)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([rel, hash]) => {
      const file = join(target.claudeDir, rel)
      if (!existsSync(file)) return { path: rel, state: 'missing' as const }
      const text = readFileSync(file, 'utf8')
      if (sha(text) !== hash) return { path: rel, state: 'modified' as const }
      const want = wanted?.get(rel)
      if (wanted && (!want || want.text !== text)) return { path: rel, state: 'outdated' as const }
      return { path: rel, state: 'ok' as const }
    })
}

/** Whether the installed hooks in settings.json are all there and current. */
export function installedHooksCurrent(target: InstallTarget): boolean {
  // Hooks that `dstack hooks install` put there are its to report (`dstack hooks status`).
  if (readRecord(target)?.hooksOurs === false) return true
  const status = hooksStatus(settingsPath(target), hookSpecs(target))
  return status.installed.every((i) => i.state === 'installed')
}

function removeOurs(target: InstallTarget, rel: string, hash: string): boolean {
  const file = join(target.claudeDir, rel)
  if (!existsSync(file) || sha(readFileSync(file)) !== hash) return false
  rmSync(file)
  pruneEmpty(target.claudeDir, dirname(file))
  return true
}

/** Removes empty directories from `dir` up to (not including) `root`. */
function pruneEmpty(root: string, dir: string): void {
  for (let d = dir; relative(root, d) && !relative(root, d).startsWith('..'); d = dirname(d)) {
    if (!existsSync(d) || readdirSync(d).length > 0) return
    rmdirSync(d)
  }
}

function readRecord(target: InstallTarget): InstallRecord | null {
  try {
    return recordSchema.parse(JSON.parse(readFileSync(recordPath(target), 'utf8')))
  } catch {
    return null
  }
}

function writeRecord(target: InstallTarget, record: InstallRecord): void {
  const file = recordPath(target)
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(`${file}.tmp`, `${JSON.stringify(record, null, 2)}\n`)
  renameSync(`${file}.tmp`, file)
}

/** JSON-equal, counting an emptied `hooks: {}` as absent (what removing our hooks leaves behind). */
function sameJson(a: string, b: string): boolean {
  const normal = (text: string) => {
    const value = JSON.parse(text) as Record<string, unknown>
    if (value.hooks && typeof value.hooks === 'object' && Object.keys(value.hooks).length === 0)
      delete value.hooks
    return canonicalJson(value)
  }
  try {
    return normal(a) === normal(b)
  } catch {
    return false
  }
}

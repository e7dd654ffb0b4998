// The implementation doc beside a plan: humans write in it freely; dstack owns one marked block and rewrites only
// that block on every run, so the record of the last execution sits next to the plan it came from.

import { randomBytes } from 'node:crypto'
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { basename, dirname, extname, join } from 'node:path'
import type { ExecutionReport, TaskReport, WaveReport } from './execute.ts'

export const BLOCK_BEGIN = '<!-- dstack:execute:begin -->'
export const BLOCK_END = '<!-- dstack:execute:end -->'

/**
 * Where the companion doc of a plan lives: `IMPLEMENTATION.md` beside a `PLAN.md`, else
 * `<plan name without extension>.implementation.md` beside the plan.
 *
 * @example
 * companionPath('/app/docs/PLAN.md') // '/app/docs/IMPLEMENTATION.md'
 * companionPath('/app/waves.yaml') // '/app/waves.implementation.md'
 */
export function companionPath(planFile: string): string {
  const name = basename(planFile)
  if (name.toLowerCase() === 'plan.md') return join(dirname(planFile), 'IMPLEMENTATION.md')
  return join(dirname(planFile), `${basename(name, extname(name))}.implementation.md`)
}

/** Text from agents and file names must not close our block or break a table. */
function clean(text: string, max = 300): string {
  const flat = text.replace(/<!--/g, '&lt;!--').replace(/\s+/g, ' ').trim()
  return flat.length > max ? `${flat.slice(0, max)}…` : flat
}

function cell(text: string): string {
  return clean(text).replace(/\|/g, '\\|')
}

function code(text: string): string {
  const t = clean(text, 500)
  return t.includes('`') ? `\`\` ${t} \`\`` : `\`${t}\``
}

function list(items: readonly string[]): string {
  return items.length === 0 ? 'none' : items.map(code).join(', ')
}

function seconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`
}

function summaryLine(task: TaskReport): string | null {
  const s = task.summary
  if (s === null) return null
  if (s.type === 'pawan') {
    const usage = s.usage?.totalTokens == null ? '' : `, ${s.usage.totalTokens} tokens`
    return `pawan: ${s.iterations ?? '?'} iterations${usage}${s.content ? ` — ${clean(s.content, 200)}` : ''}`
  }
  if (s.type === 'claude') {
    const cost = s.costUsd === null ? '' : `, $${s.costUsd.toFixed(4)}`
    return `claude: ${s.subtype ?? (s.isError ? 'error' : 'done')}${cost}${s.result ? ` — ${clean(s.result, 200)}` : ''}`
  }
  return s.output.trim() === '' ? null : `output: ${clean(s.output, 200)}`
}

function waveSection(wave: WaveReport): string[] {
  const state =
    wave.status === 'merged'
      ? 'merged'
      : wave.status === 'kept'
        ? 'not merged; worktrees kept'
        : wave.status === 'planned'
          ? 'planned (dry run)'
          : 'not run'
  const out = [`### Wave ${wave.index}: ${state}`, '']
  if (wave.base) out.push(`Started from \`${wave.base.slice(0, 12)}\`.`, '')
  out.push('| Task | Status | Exit | Duration | Commit |', '| --- | --- | --- | --- | --- |')
  for (const t of wave.tasks) {
    const exit = t.exitCode === null ? '–' : String(t.exitCode)
    const commit = t.commit === null ? '–' : `\`${t.commit.slice(0, 12)}\``
    out.push(`| ${cell(t.id)} | ${t.status} | ${exit} | ${seconds(t.durationMs)} | ${commit} |`)
  }
  out.push('')
  for (const t of wave.tasks) {
    const changed = t.commit === null ? 'nothing ran' : `changed ${list(t.actual)}`
    out.push(`- **${cell(t.id)}**: declared ${list(t.declared)}; ${changed}.`)
    if (t.undeclared.length > 0) out.push(`  - Undeclared (not in its files): ${list(t.undeclared)}`)
    if (t.error) out.push(`  - ${t.status === 'skipped' ? 'Skipped' : 'Problem'}: ${clean(t.error)}`)
    const summary = summaryLine(t)
    if (summary) out.push(`  - ${summary}`)
    if (t.commits.length > 0) {
      out.push(
        `  - Commits: ${t.commits.map((c) => `\`${c.sha.slice(0, 12)}\` ${clean(c.subject, 120)}`).join('; ')}`,
      )
    }
    if (t.kept && t.worktree)
      out.push(`  - Kept: worktree ${code(t.worktree)}, branch ${code(t.branch ?? '')}`)
  }
  if (wave.overlaps.length > 0) {
    out.push('', '**Overlaps the plan missed** (changed by more than one task of this wave):')
    for (const o of wave.overlaps) out.push(`- ${code(o.file)}: ${o.tasks.join(', ')}`)
  }
  if (wave.mergeCommits.length > 0) {
    out.push('', `Merge commits: ${wave.mergeCommits.map((c) => `\`${c.slice(0, 12)}\``).join(', ')}`)
  }
  out.push('')
  return out
}

/**
 * The markdown of dstack's block for a report, markers included.
 *
 * @example
 * renderExecutionBlock(report).startsWith('<!-- dstack:execute:begin -->') // true
 */
export function renderExecutionBlock(report: ExecutionReport): string {
  const outcome =
    report.outcome === 'completed'
      ? 'completed: every selected wave was merged'
      : report.outcome === 'dry-run'
        ? 'dry run: nothing was executed'
        : `stopped (${report.stop!.reason}): ${clean(report.stop!.message, 1000)}`
  const lines = [
    BLOCK_BEGIN,
    '## Last execution',
    '',
    '_Written by dstack on every run; edits inside this block are replaced. Write your notes outside it._',
    '',
    `- **When:** ${report.startedAt} (took ${seconds(report.durationMs)})`,
    `- **Plan:** ${code(report.plan.name ?? report.plan.slug)} — ${report.plannedWaves} waves, critical path ${report.criticalPathLength}`,
    `- **Repository:** ${code(report.repo)} on ${report.branch === null ? 'a detached HEAD' : code(report.branch)}, \`${report.startHead.slice(0, 12)}\` → \`${report.endHead.slice(0, 12)}\``,
    `- **Outcome:** ${outcome}`,
    '',
    ...report.waves.flatMap(waveSection),
    '### Next',
    '',
    ...report.next.map((step) => `- ${clean(step, 2000)}`),
    BLOCK_END,
  ]
  return lines.join('\n')
}

function occurrences(text: string, marker: string): number[] {
  const found: number[] = []
  for (let at = text.indexOf(marker); at !== -1; at = text.indexOf(marker, at + 1)) found.push(at)
  return found
}

function lineAt(text: string, offset: number): number {
  return text.slice(0, offset).split('\n').length
}

async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
  // Keep the mode of an existing doc (a human may have made it group-writable).
  const mode = await stat(path).then(
    (s) => s.mode & 0o777,
    () => 0o644,
  )
  try {
    await writeFile(tmp, text, { mode, flag: 'wx' })
    await rename(tmp, path)
  } catch (error) {
    await rm(tmp, { force: true })
    throw error
  }
}

/**
 * Writes the report into the plan's companion doc (see `companionPath`), creating the doc when missing. Everything
 * outside the `<!-- dstack:execute:begin -->` … `<!-- dstack:execute:end -->` block is kept as written; the block
 * is replaced (or appended at the end on the first run). Written atomically (temp file + rename). Returns the path.
 * Throws when the doc holds a damaged block (a begin without an end, or two blocks) rather than guess which human
 * text to replace.
 *
 * @example
 * await updateImplementationDoc('/app/docs/PLAN.md', report) // '/app/docs/IMPLEMENTATION.md'
 */
export async function updateImplementationDoc(planFile: string, report: ExecutionReport): Promise<string> {
  const path = companionPath(planFile)
  const block = renderExecutionBlock(report)
  let current: string | null
  try {
    current = await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    current = null
  }

  let next: string
  if (current === null) {
    const title = report.plan.name ?? basename(planFile)
    next = `# Implementation: ${clean(title, 200)}\n\nNotes on carrying out ${code(basename(planFile))}. dstack keeps the block below up to date; write anything else around it.\n\n${block}\n`
  } else {
    const begins = occurrences(current, BLOCK_BEGIN)
    const ends = occurrences(current, BLOCK_END)
    if (begins.length === 0 && ends.length === 0) {
      const sep = current === '' ? '' : current.endsWith('\n\n') ? '' : current.endsWith('\n') ? '\n' : '\n\n'
      next = `${current}${sep}${block}\n`
    } else if (begins.length === 1 && ends.length === 1 && ends[0]! > begins[0]!) {
      next = current.slice(0, begins[0]) + block + current.slice(ends[0]! + BLOCK_END.length)
    } else {
      const at = begins[1] ?? ends[1] ?? begins[0] ?? ends[0]!
      throw new Error(
        `${path}:${lineAt(current, at)}: the dstack block is damaged (expected one ${BLOCK_BEGIN} followed by one ${BLOCK_END}); fix the markers by hand`,
      )
    }
  }
  await writeAtomic(path, next)
  return path
}

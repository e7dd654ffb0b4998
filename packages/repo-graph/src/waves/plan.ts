// Reads a wave plan (YAML, JSON or a PLAN.md with one fenced yaml block) into a checked `Plan`. Everything a plan
// can get wrong is refused here, with the file and line, so execution never starts on a plan it would trip over.

import { readFile } from 'node:fs/promises'
import { basename, dirname, extname, isAbsolute, resolve } from 'node:path'
import { parseYaml } from '@dstack/config'
import { findRepo } from '@dstack/git'
import { z } from 'zod'

/** How a task is carried out. */
export type ExecutorSpec =
  /** `sh -c <command>` in the worktree; the command defaults to the task's own `command`. */
  | { type: 'shell'; command?: string }
  /** `pawan -w <worktree> [-m model] run <prompt> --output json --timeout N`. */
  | { type: 'pawan'; model?: string; timeoutSeconds?: number }
  /** `claude -p <prompt> --output-format json <args>` with the worktree as cwd. */
  | { type: 'claude'; args?: string[] }

export interface PlanTask {
  /** Lower-case slug, unique in the plan; names the worktree directory and the branch. */
  id: string
  description: string
  /** Repo-relative paths or globs the task may change; a path ending in `/` is stored as `<dir>/**`. */
  files: string[]
  /** Ids of tasks that must be merged before this one starts; each listed once. */
  dependsOn: string[]
  executor?: ExecutorSpec
  /** The shell command; a task with a command and no executor runs on the shell executor. */
  command?: string
  /** What agents are asked to do; the description unless the plan says otherwise. */
  prompt: string
  /** Line of the task in the plan file, when read from one. */
  line?: number
}

export interface Plan {
  name?: string
  /** Lower-case slug used in branch names (`dstack/wave/<slug>/<task>`): from the name, else the file name. */
  slug: string
  /** Absolute path of the plan file. */
  file: string
  /** Absolute path of the repository the plan is for: as written (relative to the plan file), else its git repo. */
  repo?: string
  executor?: ExecutorSpec
  tasks: PlanTask[]
}

/** A plan that cannot be used, with where the problem is. */
export class PlanError extends Error {
  readonly file: string
  /** 1-based line in the file; null when the problem is the file as a whole. */
  readonly line: number | null
  /** The task the problem is in, when there is one. */
  readonly taskId: string | null

  constructor(file: string, line: number | null, taskId: string | null, problem: string) {
    const where = line === null ? file : `${file}:${line}`
    super(`${where}: ${taskId === null ? '' : `task ${JSON.stringify(taskId)}: `}${problem}`)
    this.name = 'PlanError'
    this.file = file
    this.line = line
    this.taskId = taskId
  }
}

// Lower case only: task ids name directories, and two ids differing in case would collide on macOS.
const SLUG = /^[a-z0-9]+(?:[-_][a-z0-9]+)*$/
// An argument longer than Linux's MAX_ARG_STRLEN (128 KiB) cannot be passed to an agent CLI.
const MAX_TEXT = 100_000

const pattern = z
  .string()
  .min(1, 'a file pattern is empty')
  .refine((p) => !p.includes('\\'), 'use / in file patterns (backslashes are not supported)')
  .refine(
    (p) => !isAbsolute(p) && !/^[A-Za-z]:/.test(p),
    'file patterns must be relative to the repository root',
  )
  .refine((p) => !p.split('/').includes('..'), 'file patterns may not contain `..`')
  .refine((p) => !p.startsWith('!'), 'negated file patterns (`!…`) are not supported')
  .refine(
    (p) => p.replace(/^(\.\/)+/, '') !== '' && p !== '.',
    'a file pattern must name files, not the root',
  )

const executorSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('shell'), command: z.string().min(1).optional() }),
  z.strictObject({
    type: z.literal('pawan'),
    model: z.string().min(1).optional(),
    timeoutSeconds: z.number().int().positive().optional(),
  }),
  z.strictObject({ type: z.literal('claude'), args: z.array(z.string()).optional() }),
])

const taskSchema = z.strictObject({
  id: z
    .string()
    .max(64)
    .regex(SLUG, 'id must be a lower-case slug (letters, digits, - and _), like `add-login`'),
  description: z.string().trim().min(1, 'description is empty').max(MAX_TEXT),
  files: z.array(pattern).min(1, 'files must list at least one path or glob'),
  depends_on: z.array(z.string()).optional(),
  executor: executorSchema.optional(),
  command: z.string().min(1).optional(),
  prompt: z.string().trim().min(1).max(MAX_TEXT).optional(),
})

const planSchema = z.strictObject({
  name: z.string().min(1).optional(),
  repo: z.string().min(1).optional(),
  executor: executorSchema.optional(),
  tasks: z.array(taskSchema).min(1, 'tasks is empty'),
})

/** Exported for option validation elsewhere in waves. */
export const executorSpecSchema = executorSchema

type Path = readonly (string | number)[]

/** The parsed value plus a way to find the line of any path in it. */
interface Source {
  value: unknown
  lineOf(path: Path): number | null
}

function yamlSource(text: string, file: string, lineOffset: number): Source {
  const parsed = parseYaml(text, z.unknown())
  if (!parsed.ok) {
    const issue = parsed.issues[0]!
    throw new PlanError(
      file,
      issue.line === null ? null : issue.line + lineOffset,
      null,
      `not valid YAML: ${issue.message}`,
    )
  }
  return {
    value: parsed.value,
    lineOf(path) {
      const line = parsed.lineOf(path)
      return line === null ? null : line + lineOffset
    },
  }
}

function jsonSource(text: string, file: string): Source {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    const message = (error as Error).message
    const line = /\(line (\d+) column/.exec(message)?.[1]
    throw new PlanError(file, line ? Number(line) : null, null, `not valid JSON: ${message}`)
  }
  // JSON is YAML, so the YAML parser can give lines; if it disagrees with JSON.parse, go without lines.
  try {
    const located = yamlSource(text, file, 0)
    return { value, lineOf: located.lineOf }
  } catch {
    return { value, lineOf: () => null }
  }
}

function markdownSource(text: string, file: string): Source {
  const lines = text.split('\n')
  const blocks: Array<{ line: number; body: string }> = []
  for (let i = 0; i < lines.length; i++) {
    const open = /^ {0,3}(`{3,}|~{3,})\s*(\S*)/.exec(lines[i]!)
    if (!open) continue
    const fence = open[1]!
    const lang = open[2]!.toLowerCase()
    let end = i + 1
    while (end < lines.length && !new RegExp(`^ {0,3}${fence[0]}{${fence.length},}\\s*$`).test(lines[end]!))
      end++
    if (lang === 'yaml' || lang === 'yml')
      blocks.push({ line: i + 1, body: lines.slice(i + 1, end).join('\n') })
    i = end
  }
  const plans = blocks.filter((b) => /^tasks\s*:/m.test(b.body))
  if (plans.length === 0) {
    throw new PlanError(file, null, null, 'no fenced ```yaml block with a top-level `tasks:` key')
  }
  if (plans.length > 1) {
    throw new PlanError(
      file,
      plans[1]!.line,
      null,
      `a second fenced yaml block with \`tasks:\` (the first is at line ${plans[0]!.line}); keep one plan per file`,
    )
  }
  return yamlSource(plans[0]!.body, file, plans[0]!.line)
}

function slugify(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48)
    .replace(/-+$/, '')
}

function normalizePattern(p: string): string {
  const path = p.replace(/^(\.\/)+/, '').replace(/\/{2,}/g, '/')
  return path.endsWith('/') ? `${path}**` : path
}

/** Finds a dependency cycle, as the list of ids that closes it (first id repeated last), or null. */
function findCycle(tasks: ReadonlyMap<string, readonly string[]>): string[] | null {
  const state = new Map<string, 'active' | 'done'>()
  const stack: string[] = []
  const visit = (id: string): string[] | null => {
    state.set(id, 'active')
    stack.push(id)
    for (const dep of tasks.get(id) ?? []) {
      const seen = state.get(dep)
      if (seen === 'active') return [...stack.slice(stack.indexOf(dep)), dep]
      if (seen === undefined) {
        const cycle = visit(dep)
        if (cycle) return cycle
      }
    }
    stack.pop()
    state.set(id, 'done')
    return null
  }
  for (const id of tasks.keys()) {
    if (state.has(id)) continue
    const cycle = visit(id)
    if (cycle) return cycle
  }
  return null
}

/**
 * Parses and checks a plan's text. The format follows the file's extension: `.yaml`/`.yml`, `.json`, or `.md` (one
 * fenced yaml block with a top-level `tasks:`). Throws a `PlanError` naming the file, the line and the task for a
 * syntax error, a missing or mistyped field, a duplicate id, an unknown `depends_on`, a dependency cycle, an empty
 * `files` list, or an absolute or `..` path. A relative `repo` is resolved against the plan's directory.
 *
 * @example
 * const plan = parsePlan('tasks:\n  - id: a\n    description: Add login\n    files: [src/login.ts]\n', 'plan.yaml')
 * plan.tasks[0] // { id: 'a', description: 'Add login', files: ['src/login.ts'], dependsOn: [], prompt: 'Add login', line: 2 }
 */
export function parsePlan(text: string, file: string): Plan {
  const path = resolve(file)
  const ext = extname(path).toLowerCase()
  const source =
    ext === '.json'
      ? jsonSource(text, path)
      : ext === '.md' || ext === '.markdown'
        ? markdownSource(text, path)
        : yamlSource(text, path, 0)

  const raw = source.value
  const rawTasks = (raw as { tasks?: unknown } | null)?.tasks
  const idAt = (index: number): string | null => {
    const id = Array.isArray(rawTasks) ? (rawTasks[index] as { id?: unknown } | null)?.id : undefined
    return typeof id === 'string' ? id : null
  }

  const parsed = planSchema.safeParse(raw)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    const issuePath = issue.path.filter((k): k is string | number => typeof k !== 'symbol')
    const taskId = issuePath[0] === 'tasks' && typeof issuePath[1] === 'number' ? idAt(issuePath[1]) : null
    const field = issuePath.length > 0 ? `${issuePath.join('.')}: ` : ''
    const more =
      parsed.error.issues.length > 1 ? ` (and ${parsed.error.issues.length - 1} more problems)` : ''
    throw new PlanError(path, source.lineOf(issuePath), taskId, `${field}${issue.message}${more}`)
  }
  const data = parsed.data

  const seen = new Map<string, number>()
  data.tasks.forEach((task, i) => {
    const first = seen.get(task.id)
    if (first !== undefined) {
      const firstLine = source.lineOf(['tasks', first])
      throw new PlanError(
        path,
        source.lineOf(['tasks', i, 'id']),
        task.id,
        `duplicate task id (first defined${firstLine === null ? '' : ` at line ${firstLine}`})`,
      )
    }
    seen.set(task.id, i)
  })

  const deps = new Map<string, string[]>()
  data.tasks.forEach((task, i) => {
    const list: string[] = []
    ;(task.depends_on ?? []).forEach((dep, j) => {
      if (!seen.has(dep)) {
        throw new PlanError(
          path,
          source.lineOf(['tasks', i, 'depends_on', j]),
          task.id,
          `depends_on names unknown task ${JSON.stringify(dep)}`,
        )
      }
      if (!list.includes(dep)) list.push(dep)
    })
    deps.set(task.id, list)
    if (task.executor && task.executor.type !== 'shell' && task.command !== undefined) {
      throw new PlanError(
        path,
        source.lineOf(['tasks', i, 'command']),
        task.id,
        `command is for the shell executor, but the task's executor is ${task.executor.type}`,
      )
    }
    if (
      task.executor?.type === 'shell' &&
      task.executor.command === undefined &&
      task.command === undefined
    ) {
      throw new PlanError(
        path,
        source.lineOf(['tasks', i, 'executor']),
        task.id,
        'the shell executor needs a command',
      )
    }
  })

  const cycle = findCycle(deps)
  if (cycle) {
    const index = seen.get(cycle[0]!)!
    const j = data.tasks[index]!.depends_on?.indexOf(cycle[1]!) ?? -1
    throw new PlanError(
      path,
      source.lineOf(['tasks', index, 'depends_on', j]),
      cycle[0]!,
      `dependency cycle: ${cycle.join(' → ')}`,
    )
  }

  const stem = basename(path, extname(path))
  const fromFile = stem.toLowerCase() === 'plan' ? basename(dirname(path)) : stem
  const tasks = data.tasks.map((task, i): PlanTask => {
    const out: PlanTask = {
      id: task.id,
      description: task.description,
      files: [...new Set(task.files.map(normalizePattern))],
      dependsOn: deps.get(task.id)!,
      prompt: task.prompt ?? task.description,
    }
    if (task.executor) out.executor = task.executor
    if (task.command !== undefined) out.command = task.command
    const line = source.lineOf(['tasks', i])
    if (line !== null) out.line = line
    return out
  })
  const plan: Plan = {
    slug: slugify(data.name ?? '') || slugify(fromFile) || 'plan',
    file: path,
    tasks,
  }
  if (data.name !== undefined) plan.name = data.name
  if (data.repo !== undefined) plan.repo = resolve(dirname(path), data.repo)
  if (data.executor) plan.executor = data.executor
  return plan
}

/**
 * Reads and checks a plan file (see `parsePlan`). Without a `repo` in the plan, the repo is the git repository the
 * plan file lives in, if any.
 *
 * @example
 * const plan = await loadPlan('docs/auth/PLAN.md') // { slug: 'auth', repo: '/home/me/app', tasks: [...] }
 */
export async function loadPlan(file: string): Promise<Plan> {
  const path = resolve(file)
  let text: string
  try {
    text = (await readFile(path, 'utf8')).replace(/^\uFEFF/, '') // a byte-order mark is not content
  } catch (error) {
    throw new PlanError(path, null, null, `cannot read the plan: ${(error as Error).message}`)
  }
  const plan = parsePlan(text, path)
  if (plan.repo === undefined) {
    const repo = findRepo(dirname(path))
    if (repo) plan.repo = repo.root
  }
  return plan
}

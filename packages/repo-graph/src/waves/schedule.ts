// Groups a plan's tasks into waves: a task runs after every task it depends on, and never beside a task whose
// declared files could touch the same file.

import { runGit } from '@dstack/git'
import { findOverlaps, type PatternOverlap } from './overlap.ts'
import type { Plan, PlanTask } from './plan.ts'

export interface Wave {
  /** 1-based. */
  index: number
  /** Task ids, in plan order. */
  tasks: string[]
}

/** A task placed later than its dependencies allow, because of tasks already in the earlier waves. */
export interface Deferral {
  task: string
  /** The earliest wave its dependencies allowed. */
  earliest: number
  /** The wave it got. */
  wave: number
  /** For each wave it skipped, the tasks there it could collide with and the patterns that overlap. */
  conflicts: Array<{ wave: number; task: string; overlaps: PatternOverlap[] }>
}

export interface Waves {
  waves: Wave[]
  /** Task id → its wave's index. */
  waveOf: Record<string, number>
  /** The longest chain of `depends_on`, first task first: no schedule has fewer waves than it has tasks. */
  criticalPath: string[]
  /** `criticalPath.length`: the lower bound to compare `waves.length` with. */
  criticalPathLength: number
  deferred: Deferral[]
}

export interface PlanWavesOptions {
  /** The repository's tracked files, so overlaps between globs name real files. */
  trackedFiles?: readonly string[]
}

/** Tasks in dependency order; among tasks ready at the same time, plan order wins, so the result is deterministic. */
function topologicalOrder(tasks: readonly PlanTask[]): PlanTask[] {
  const waiting = new Map(tasks.map((t) => [t.id, new Set(t.dependsOn)]))
  const order: PlanTask[] = []
  const placed = new Set<string>()
  while (order.length < tasks.length) {
    const next = tasks.find((t) => !placed.has(t.id) && waiting.get(t.id)!.size === 0)
    if (!next) {
      const stuck = tasks.filter((t) => !placed.has(t.id)).map((t) => t.id)
      throw new Error(`dependency cycle or unknown dependency among tasks ${stuck.join(', ')}`)
    }
    order.push(next)
    placed.add(next.id)
    for (const deps of waiting.values()) deps.delete(next.id)
  }
  return order
}

/**
 * Plans the waves: tasks in topological order (plan order breaks ties), each put in the earliest wave after all its
 * dependencies' waves where no task's declared files overlap its own (see `findOverlaps`). Pure and deterministic.
 * Reports the critical path (the longest dependency chain) as a lower bound on the number of waves.
 *
 * @example
 * const w = planWaves(plan)
 * w.waves // [{ index: 1, tasks: ['api', 'docs'] }, { index: 2, tasks: ['ui'] }]
 * w.criticalPathLength // 2
 */
export function planWaves(plan: Plan, options: PlanWavesOptions = {}): Waves {
  const overlapOptions = options.trackedFiles ? { trackedFiles: options.trackedFiles } : {}
  const position = new Map(plan.tasks.map((t, i) => [t.id, i]))
  const members: PlanTask[][] = []
  const waveOf: Record<string, number> = {}
  const deferred: Deferral[] = []
  // Longest chain ending at each task, for the critical path.
  const chain = new Map<string, string[]>()

  for (const task of topologicalOrder(plan.tasks)) {
    const earliest = Math.max(0, ...task.dependsOn.map((d) => waveOf[d]!)) + 1
    const conflicts: Deferral['conflicts'] = []
    let wave = earliest
    for (; ; wave++) {
      const here = members[wave - 1] ?? []
      const clashes = here
        .map((other) => ({
          wave,
          task: other.id,
          overlaps: findOverlaps(task.files, other.files, overlapOptions),
        }))
        .filter((c) => c.overlaps.length > 0)
      if (clashes.length === 0) break
      conflicts.push(...clashes)
    }
    while (members.length < wave) members.push([])
    members[wave - 1]!.push(task)
    waveOf[task.id] = wave
    if (wave > earliest) deferred.push({ task: task.id, earliest, wave, conflicts })

    let longest: string[] = []
    for (const dep of task.dependsOn) {
      const c = chain.get(dep)!
      if (c.length > longest.length) longest = c
    }
    chain.set(task.id, [...longest, task.id])
  }

  let criticalPath: string[] = []
  for (const task of plan.tasks) {
    const c = chain.get(task.id)!
    if (c.length > criticalPath.length) criticalPath = c
  }
  const waves = members.map((tasks, i) => ({
    index: i + 1,
    tasks: tasks.sort((x, y) => position.get(x.id)! - position.get(y.id)!).map((t) => t.id),
  }))
  return { waves, waveOf, criticalPath, criticalPathLength: criticalPath.length, deferred }
}

/**
 * The files git tracks in `repo`, repo-relative: what `planWaves` compares globs against, so `src/**` and
 * `src/a.ts` are known to collide.
 *
 * @example
 * planWaves(plan, { trackedFiles: await trackedFiles(plan.repo) })
 */
export async function trackedFiles(repo: string): Promise<string[]> {
  const { stdout } = await runGit(repo, ['ls-files', '-z'], { timeoutMs: 120_000 })
  return stdout.split('\0').filter(Boolean)
}

import { describe, expect, it } from 'vitest'
import { findOverlaps } from '../../src/waves/overlap.ts'
import type { Plan, PlanTask } from '../../src/waves/plan.ts'
import { planWaves, type Waves } from '../../src/waves/schedule.ts'

function task(id: string, files: string[], dependsOn: string[] = []): PlanTask {
  return { id, description: id, files, dependsOn, prompt: id }
}

function plan(tasks: PlanTask[]): Plan {
  return { slug: 'p', file: '/p/plan.yaml', tasks }
}

/** Checks the two invariants every schedule must hold. */
function assertValid(p: Plan, w: Waves, trackedFiles?: string[]): void {
  const all = w.waves.flatMap((x) => x.tasks)
  expect([...all].sort()).toEqual(p.tasks.map((t) => t.id).sort())
  const byId = new Map(p.tasks.map((t) => [t.id, t]))
  for (const t of p.tasks) {
    for (const d of t.dependsOn) expect(w.waveOf[t.id]!).toBeGreaterThan(w.waveOf[d]!)
  }
  for (const wave of w.waves) {
    expect(wave.tasks.length).toBeGreaterThan(0)
    for (const [i, a] of wave.tasks.entries()) {
      for (const b of wave.tasks.slice(i + 1)) {
        expect(findOverlaps(byId.get(a)!.files, byId.get(b)!.files, { trackedFiles })).toEqual([])
      }
    }
  }
  expect(w.waves.length).toBeGreaterThanOrEqual(w.criticalPathLength)
}

describe('planWaves', () => {
  it('puts independent, disjoint tasks in one wave', () => {
    const p = plan([task('a', ['a.txt']), task('b', ['b.txt']), task('c', ['src/**'])])
    const w = planWaves(p)
    expect(w.waves).toEqual([{ index: 1, tasks: ['a', 'b', 'c'] }])
    expect(w.criticalPathLength).toBe(1)
    expect(w.deferred).toEqual([])
  })

  it('respects depends_on', () => {
    const p = plan([task('b', ['b.txt'], ['a']), task('a', ['a.txt']), task('c', ['c.txt'], ['b'])])
    const w = planWaves(p)
    expect(w.waves.map((x) => x.tasks)).toEqual([['a'], ['b'], ['c']])
    expect(w.criticalPath).toEqual(['a', 'b', 'c'])
    assertValid(p, w)
  })

  it('never puts overlapping tasks in one wave, and says why it deferred', () => {
    const p = plan([task('a', ['src/**/*.ts']), task('b', ['src/a/x.ts']), task('c', ['docs/**'])])
    const w = planWaves(p)
    expect(w.waves.map((x) => x.tasks)).toEqual([['a', 'c'], ['b']])
    expect(w.deferred).toEqual([
      {
        task: 'b',
        earliest: 1,
        wave: 2,
        conflicts: [
          {
            wave: 1,
            task: 'a',
            overlaps: [
              { left: 'src/a/x.ts', right: 'src/**/*.ts', rule: 'path-matches-glob', files: ['src/a/x.ts'] },
            ],
          },
        ],
      },
    ])
    assertValid(p, w)
  })

  it('schedules a diamond in three waves', () => {
    const p = plan([
      task('top', ['top.ts']),
      task('left', ['left.ts'], ['top']),
      task('right', ['right.ts'], ['top']),
      task('bottom', ['bottom.ts'], ['left', 'right']),
    ])
    const w = planWaves(p)
    expect(w.waves.map((x) => x.tasks)).toEqual([['top'], ['left', 'right'], ['bottom']])
    expect(w.criticalPathLength).toBe(3)
    expect(w.criticalPath).toEqual(['top', 'left', 'bottom'])
  })

  it('splits a diamond whose middle tasks overlap', () => {
    const p = plan([
      task('top', ['top.ts']),
      task('left', ['shared/**'], ['top']),
      task('right', ['shared/x.ts'], ['top']),
      task('bottom', ['bottom.ts'], ['left', 'right']),
    ])
    const w = planWaves(p)
    expect(w.waves.map((x) => x.tasks)).toEqual([['top'], ['left'], ['right'], ['bottom']])
    expect(w.criticalPathLength).toBe(3)
    assertValid(p, w)
  })

  it('is deterministic, and uses tracked files only to name overlaps', () => {
    const p = plan([task('a', ['src/**/*.ts']), task('b', ['src/lib/**']), task('c', ['docs/*.md'], ['a'])])
    const trackedFiles = ['src/lib/x.ts', 'docs/readme.md']
    const first = planWaves(p, { trackedFiles })
    expect(planWaves(p, { trackedFiles })).toEqual(first)
    expect(first.waves.map((x) => x.tasks)).toEqual([['a'], ['b', 'c']])
    expect(first.deferred[0]!.conflicts[0]!.overlaps[0]!.files).toEqual(['src/lib/x.ts'])
  })

  it('schedules 30 tasks with chains and shared files validly and reproducibly', () => {
    const tasks: PlanTask[] = []
    for (let i = 0; i < 30; i++) {
      const files = [`pkg${i % 5}/file${i}.ts`]
      // Every third task also edits its package's index: those collide with each other.
      if (i % 3 === 0) files.push(`pkg${i % 5}/index.ts`)
      // Every seventh task touches all of pkg0 with a glob.
      if (i % 7 === 0) files.push('pkg0/**')
      const deps = i >= 10 && i % 4 === 0 ? [`t${i - 4}`, `t${i - 3}`] : []
      tasks.push(task(`t${i}`, files, deps))
    }
    const p = plan(tasks)
    const w = planWaves(p)
    assertValid(p, w)
    expect(planWaves(plan([...tasks])).waves).toEqual(w.waves)
    // t12 needs t8 and t9, t16 needs t12 and t13, … t28 needs t24 and t25: the chain from t8 is the longest.
    expect(w.criticalPath).toEqual(['t8', 't12', 't16', 't20', 't24', 't28'])
    expect(w.waves.length).toBeGreaterThan(1)
  })

  it('rejects a cycle in a plan built by code', () => {
    const p = plan([task('a', ['a'], ['b']), task('b', ['b'], ['a'])])
    expect(() => planWaves(p)).toThrow(/cycle/)
  })
})

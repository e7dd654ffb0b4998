import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BLOCK_BEGIN, BLOCK_END, companionPath, updateImplementationDoc } from '../../src/waves/companion.ts'
import { type ExecutionReport, executePlan } from '../../src/waves/execute.ts'
import { parsePlan } from '../../src/waves/plan.ts'
import { cleanup, initRepo, tempDir } from './helpers.ts'

afterAll(cleanup)

const PLAN = `# Docs run

\`\`\`yaml
name: Docs run
tasks:
  - id: a
    description: Edit a
    files: [a.txt]
    command: echo A >> a.txt
  - id: b
    description: Edit b
    files: [b.txt]
    command: echo B >> b.txt && echo B >> a.txt
  - id: c
    description: After a
    files: [c.txt]
    depends_on: [a]
    command: echo C > c.txt
\`\`\`
`

let stopped: ExecutionReport
let completed: ExecutionReport

beforeAll(async () => {
  const dir = tempDir()
  // Real runs: one where b secretly edits a's file (stopped), one where it does not (completed).
  stopped = await executePlan(parsePlan(PLAN, join(dir, 'PLAN.md')), { repo: initRepo({ 'a.txt': 'a\n' }) })
  const clean = PLAN.replace(' && echo B >> a.txt', '')
  completed = await executePlan(parsePlan(clean, join(dir, 'PLAN.md')), {
    repo: initRepo({ 'a.txt': 'a\n' }),
  })
})

function count(text: string, marker: string): number {
  return text.split(marker).length - 1
}

describe('companionPath', () => {
  it('is IMPLEMENTATION.md beside PLAN.md, else <name>.implementation.md', () => {
    expect(companionPath('/x/docs/PLAN.md')).toBe('/x/docs/IMPLEMENTATION.md')
    expect(companionPath('/x/waves.yaml')).toBe('/x/waves.implementation.md')
    expect(companionPath('/x/work.json')).toBe('/x/work.implementation.md')
  })
})

describe('updateImplementationDoc', () => {
  it('keeps the humans’ text, replaces its own block on every run, never duplicates it', async () => {
    const dir = tempDir()
    const planFile = join(dir, 'PLAN.md')
    const doc = join(dir, 'IMPLEMENTATION.md')
    writeFileSync(doc, '# Implementation notes\n\nWe chose the shell executor on purpose.\n')

    expect(await updateImplementationDoc(planFile, stopped)).toBe(doc)
    const first = readFileSync(doc, 'utf8')
    expect(first.startsWith('# Implementation notes\n\nWe chose the shell executor on purpose.\n\n')).toBe(
      true,
    )
    expect(count(first, BLOCK_BEGIN)).toBe(1)
    expect(count(first, BLOCK_END)).toBe(1)
    expect(first).toContain('**Outcome:** stopped (overlap): wave 1: files changed by more than one task')
    expect(first).toContain('**Overlaps the plan missed**')
    expect(first).toContain('- `a.txt`: a, b')
    expect(first).toContain('Undeclared (not in its files): `a.txt`')
    expect(first).toContain('declared `b.txt`; changed `a.txt`, `b.txt`')
    expect(first).toContain('### Wave 2: not run')
    expect(first).toContain('Kept: worktree')
    expect(first).toContain('git worktree remove --force')
    expect(first).toContain(stopped.startedAt)

    // A human adds text after the block; the next run replaces only the block.
    writeFileSync(doc, `${first}\n## Follow-up\n\nMerge b by hand.\n`)
    await updateImplementationDoc(planFile, completed)
    const second = readFileSync(doc, 'utf8')
    expect(second.startsWith('# Implementation notes\n\nWe chose the shell executor on purpose.\n\n')).toBe(
      true,
    )
    expect(second.endsWith('\n## Follow-up\n\nMerge b by hand.\n')).toBe(true)
    expect(count(second, BLOCK_BEGIN)).toBe(1)
    expect(count(second, BLOCK_END)).toBe(1)
    expect(second).toContain('completed: every selected wave was merged')
    expect(second).toContain('### Wave 2: merged')
    expect(second).not.toContain('Overlaps the plan missed')
    expect(second).not.toContain(stopped.startedAt)
    const commit = completed.waves[1]!.tasks[0]!.commit!.slice(0, 12)
    expect(second).toContain(`\`${commit}\``)

    // Atomic write: no temp file is left beside the doc.
    expect(readdirSync(dir)).toEqual(['IMPLEMENTATION.md'])
  })

  it('creates <plan>.implementation.md with a title when missing', async () => {
    const dir = tempDir()
    const path = await updateImplementationDoc(join(dir, 'waves.yaml'), completed)
    expect(path).toBe(join(dir, 'waves.implementation.md'))
    const text = readFileSync(path, 'utf8')
    expect(text.startsWith('# Implementation: Docs run\n')).toBe(true)
    expect(count(text, BLOCK_BEGIN)).toBe(1)
    expect(text.endsWith(`${BLOCK_END}\n`)).toBe(true)
  })

  it('refuses a damaged block instead of guessing, naming the line', async () => {
    const dir = tempDir()
    const doc = join(dir, 'IMPLEMENTATION.md')
    const damaged = `# Notes\n\n${BLOCK_BEGIN}\nold\n\nhuman text that must not be lost\n`
    writeFileSync(doc, damaged)
    await expect(updateImplementationDoc(join(dir, 'PLAN.md'), completed)).rejects.toThrow(
      /IMPLEMENTATION\.md:3: the dstack block is damaged/,
    )
    expect(readFileSync(doc, 'utf8')).toBe(damaged)
  })
})

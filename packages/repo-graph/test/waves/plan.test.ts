import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { loadPlan, PlanError, parsePlan } from '../../src/waves/plan.ts'
import { cleanup, initRepo, tempDir } from './helpers.ts'

afterAll(cleanup)

function refusal(text: string, file = '/p/plan.yaml'): PlanError {
  try {
    parsePlan(text, file)
  } catch (error) {
    expect(error).toBeInstanceOf(PlanError)
    return error as PlanError
  }
  throw new Error('the plan was accepted')
}

const yamlPlan = `name: Auth work
executor:
  type: shell
  command: "true"
tasks:
  - id: api
    description: Add the login endpoint
    files: [src/api/login.ts, ./src/api/]
  - id: ui
    description: Login form
    files:
      - src/ui/**/*.tsx
    depends_on: [api, api]
    prompt: Build the form
  - id: docs
    description: Document it
    files: [docs/login.md]
    command: echo docs
`

describe('parsePlan', () => {
  it('reads a YAML plan, normalising paths and defaults', () => {
    const plan = parsePlan(yamlPlan, '/p/auth.yaml')
    expect(plan.name).toBe('Auth work')
    expect(plan.slug).toBe('auth-work')
    expect(plan.file).toBe('/p/auth.yaml')
    expect(plan.executor).toEqual({ type: 'shell', command: 'true' })
    expect(plan.tasks.map((t) => t.id)).toEqual(['api', 'ui', 'docs'])
    expect(plan.tasks[0]).toEqual({
      id: 'api',
      description: 'Add the login endpoint',
      files: ['src/api/login.ts', 'src/api/**'],
      dependsOn: [],
      prompt: 'Add the login endpoint',
      line: 6,
    })
    expect(plan.tasks[1]!.dependsOn).toEqual(['api'])
    expect(plan.tasks[1]!.prompt).toBe('Build the form')
    expect(plan.tasks[2]!.command).toBe('echo docs')
    expect(plan.tasks[2]!.line).toBe(15)
  })

  it('reads the same plan from JSON, with lines', () => {
    const json = JSON.stringify(
      {
        tasks: [
          { id: 'a', description: 'A', files: ['a.txt'] },
          { id: 'b', description: 'B', files: ['b.txt'], depends_on: ['a'] },
        ],
      },
      null,
      2,
    )
    const plan = parsePlan(json, '/p/work.json')
    expect(plan.slug).toBe('work')
    expect(plan.tasks.map((t) => [t.id, t.dependsOn, t.line])).toEqual([
      ['a', [], 3],
      ['b', ['a'], 10],
    ])
  })

  it('reads the one yaml block with tasks: from a PLAN.md, lines counted in the markdown file', () => {
    const md = [
      '# Auth plan', // 1
      '', // 2
      '```yaml', // 3
      'note: not the plan', // 4
      '```', // 5
      '', // 6
      '```ts', // 7
      'tasks: []', // 8
      '```', // 9
      '```yaml', // 10
      'tasks:', // 11
      '  - id: a', // 12
      '    description: A', // 13
      '    files: [a.txt]', // 14
      '  - id: b', // 15
      '    description: B', // 16
      '    files: [b.txt]', // 17
      '    depends_on: [nope]', // 18
      '```', // 19
    ].join('\n')
    const good = md.replace('[nope]', '[a]')
    const plan = parsePlan(good, '/p/auth/PLAN.md')
    expect(plan.slug).toBe('auth')
    expect(plan.tasks.map((t) => t.line)).toEqual([12, 15])
    const error = refusal(md, '/p/auth/PLAN.md')
    expect(error.line).toBe(18)
    expect(error.taskId).toBe('b')
    expect(error.message).toContain('/p/auth/PLAN.md:18')
    expect(error.message).toContain('unknown task "nope"')
  })

  it('refuses a markdown file without a plan block, or with two', () => {
    expect(refusal('# nothing\n```yaml\na: 1\n```\n', '/p/PLAN.md').message).toContain(
      'no fenced ```yaml block',
    )
    const two = '```yaml\ntasks: []\n```\n\n```yml\ntasks: []\n```\n'
    const error = refusal(two, '/p/PLAN.md')
    expect(error.line).toBe(5)
    expect(error.message).toContain('first is at line 1')
  })

  it('refuses duplicate ids at the second one', () => {
    const error = refusal(
      'tasks:\n  - id: a\n    description: A\n    files: [a]\n  - id: a\n    description: B\n    files: [b]\n',
    )
    expect(error.line).toBe(5)
    expect(error.taskId).toBe('a')
    expect(error.message).toContain('duplicate task id (first defined at line 2)')
  })

  it('refuses a dependency cycle and names it', () => {
    const text = [
      'tasks:',
      '  - id: a',
      '    description: A',
      '    files: [a]',
      '    depends_on: [c]',
      '  - id: b',
      '    description: B',
      '    files: [b]',
      '    depends_on: [a]',
      '  - id: c',
      '    description: C',
      '    files: [c]',
      '    depends_on: [b]',
    ].join('\n')
    const error = refusal(text)
    expect(error.message).toContain('dependency cycle: a → c → b → a')
    expect(error.line).toBe(5)
    expect(
      refusal('tasks:\n  - id: a\n    description: A\n    files: [a]\n    depends_on: [a]\n').message,
    ).toContain('a → a')
  })

  it('refuses empty files, absolute paths and .. with the line of the entry', () => {
    const empty = refusal('tasks:\n  - id: a\n    description: A\n    files: []\n')
    expect(empty.line).toBe(4)
    expect(empty.taskId).toBe('a')
    expect(empty.message).toContain('at least one')

    const absolute = refusal(
      'tasks:\n  - id: a\n    description: A\n    files:\n      - ok.txt\n      - /etc/passwd\n',
    )
    expect(absolute.line).toBe(6)
    expect(absolute.message).toContain('relative to the repository root')

    const dotdot = refusal('tasks:\n  - id: a\n    description: A\n    files: [src/../../x]\n')
    expect(dotdot.line).toBe(4)
    expect(dotdot.message).toContain('`..`')
  })

  it('refuses missing fields, bad ids and unknown keys, naming the task', () => {
    const missing = refusal(
      'tasks:\n  - id: a\n    description: A\n  - id: b\n    files: [b]\n    description: B\n',
    )
    expect(missing.line).toBe(2)
    expect(missing.taskId).toBe('a')
    expect(missing.message).toContain('files')

    const badId = refusal('tasks:\n  - id: Add Login\n    description: A\n    files: [a]\n')
    expect(badId.line).toBe(2)
    expect(badId.message).toContain('lower-case slug')

    const typo = refusal('tasks:\n  - id: a\n    description: A\n    files: [a]\n    depends-on: [b]\n')
    expect(typo.message).toContain('depends-on')
  })

  it('refuses a command on a non-shell executor and a shell executor without command', () => {
    const mixed = refusal(
      'tasks:\n  - id: a\n    description: A\n    files: [a]\n    executor: { type: pawan }\n    command: make\n',
    )
    expect(mixed.line).toBe(6)
    const bare = refusal(
      'tasks:\n  - id: a\n    description: A\n    files: [a]\n    executor: { type: shell }\n',
    )
    expect(bare.line).toBe(5)
    expect(bare.message).toContain('needs a command')
  })

  it('reports syntax errors with their line, in YAML and JSON', () => {
    const yaml = refusal('tasks:\n  - id: a\n    description: "unclosed\n', '/p/x.yaml')
    expect(yaml.message).toContain('not valid YAML')
    expect(yaml.line).toBeGreaterThanOrEqual(3)
    const json = refusal('{\n  "tasks": [\n    {"id": "a",}\n  ]\n}', '/p/x.json')
    expect(json.message).toContain('not valid JSON')
    expect(json.line).toBe(3)
  })
})

describe('loadPlan', () => {
  it('defaults repo to the git repository holding the plan, and resolves a relative repo', async () => {
    const repo = initRepo()
    mkdirSync(join(repo, 'docs'))
    const file = join(repo, 'docs', 'PLAN.md')
    writeFileSync(file, '# Plan\n\n```yaml\ntasks:\n  - id: a\n    description: A\n    files: [a]\n```\n')
    const plan = await loadPlan(file)
    expect(plan.repo).toBe(repo)
    expect(plan.slug).toBe('docs')

    const outside = tempDir()
    const other = join(outside, 'p.yml')
    writeFileSync(
      other,
      `repo: ../${repo.split('/').pop()}\ntasks:\n  - id: a\n    description: A\n    files: [a]\n`,
    )
    expect((await loadPlan(other)).repo).toBe(repo)
  })

  it('names the file when it cannot be read', async () => {
    await expect(loadPlan('/nonexistent/plan.yaml')).rejects.toThrow(/\/nonexistent\/plan\.yaml: cannot read/)
  })
})

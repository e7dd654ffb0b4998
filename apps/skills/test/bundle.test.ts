// The skills bundle as shipped (the repository's skills/), and the validator on broken input.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir } from '@dstack/git/testing'
import { describe, expect, it } from 'vitest'
import {
  bundleRoot,
  type CliManifest,
  checkCommand,
  DESCRIPTION_LIMIT,
  LISTING_BUDGET_CHARS,
  listingCost,
  mentionedCommands,
  PLUGIN_ROOT,
  pluginHooks,
  readBundle,
  validateBundle,
  validateHooks,
} from '../src/index.ts'

const CORE = [
  '00-using-dstack',
  '01-spec-first',
  '02-impl-test-pairs',
  '03-multi-repo-ops',
  '04-eruka-memory',
  '05-pawan-delegation',
  '06-companion-docs',
  '07-wave-execution',
  '08-vps-deploy',
  '09-quality-gates',
  '10-git-discipline',
  '11-debug-systematic',
  '12-nim-model-triage',
  '13-context-engineering',
]
const BRAIN = ['intent', 'handoff', 'decide', 'why', 'standup', 'presence', 'ship']
const BROWSER = ['browse', 'qa', 'qa-only', 'scrape']
const COMMANDS = ['audit', 'delegate', 'deploy', 'execute', 'plan', 'sync', 'verify']

/** A small CLI for the validator tests (the real one is checked in apps/cli's tests, where it is built). */
const MANIFEST: CliManifest = {
  commands: {
    deploy: {
      id: 'deploy',
      args: { service: { name: 'service' } },
      flags: {
        'dry-run': { name: 'dry-run', type: 'boolean' },
        host: { name: 'host', type: 'option' },
        json: { name: 'json', type: 'boolean' },
      },
    },
    'deploy:status': {
      id: 'deploy:status',
      args: { service: { name: 'service', required: true } },
      flags: {},
    },
    'gate:answer': {
      id: 'gate:answer',
      args: {},
      flags: { tests: { name: 'tests', type: 'option', required: true, options: ['yes', 'no'] } },
    },
    browse: { id: 'browse', strict: false, args: {}, flags: { agent: { name: 'agent', type: 'option' } } },
    execute: {
      id: 'execute',
      args: { plan: { name: 'plan', required: true } },
      flags: {
        wave: { name: 'wave', type: 'option', multiple: true },
        'dry-run': { name: 'dry-run', char: 'n', type: 'boolean' },
        json: { name: 'json', char: 'j', type: 'boolean' },
      },
    },
  },
}
const check = (text: string, run = true) => checkCommand({ path: 'x', line: 1, text, run }, MANIFEST)

describe('the shipped bundle', () => {
  const bundle = readBundle(bundleRoot())

  it('has every skill and command of the design, and the three templates', () => {
    expect(bundle.skills.map((s) => s.name).sort()).toEqual([...CORE, ...BRAIN, ...BROWSER].sort())
    expect(bundle.commands.map((c) => c.name)).toEqual(COMMANDS)
    expect(bundle.templates).toEqual(['IMPLEMENTATION.md', 'PLAN.md', 'TASK.xml'])
  })

  it('reads with no problem, within Claude Code’s limits and the listing budget', () => {
    expect(bundle.problems).toEqual([])
    for (const doc of [...bundle.skills, ...bundle.commands]) {
      expect(doc.frontmatter, doc.path).not.toBeNull()
      expect(doc.frontmatter!.description.length).toBeLessThanOrEqual(DESCRIPTION_LIMIT)
      expect(doc.frontmatter!.description, doc.path).toMatch(/\bUse\b|\bActivates\b/)
    }
    const cost = listingCost(bundle)
    expect(cost.total).toBeLessThanOrEqual(LISTING_BUDGET_CHARS)
    expect(Object.keys(cost.perEntry)).not.toContain('deploy') // /deploy is never started by the model
  })

  it('every skill that the brief calls auto-activating says so, and file-driven ones carry paths', () => {
    const byName = new Map(bundle.skills.map((s) => [s.name, s.frontmatter!]))
    for (const name of ['02-impl-test-pairs', '03-multi-repo-ops', '06-companion-docs'])
      expect(byName.get(name)!.description, name).toMatch(/Activates/)
    expect(byName.get('02-impl-test-pairs')!.paths).toEqual(expect.arrayContaining(['**/*.rs', '**/*.ts']))
  })

  it('the plugin hooks are valid for their events', () => {
    expect(validateHooks(pluginHooks())).toEqual([])
  })
})

describe('the validator', () => {
  it('names the file and line of each frontmatter problem', () => {
    const root = tempDir('dstack-skills-bad-')
    const skill = (name: string, text: string) => {
      mkdirSync(join(root, name))
      writeFileSync(join(root, name, 'SKILL.md'), text)
    }
    skill('no-front', '# just text\n')
    skill('bad-yaml', '---\nname: bad-yaml\ndescription: a: b: c\n---\nbody\n')
    skill('wrong-name', '---\nname: other\ndescription: Does a thing. Use when testing the validator.\n---\n')
    skill('long', `---\nname: long\ndescription: ${'x'.repeat(DESCRIPTION_LIMIT + 1)}\n---\n`)
    skill(
      'extra-key',
      '---\nname: extra-key\ndescription: Does a thing. Use when testing.\ntriggers: [x]\n---\n',
    )
    mkdirSync(join(root, 'empty-folder'))
    mkdirSync(join(root, 'commands'))
    writeFileSync(
      join(root, 'commands', 'wrong-name.md'),
      '---\nname: wrong-name\ndescription: Clashes with a skill folder. Use when testing.\n---\n',
    )
    const problems = readBundle(root).problems.map((p) => `${p.path}:${p.line}: ${p.message}`)
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^no-front\/SKILL\.md:1: no frontmatter/),
        expect.stringMatching(/^bad-yaml\/SKILL\.md:\d+: frontmatter is not valid YAML/),
        expect.stringMatching(/^wrong-name\/SKILL\.md:2: name "other" must be the folder name "wrong-name"/),
        expect.stringMatching(/^long\/SKILL\.md:3: description: .*1536/),
        expect.stringMatching(/^extra-key\/SKILL\.md:\d+: .*triggers/),
        'empty-folder:0: a skill folder without SKILL.md',
        expect.stringMatching(/^commands\/wrong-name\.md:1: name "wrong-name" is also wrong-name\/SKILL\.md/),
      ]),
    )
  })

  it('finds dstack lines in code blocks (with $ and continuations) and inline code, not in prose', () => {
    const body = [
      'Run `dstack deploy status <service>` first; dstack in prose is ignored.',
      '```sh',
      '$ dstack deploy api \\',
      '    --dry-run   # look first',
      'echo dstack deploy',
      'cd api && DSTACK_AGENT=x dstack deploy --all | tee log',
      '```',
    ].join('\n')
    expect(mentionedCommands({ body, bodyLine: 5, path: 'x.md' })).toEqual([
      { path: 'x.md', line: 5, text: 'dstack deploy status <service>', run: false },
      { path: 'x.md', line: 7, text: 'dstack deploy api --dry-run', run: true },
      { path: 'x.md', line: 10, text: 'dstack deploy --all', run: true },
    ])
  })

  it('checks each line against the CLI: commands, flags, option values, arguments, required parts', () => {
    expect(check('dstack deploy api --dry-run --json')).toBeNull()
    expect(check('dstack deploy status <service>')).toBeNull()
    expect(check('dstack deploy --host=ssh://x api')).toBeNull()
    expect(check('dstack gate answer --tests <yes|no>')).toBeNull()
    expect(check('dstack browse snapshot -i --budget 2000')).toBeNull() // passes its flags on
    expect(check('dstack deploy')).toBeNull()
    expect(check('dstack deploy api --dryrun')).toBe('dstack deploy has no flag --dryrun')
    expect(check('dstack deploy a b')).toBe('dstack deploy takes 1 argument(s), got 2')
    expect(check('dstack deploy api --host')).toBe('dstack deploy --host needs a value')
    expect(check('dstack gate answer --tests maybe')).toBe(
      'dstack gate answer --tests takes yes|no, not maybe',
    )
    expect(check('dstack gate answer')).toBe('dstack gate answer needs --tests')
    expect(check('dstack gate answer', false)).toBeNull() // named in prose, not run
    expect(check('dstack deploy status')).toBe('dstack deploy status needs <service>')
    expect(check('dstack shipit now')).toBe('no command "dstack shipit now"')
    expect(check('dstack deploy api | tee log')).toBeNull()
    expect(check('dstack deploy -dry-run')).toBe('dstack deploy has no flag -d (in -dry-run)')
    expect(check('dstack execute PLAN.md -nj')).toBeNull()
    expect(check('dstack execute PLAN.md --wave 1 --wave 2')).toBeNull()
    // oclif's greedy `multiple` takes PLAN.md as a second --wave value, so the plan is missing.
    expect(check('dstack execute --wave 1 PLAN.md')).toBe('dstack execute needs <plan>')
    expect(check('dstack --version')).toBeNull()
  })

  it('refuses hooks the events would ignore or reject', () => {
    const problems = validateHooks({
      hooks: {
        SessionStart: [
          {
            matcher: 'Bash',
            hooks: [{ type: 'command', command: `${PLUGIN_ROOT}/bin/dstack`, args: [] }],
          },
        ],
        UserPromptSubmit: [{ matcher: 'Edit', hooks: [] }],
        Stop: [
          {
            hooks: [{ type: 'command', command: `${PLUGIN_ROOT}/bin/dstack`, args: [], if: 'Bash(git *)' }],
          },
        ],
        PreToolUse: [{ matcher: 'Bash', hooks: [{ type: 'command', command: 'dstack hook PreToolUse' }] }],
        OnSave: [],
      },
    }).map((p) => p.message)
    expect(problems).toEqual([
      'SessionStart matcher "Bash" is not one of its values',
      'UserPromptSubmit takes no matcher (Claude Code would silently ignore "Edit")',
      'Stop: "if" only works on tool events',
      `PreToolUse: a plugin handler must use the exec form (command + args) under ${PLUGIN_ROOT}`,
      'unknown event OnSave',
    ])
  })

  it('a bundle over the listing budget is a problem', () => {
    const root = tempDir('dstack-skills-budget-')
    for (let i = 0; i < 40; i++) {
      mkdirSync(join(root, `s${i}`))
      writeFileSync(
        join(root, `s${i}`, 'SKILL.md'),
        `---\nname: s${i}\ndescription: ${'Use when '.repeat(25)}\n---\n`,
      )
    }
    const problems = validateBundle(readBundle(root), { manifest: MANIFEST, hooks: pluginHooks() })
    expect(problems.map((p) => p.message)).toEqual([expect.stringMatching(/over the 8000 budget/)])
  })
})

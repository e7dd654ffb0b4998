// Install, list, uninstall into a real .claude directory that already holds the user's own things; build the
// plugin and the adapters; run the plugin's shim.
import { execFileSync, spawnSync } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { tempDir } from '@dstack/git/testing'
import { dstackHookSpecs, installHooks } from '@dstack/hooks'
import { describe, expect, it } from 'vitest'
import {
  buildPlugin,
  bundleRoot,
  generateAdapters,
  installBundle,
  installTarget,
  listInstalled,
  PLUGIN_ROOT,
  readBundle,
  uninstallBundle,
  validateHooks,
} from '../src/index.ts'

const bundle = readBundle(bundleRoot())

/** Every file under `dir` with its bytes and mode: the whole tree, to compare before and after. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name)
      if (statSync(path).isDirectory()) walk(path)
      else
        out[relative(dir, path)] =
          `${(statSync(path).mode & 0o777).toString(8)} ${readFileSync(path, 'utf8')}`
    }
  }
  walk(dir)
  return out
}

function userClaudeDir(): string {
  const dir = join(tempDir('dstack-claude-'), '.claude')
  mkdirSync(join(dir, 'skills', 'ship'), { recursive: true })
  // The user's own skill with the same name as one of ours, their settings with another tool's hook.
  writeFileSync(
    join(dir, 'skills', 'ship', 'SKILL.md'),
    '---\nname: ship\ndescription: mine\n---\nmy own ship\n',
  )
  writeFileSync(
    join(dir, 'settings.json'),
    `${JSON.stringify({ model: 'opus', hooks: { Stop: [{ hooks: [{ type: 'command', command: 'say done' }] }] } }, null, 4)}\n`,
  )
  return dir
}

describe('install into .claude', () => {
  it('round-trips: install → list → uninstall leaves the directory byte for byte as it was', () => {
    const claudeDir = userClaudeDir()
    const before = snapshot(claudeDir)
    const target = installTarget('user', undefined, { CLAUDE_CONFIG_DIR: claudeDir })
    const report = installBundle(bundle, target)
    expect(report.backedUp).toEqual(['skills/ship/SKILL.md'])
    expect(report.hooksChanged).toBe(true)
    expect(readFileSync(join(claudeDir, 'skills', '09-quality-gates', 'SKILL.md'), 'utf8')).toContain(
      'dstack gate',
    )
    const settings = JSON.parse(readFileSync(join(claudeDir, 'settings.json'), 'utf8'))
    expect(settings.model).toBe('opus')
    expect(JSON.stringify(settings.hooks.Stop)).toContain('say done')
    expect(JSON.stringify(settings.hooks.PreToolUse)).toContain(join(claudeDir, 'dstack', 'bin', 'dstack'))
    // Outside a plugin, ${CLAUDE_PLUGIN_ROOT} points at the installed templates.
    const plan = readFileSync(join(claudeDir, 'commands', 'plan.md'), 'utf8')
    expect(plan).not.toContain(PLUGIN_ROOT)
    expect(existsSync(join(claudeDir, 'dstack', 'templates', 'PLAN.md'))).toBe(true)
    expect(statSync(join(claudeDir, 'dstack', 'bin', 'dstack')).mode & 0o111).not.toBe(0)

    // Idempotent.
    const again = installBundle(bundle, target)
    expect(again).toMatchObject({ written: [], backedUp: [], hooksChanged: false })
    const listed = listInstalled(target, bundle)!
    expect(listed.length).toBe(report.written.length)
    expect(listed.every((f) => f.state === 'ok')).toBe(true)

    const out = uninstallBundle(target)
    expect(out.restored).toEqual(['skills/ship/SKILL.md'])
    expect(out.keptModified).toEqual([])
    expect(snapshot(claudeDir)).toEqual(before)
    expect(listInstalled(target)).toBeNull()
  })

  it('a project install into an empty repository leaves nothing behind after uninstall', () => {
    const project = tempDir('dstack-project-')
    const target = installTarget('project', project)
    installBundle(bundle, target)
    expect(existsSync(join(project, '.claude', 'settings.json'))).toBe(true)
    uninstallBundle(target)
    expect(readdirSync(project)).toEqual([])
  })

  it('an installed file edited since is reported by list and kept by uninstall', () => {
    const claudeDir = userClaudeDir()
    const target = installTarget('user', undefined, { CLAUDE_CONFIG_DIR: claudeDir })
    installBundle(bundle, target)
    const why = join(claudeDir, 'skills', 'why', 'SKILL.md')
    writeFileSync(why, `${readFileSync(why, 'utf8')}\nmy note\n`)
    expect(listInstalled(target, bundle)!.find((f) => f.path === 'skills/why/SKILL.md')!.state).toBe(
      'modified',
    )
    const out = uninstallBundle(target)
    expect(out.keptModified).toEqual(['skills/why/SKILL.md'])
    expect(readFileSync(why, 'utf8')).toContain('my note')
  })

  it('a re-install leaves an edited file alone; uninstall gives back the file it replaced and keeps the edit beside it', () => {
    const claudeDir = userClaudeDir()
    const target = installTarget('user', undefined, { CLAUDE_CONFIG_DIR: claudeDir })
    installBundle(bundle, target)
    const ship = join(claudeDir, 'skills', 'ship', 'SKILL.md')
    writeFileSync(ship, 'my edit of the installed ship\n')
    expect(installBundle(bundle, target).keptModified).toEqual(['skills/ship/SKILL.md'])
    expect(readFileSync(ship, 'utf8')).toBe('my edit of the installed ship\n')
    const out = uninstallBundle(target)
    expect(out.restored).toEqual(['skills/ship/SKILL.md'])
    expect(readFileSync(ship, 'utf8')).toContain('my own ship')
    expect(readFileSync(`${ship}.dstack-edited`, 'utf8')).toBe('my edit of the installed ship\n')
  })

  it('hooks that `dstack hooks install` put there (strict gate included) are left as they are, and stay after uninstall', () => {
    const claudeDir = userClaudeDir()
    const settings = join(claudeDir, 'settings.json')
    installHooks(
      settings,
      dstackHookSpecs({ kind: 'path', path: '/opt/dstack/bin/dstack' }, { strictGate: true }),
    )
    const before = readFileSync(settings, 'utf8')
    const target = installTarget('user', undefined, { CLAUDE_CONFIG_DIR: claudeDir })
    expect(installBundle(bundle, target)).toMatchObject({ hooksLeft: true, hooksChanged: false })
    expect(readFileSync(settings, 'utf8')).toBe(before)
    expect(uninstallBundle(target).hooksRemoved).toBe(false)
    expect(readFileSync(settings, 'utf8')).toBe(before)
  })

  it('a project install goes to the repository root, with nobody’s home directory in the shared files', () => {
    const project = tempDir('dstack-project-root-')
    execFileSync('git', ['init', '-q', project])
    mkdirSync(join(project, 'src'))
    const target = installTarget('project', join(project, 'src'))
    expect(target.claudeDir).toBe(join(project, '.claude'))
    installBundle(bundle, target)
    const plan = readFileSync(join(project, '.claude', 'commands', 'plan.md'), 'utf8')
    expect(plan).toContain('.claude/dstack/templates/PLAN.md')
    expect(plan).not.toContain(project)
    const settings = readFileSync(join(project, '.claude', 'settings.json'), 'utf8')
    expect(settings).not.toContain(project)
    expect(settings).toContain('DSTACK_HOME:-$HOME/.dstack')
    uninstallBundle(target)
    expect(readdirSync(project).sort()).toEqual(['.git', 'src'])
  })

  it('a settings.json that is not JSON stops the install before anything is written', () => {
    const claudeDir = userClaudeDir()
    writeFileSync(join(claudeDir, 'settings.json'), '{ "model": "opus", ')
    const before = snapshot(claudeDir)
    const target = installTarget('user', undefined, { CLAUDE_CONFIG_DIR: claudeDir })
    expect(() => installBundle(bundle, target)).toThrow(/settings\.json/)
    expect(snapshot(claudeDir)).toEqual(before)
  })
})

describe('the plugin', () => {
  it('builds a marketplace with one plugin whose manifest, skills, commands, templates and hooks are complete', () => {
    const out = join(tempDir('dstack-plugin-'), 'dist')
    const built = buildPlugin(bundle, out, { version: '1.2.3' })
    const market = JSON.parse(readFileSync(join(out, '.claude-plugin', 'marketplace.json'), 'utf8'))
    expect(market).toMatchObject({
      name: 'dstack',
      owner: { name: 'dstack' },
      plugins: [{ name: 'dstack', source: './plugin' }],
    })
    const manifest = JSON.parse(readFileSync(join(built.plugin, '.claude-plugin', 'plugin.json'), 'utf8'))
    expect(manifest).toMatchObject({ name: 'dstack', version: '1.2.3' })
    expect(readdirSync(join(built.plugin, 'skills')).length).toBe(bundle.skills.length)
    expect(readdirSync(join(built.plugin, 'commands')).length).toBe(bundle.commands.length)
    const hooks = JSON.parse(readFileSync(join(built.plugin, 'hooks', 'hooks.json'), 'utf8'))
    expect(validateHooks(hooks)).toEqual([])
    expect(hooks.hooks.SessionStart[0].hooks[0]).toMatchObject({
      command: `${PLUGIN_ROOT}/bin/dstack`,
      args: ['hook', 'SessionStart'],
    })
  })

  it('the shim never runs a `dstack` from PATH for a hook, skips other shims, and never loops', () => {
    const out = join(tempDir('dstack-shim2-'), 'dist')
    const shim = join(buildPlugin(bundle, out, { version: '0' }).plugin, 'bin', 'dstack')
    const home = tempDir('dstack-shim2-home-')
    const other = tempDir('dstack-shim2-other-')
    // Another tool called dstack on PATH that would exit 2 (blocking every prompt) if a hook ran it.
    writeFileSync(join(other, 'dstack'), '#!/bin/sh\necho "other dstack: $*"\nexit 2\n')
    chmodSync(join(other, 'dstack'), 0o755)
    // A second copy of the shim on PATH (two plugin installs).
    const copy = join(tempDir('dstack-shim2-copy-'), 'dstack')
    writeFileSync(copy, readFileSync(shim, 'utf8'))
    chmodSync(copy, 0o755)
    const env = {
      PATH: `${dirname(shim)}:${dirname(copy)}:${other}:/usr/bin:/bin`,
      DSTACK_HOME: home,
      HOME: home,
    }
    expect(spawnSync(shim, ['hook', 'UserPromptSubmit'], { input: '{}', env }).status).toBe(0)
    expect(spawnSync(shim, [], { input: '{}', env }).status).toBe(0) // exec-form args dropped by an old Claude Code
    const plain = spawnSync(shim, ['--version'], { env, encoding: 'utf8', timeout: 5000 })
    expect(plain.stdout).toBe('other dstack: --version\n')
    const noOther = spawnSync(shim, ['sync'], {
      env: { ...env, PATH: `${dirname(shim)}:${dirname(copy)}:/usr/bin:/bin` },
      encoding: 'utf8',
      timeout: 5000,
    })
    expect(noOther.status).toBe(127)
  })

  it('the shim runs the installed dstack, and without one a hook drains its input and exits 0', () => {
    const out = join(tempDir('dstack-shim-'), 'dist')
    const shim = join(buildPlugin(bundle, out, { version: '0' }).plugin, 'bin', 'dstack')
    const home = tempDir('dstack-shim-home-')
    const env = { PATH: `${join(out, 'plugin', 'bin')}:/usr/bin:/bin`, DSTACK_HOME: home, HOME: home }
    const hook = spawnSync(shim, ['hook', 'SessionStart'], { input: '{"x":1}', env, encoding: 'utf8' })
    expect(hook.status).toBe(0)
    const other = spawnSync(shim, ['sync'], { env, encoding: 'utf8' })
    expect(other.status).toBe(127)
    expect(other.stderr).toContain('npm install -g @dstack/cli')
    mkdirSync(join(home, 'bin'))
    writeFileSync(join(home, 'bin', 'dstack'), '#!/bin/sh\necho "real dstack: $*"\n')
    chmodSync(join(home, 'bin', 'dstack'), 0o755)
    expect(execFileSync(shim, ['sync', '--json'], { env, encoding: 'utf8' })).toBe(
      'real dstack: sync --json\n',
    )
  })

  it('adapters for Codex/opencode, Gemini and Cursor come from the same sources', () => {
    const out = join(tempDir('dstack-adapters-'), 'adapters')
    const files = generateAdapters(bundle, out, { version: '1.2.3' })
    const agents = readFileSync(join(out, 'agents', 'AGENTS.md'), 'utf8')
    for (const doc of [...bundle.skills, ...bundle.commands]) {
      expect(agents).toContain(
        `**${doc.name}** (.dstack/skills/${doc.name}.md): ${doc.frontmatter!.description}`,
      )
      const copy = readFileSync(join(out, 'agents', '.dstack', 'skills', `${doc.name}.md`), 'utf8')
      for (const heading of doc.body.split('\n').filter((l) => l.startsWith('#')))
        expect(copy).toContain(heading)
    }
    expect(JSON.parse(readFileSync(join(out, 'gemini', 'gemini-extension.json'), 'utf8'))).toMatchObject({
      name: 'dstack',
      version: '1.2.3',
      contextFileName: 'GEMINI.md',
    })
    expect(readFileSync(join(out, 'gemini', 'commands', 'plan.toml'), 'utf8')).toMatch(
      /^description = ".+"\nprompt = /,
    )
    const rule = readFileSync(
      join(out, 'cursor', '.cursor', 'rules', 'dstack-02-impl-test-pairs.mdc'),
      'utf8',
    )
    expect(rule).toMatch(/^---\ndescription: ".+"\nglobs: ".*\*\*\/\*\.rs.*"\nalwaysApply: false\n---/)
    for (const file of files) expect(readFileSync(join(out, file), 'utf8')).not.toContain(PLUGIN_ROOT)
  })
})

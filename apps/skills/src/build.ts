import { chmodSync, cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { dstackHookSpecs, type HookSpec } from '@dstack/hooks'
import type { Bundle } from './sources.ts'
import type { HooksFile } from './validate.ts'

export const PLUGIN_NAME = 'dstack'
// biome-ignore lint/suspicious/noTemplateCurlyInString: the placeholder Claude Code expands in a plugin's files
export const PLUGIN_ROOT = '${CLAUDE_PLUGIN_ROOT}'
export const PLUGIN_DESCRIPTION =
  'Shared memory, a team brain, multi-repo awareness, VPS deploys and a browser for coding agents, through the dstack CLI'

/**
 * The CLI shim a plugin ships in bin/ (Claude Code puts it on the Bash tool's PATH, and the hooks run it). Hooks run
 * only dstack's launcher ($DSTACK_HOME/bin/dstack, written by `dstack hooks install --launcher-only` or `dstack
 * skills install`), never a `dstack` found on PATH (another tool of that name could block every prompt); without it
 * they drain their input and exit 0 (hooks fail open), as does a call with no arguments (an older Claude Code that
 * drops exec-form args). Other calls fall back to a `dstack` on PATH that is not a shim.
 */
export const SHIM = `#!/bin/sh
# dstack plugin shim: runs dstack's launcher. Hooks fail open when it is missing.
launcher="\${DSTACK_HOME:-$HOME/.dstack}/bin/dstack"
if [ -x "$launcher" ] && ! grep -q '^# dstack plugin shim' "$launcher" 2>/dev/null; then exec "$launcher" "$@"; fi
if [ $# -eq 0 ] || [ "$1" = hook ]; then cat >/dev/null 2>&1; exit 0; fi
IFS=:
for dir in $PATH; do
  candidate="$dir/dstack"
  [ -x "$candidate" ] || continue
  [ "$candidate" -ef "$0" ] && continue
  grep -q '^# dstack plugin shim' "$candidate" 2>/dev/null && continue
  exec "$candidate" "$@"
done
echo "dstack is not installed: npm install -g @dstack/cli, then dstack hooks install --launcher-only" >&2
exit 127
`

/** The plugin's hook handlers: dstack's hook specs in exec form under ${CLAUDE_PLUGIN_ROOT}. */
export function pluginHookSpecs(): HookSpec[] {
  return dstackHookSpecs({ kind: 'plugin' })
}

/**
 * hooks/hooks.json for the plugin, from the same specs `dstack hooks install` writes into settings.json.
 *
 * @example
 * pluginHooks().hooks.PreToolUse // [{ matcher: 'Bash', hooks: [{ type: 'command', command: '${CLAUDE_PLUGIN_ROOT}/bin/dstack', args: ['hook', 'PreToolUse'], … }] }, …]
 */
export function pluginHooks(): HooksFile {
  const hooks: HooksFile['hooks'] = {}
  for (const spec of pluginHookSpecs()) {
    hooks[spec.event] ??= []
    const groups = hooks[spec.event]!
    let group = groups.find((g) => (g.matcher ?? '') === (spec.matcher ?? ''))
    if (!group) {
      group = spec.matcher ? { matcher: spec.matcher, hooks: [] } : { hooks: [] }
      groups.push(group)
    }
    group.hooks.push({ ...spec.handler })
  }
  return { hooks }
}

export interface BuiltPlugin {
  /** The marketplace root (holds .claude-plugin/marketplace.json). */
  root: string
  /** The plugin directory. */
  plugin: string
  files: string[]
}

/**
 * Builds the Claude Code plugin and a marketplace that lists it: `<out>/.claude-plugin/marketplace.json` and
 * `<out>/plugin/` with .claude-plugin/plugin.json, skills/, commands/, templates/, hooks/hooks.json and bin/dstack.
 * `<out>` is replaced.
 *
 * @example
 * buildPlugin(readBundle('skills'), 'dist/plugin', { version: '0.1.0' })
 * // then: claude --plugin-dir dist/plugin/plugin   or   /plugin marketplace add ./dist/plugin
 */
export function buildPlugin(bundle: Bundle, out: string, options: { version: string }): BuiltPlugin {
  rmSync(out, { recursive: true, force: true })
  const plugin = join(out, 'plugin')
  const files: string[] = []
  const write = (path: string, text: string, mode = 0o644) => {
    const file = join(out, path)
    mkdirSync(join(file, '..'), { recursive: true })
    writeFileSync(file, text, { mode })
    chmodSync(file, mode)
    files.push(path)
  }
  write(
    '.claude-plugin/marketplace.json',
    json({
      name: PLUGIN_NAME,
      owner: { name: 'dstack' },
      plugins: [
        { name: PLUGIN_NAME, source: './plugin', description: PLUGIN_DESCRIPTION, version: options.version },
      ],
    }),
  )
  write(
    'plugin/.claude-plugin/plugin.json',
    json({
      name: PLUGIN_NAME,
      version: options.version,
      description: PLUGIN_DESCRIPTION,
      license: 'MIT',
      keywords: ['memory', 'team', 'multi-repo', 'deploy', 'browser', 'skills'],
    }),
  )
  for (const skill of bundle.skills) write(`plugin/skills/${skill.name}/SKILL.md`, skill.text)
  for (const command of bundle.commands) write(`plugin/commands/${command.name}.md`, command.text)
  for (const template of bundle.templates) {
    cpSync(join(bundle.root, 'templates', template), join(plugin, 'templates', template))
    files.push(`plugin/templates/${template}`)
  }
  write('plugin/hooks/hooks.json', json(pluginHooks()))
  write('plugin/bin/dstack', SHIM, 0o755)
  return { root: out, plugin, files: files.sort() }
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`
}

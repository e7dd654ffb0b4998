import { resolve } from 'node:path'
import { buildPlugin, bundleRoot, generateAdapters, readBundle } from '@dstack/skills'
import { Flags } from '@oclif/core'
import { DstackCommand } from '../../lib/command.ts'

export default class SkillsBuild extends DstackCommand {
  static override summary =
    'Build the Claude Code plugin (with its marketplace) and the adapters for other agents'
  static override description =
    `<out>/.claude-plugin/marketplace.json and <out>/plugin (plugin.json, skills, commands, templates,
hooks/hooks.json in exec form, bin/dstack); with --adapters also <out>/adapters: AGENTS.md for Codex and opencode, a
Gemini CLI extension, Cursor rules — all generated from the same sources. <out> is replaced.

Exit codes: 0 built, 2 bad flags.`
  static override examples = [
    '<%= config.bin %> skills build --out dist/dstack-plugin',
    '<%= config.bin %> skills build --out dist/dstack-plugin --adapters',
  ]
  static override flags = {
    out: Flags.string({ description: 'directory to write (replaced)', required: true }),
    adapters: Flags.boolean({ description: 'also write AGENTS.md, the Gemini extension and Cursor rules' }),
  }

  async run(): Promise<{ plugin: string; files: string[]; adapters: string[] }> {
    const { flags } = await this.parse(SkillsBuild)
    const out = resolve(flags.out)
    const bundle = readBundle(bundleRoot())
    const built = buildPlugin(bundle, out, { version: this.config.version })
    const adapters = flags.adapters
      ? generateAdapters(bundle, resolve(out, 'adapters'), { version: this.config.version })
      : []
    this.say(
      `plugin: ${built.plugin} (${built.files.length} files)${adapters.length ? `; adapters: ${adapters.length} files` : ''}`,
    )
    return { plugin: built.plugin, files: built.files, adapters }
  }
}

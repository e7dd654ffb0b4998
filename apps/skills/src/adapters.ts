import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { PLUGIN_DESCRIPTION, PLUGIN_NAME, PLUGIN_ROOT } from './build.ts'
import type { Bundle, SourceDoc } from './sources.ts'

// The same skills for agents other than Claude Code, generated from the sources (never copied by hand): they all
// read Markdown instructions and can run the same `dstack` CLI.

const INTRO = `dstack gives you shared memory, a team brain, multi-repo awareness, VPS deploys and a browser through one
CLI, \`dstack\`. Run \`dstack <command> --help\` before using a command you have not used in this session. Each
skill below says when it applies; read its file when it does, and follow its steps.`

/** A skill's body for an agent without Claude Code's placeholders: plugin paths point at the adapter's own copy. */
function portableBody(doc: SourceDoc, root: string): string {
  return doc.body.replaceAll(PLUGIN_ROOT, root).replaceAll('$ARGUMENTS', 'the arguments you were given')
}

function index(bundle: Bundle, link: (doc: SourceDoc) => string): string {
  const entry = (doc: SourceDoc) => `- **${doc.name}** (${link(doc)}): ${doc.frontmatter?.description ?? ''}`
  return [
    `# ${PLUGIN_NAME}`,
    '',
    INTRO,
    '',
    '## Skills',
    '',
    ...bundle.skills.map(entry),
    '',
    '## Commands (run when the user asks for them by name)',
    '',
    ...bundle.commands.map(entry),
    '',
  ].join('\n')
}

/**
 * Writes the adapters under `out` (replaced): `agents/` (AGENTS.md for Codex and opencode, with one Markdown file per
 * skill), `gemini/` (a Gemini CLI extension: gemini-extension.json, GEMINI.md, commands/*.toml) and `cursor/`
 * (.cursor/rules/*.mdc, auto-attached by the skill's `paths`). Returns the files written.
 *
 * @example
 * generateAdapters(readBundle('skills'), 'dist/adapters', { version: '0.1.0' })
 */
export function generateAdapters(bundle: Bundle, out: string, options: { version: string }): string[] {
  rmSync(out, { recursive: true, force: true })
  const files: string[] = []
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(out, path)), { recursive: true })
    writeFileSync(join(out, path), text)
    files.push(path)
  }
  const docs = [...bundle.skills, ...bundle.commands]

  // Codex / opencode: AGENTS.md is always loaded, so it holds the index; the bodies are read on demand.
  write(
    'agents/AGENTS.md',
    index(bundle, (d) => `.dstack/skills/${d.name}.md`),
  )
  for (const doc of docs)
    write(`agents/.dstack/skills/${doc.name}.md`, `# ${doc.name}\n\n${portableBody(doc, '.dstack')}`)

  // Gemini CLI extension: context file + TOML commands.
  write(
    'gemini/gemini-extension.json',
    `${JSON.stringify({ name: PLUGIN_NAME, version: options.version, description: PLUGIN_DESCRIPTION, contextFileName: 'GEMINI.md' }, null, 2)}\n`,
  )
  write(
    'gemini/GEMINI.md',
    index(bundle, (d) => `skills/${d.name}.md`),
  )
  for (const doc of bundle.skills)
    write(`gemini/skills/${doc.name}.md`, `# ${doc.name}\n\n${portableBody(doc, '.')}`)
  for (const doc of bundle.commands)
    write(
      `gemini/commands/${doc.name}.toml`,
      `description = ${JSON.stringify(doc.frontmatter?.description ?? doc.name)}\nprompt = ${JSON.stringify(
        portableBody(doc, '.').replaceAll('the arguments you were given', '{{args}}'),
      )}\n`,
    )

  // Cursor: one rule per skill; `paths` become globs that attach it, otherwise the agent pulls it by description.
  for (const doc of docs) {
    const globs = doc.frontmatter?.paths ?? []
    write(
      `cursor/.cursor/rules/${PLUGIN_NAME}-${doc.name}.mdc`,
      `---\ndescription: ${JSON.stringify(doc.frontmatter?.description ?? doc.name)}\nglobs: ${globs.length ? JSON.stringify(globs.join(',')) : ''}\nalwaysApply: false\n---\n\n${portableBody(doc, '.dstack')}`,
    )
  }
  return files.sort()
}

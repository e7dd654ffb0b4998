// What the `dstack skills` commands share: the install scope flags, and this CLI's own command list in the shape the
// bundle validator checks command lines against.
import type { CliManifest } from '@dstack/skills'
import type { Config } from '@oclif/core'
import { Flags } from '@oclif/core'

export const scopeFlags = {
  user: Flags.boolean({ description: 'into ~/.claude (the default)', exclusive: ['project'] }),
  project: Flags.boolean({
    description: "into this repository's .claude (commit it to share with the team)",
  }),
}

/** This CLI's commands, flags and arguments as the bundle validator reads them (the oclif manifest's shape). */
export function cliManifest(config: Config): CliManifest {
  const commands: CliManifest['commands'] = {}
  for (const c of config.commands)
    commands[c.id] = {
      id: c.id,
      strict: c.strict,
      args: Object.fromEntries(
        Object.entries(c.args ?? {}).map(([k, a]) => [k, { name: a.name, required: a.required }]),
      ),
      flags: Object.fromEntries(
        Object.entries(c.flags ?? {}).map(([k, f]) => [
          k,
          {
            name: f.name,
            char: f.char,
            type: f.type,
            allowNo: f.type === 'boolean' ? f.allowNo : undefined,
            required: f.required,
            options: f.type === 'option' ? f.options : undefined,
            multiple: f.type === 'option' ? f.multiple && !f.multipleNonGreedy : undefined,
          },
        ]),
      ),
    }
  return { commands }
}

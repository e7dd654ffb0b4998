// Writes oclif.manifest.json: the command list with every flag, so `dstack` starts without loading each command
// and the skills bundle can check that the commands it mentions exist. What `oclif manifest` does, without its
// dependencies (AWS SDK and all).
import { writeFileSync } from 'node:fs'
import { Plugin } from '@oclif/core'

const root = new URL('..', import.meta.url).pathname
const plugin = new Plugin({
  root,
  type: 'core',
  ignoreManifest: true,
  errorOnManifestCreate: true,
  isRoot: true,
})
await plugin.load()
const commands = Object.keys(plugin.manifest.commands)
if (commands.length === 0) throw new Error('no commands found: build first (tsc -p tsconfig.build.json)')
writeFileSync(
  new URL('../oclif.manifest.json', import.meta.url),
  `${JSON.stringify(plugin.manifest, null, 2)}\n`,
)
console.log(`oclif.manifest.json: ${commands.length} commands (${commands.sort().join(', ')})`)

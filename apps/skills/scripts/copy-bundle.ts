// Copies the skill sources (the repository's skills/) into this package's bundle/, which ships with it: an installed
// @dstack/skills has no repository around it.
import { cpSync, existsSync, rmSync } from 'node:fs'

const from = new URL('../../../skills', import.meta.url)
const to = new URL('../bundle', import.meta.url)
if (existsSync(from)) {
  rmSync(to, { recursive: true, force: true })
  cpSync(from, to, { recursive: true })
}

import { execFileSync } from 'node:child_process'

export default function setup() {
  execFileSync(process.execPath, [new URL('../../scripts/sync-migrations.ts', import.meta.url).pathname])
}

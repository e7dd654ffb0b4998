// Copies the brain schema from supabase/migrations (its one home, where `supabase db push` reads it) into this
// package, so the published package carries its migrations. Run by `build` and by the test setup.
import { cpSync, mkdirSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'

const source = new URL('../../../supabase/migrations/', import.meta.url).pathname
const target = new URL('../migrations/', import.meta.url).pathname
rmSync(target, { recursive: true, force: true })
mkdirSync(target, { recursive: true })
for (const file of readdirSync(source))
  if (file.endsWith('.sql')) cpSync(join(source, file), join(target, file))

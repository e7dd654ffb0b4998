// Regenerates src/database.generated.ts from the brain schema as a fresh embedded brain sees it after migrating.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { introspectSchema, renderDatabaseModule } from '../src/codegen.ts'
import { stopEmbeddedServer } from '../src/embedded/launcher.ts'
import { openBrain } from '../src/open-brain.ts'

const dataDir = mkdtempSync(join(tmpdir(), 'dstack-gen-types-'))
try {
  const brain = await openBrain({ driver: 'embedded', dataDir }, { migrate: true })
  const source = renderDatabaseModule(await introspectSchema(brain.db))
  await brain.close()
  const target = new URL('../src/database.generated.ts', import.meta.url)
  writeFileSync(target, source)
  console.log(`wrote ${target.pathname}`)
} finally {
  await stopEmbeddedServer({ dataDir })
  rmSync(dataDir, { recursive: true, force: true })
}

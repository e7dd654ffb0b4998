import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { introspectSchema, renderDatabaseModule } from '../src/codegen.ts'
import { inputSchemas } from '../src/inputs.ts'
import { DRIVERS, freshBrain, type TestBrain } from '../src/testing.ts'

const committed = readFileSync(new URL('../src/database.generated.ts', import.meta.url), 'utf8')

describe.each(DRIVERS)('kysely types and zod row schemas match the live schema on %s', (kind) => {
  let t: TestBrain
  beforeAll(async () => {
    t = await freshBrain(kind)
  })
  afterAll(() => t.dispose())

  it('src/database.generated.ts is exactly what the live schema generates', async () => {
    const generated = renderDatabaseModule(await introspectSchema(t.brain.db))
    // On failure: run `pnpm --filter @dstack/brain-schema gen:types` and commit the result.
    expect(generated).toBe(committed)
  })

  it('every field of every input schema is a writable column of its table', async () => {
    const columns = await introspectSchema(t.brain.db)
    for (const [table, schema] of Object.entries(inputSchemas)) {
      const writable = new Set(
        columns.filter((c) => c.relation === table && !c.isView && !c.generatedAlways).map((c) => c.column),
      )
      expect(writable.size, `table ${table} exists`).toBeGreaterThan(0)
      for (const field of Object.keys(schema.shape)) expect(writable, `${table}.${field}`).toContain(field)
    }
  })

  it('the codegen refuses a column type it does not know instead of guessing', () => {
    expect(() =>
      renderDatabaseModule([
        {
          relation: 't',
          column: 'c',
          udt: 'point',
          isView: false,
          nullable: false,
          generated: false,
          generatedAlways: false,
          enumValues: null,
        },
      ]),
    ).toThrow(/dstack\.t\.c has type point/)
  })
})

import { DRIVERS, freshBrain, type TestBrain } from '@dstack/brain-schema/testing'
import { afterAll } from 'vitest'
import { BrainProvider } from '../src/providers/brain.ts'
import { runConformance } from './conformance.ts'

// The brain provider on both brain drivers: a fresh embedded data directory and a fresh Postgres database.
for (const driver of DRIVERS) {
  let brain: Promise<TestBrain> | undefined
  afterAll(async () => {
    if (brain) await (await brain).dispose()
  })
  runConformance(`brain (${driver})`, () => ({
    async open(workspace) {
      brain ??= freshBrain(driver)
      return BrainProvider.open({ brain: (await brain).brain, workspace })
    },
  }))
}

import { defineConfig } from 'vitest/config'
import { shared } from '../../vitest.shared.ts'

export default defineConfig({
  test: {
    ...shared,
    // The package reads its migrations from ./migrations, copied from supabase/migrations.
    globalSetup: ['test/support/sync-migrations.ts'],
  },
})

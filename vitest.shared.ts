// Settings every package's vitest.config.ts starts from.
export const shared = {
  include: ['test/**/*.test.ts'],
  testTimeout: 30_000,
  hookTimeout: 60_000,
  // Tests start real servers and processes; a forked pool keeps one test file's children from leaking into another.
  pool: 'forks' as const,
}

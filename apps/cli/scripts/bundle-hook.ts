// Bundles the hook runtime into dist/hook.cjs (CommonJS: no ESM loader to start, see bin/hook.cjs). `dstack hook PostToolUse` runs on every tool call Claude makes, and
// resolving a dozen workspace modules through node_modules costs ~15 ms (measured with --cpu-prof) — as much again as
// starting node. One file resolves once. The heavy paths (SessionStart's digest, the push pre-check) import the
// installed @dstack/hooks package at run time and are left out of the bundle.
import { build } from 'esbuild'

await build({
  entryPoints: [new URL('../../../packages/hooks/src/runtime.ts', import.meta.url).pathname],
  outfile: new URL('../dist/hook.cjs', import.meta.url).pathname,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node22',
  external: ['@dstack/hooks'],
  legalComments: 'none',
  logLevel: 'warning',
})

#!/usr/bin/env node
// dstack's entry point. Checked first so an old Node fails with a fix, not a syntax error deep in a dependency.
const [major, minor] = process.versions.node.split('.').map(Number)
if (major < 22 || (major === 22 && minor < 12)) {
  console.error(
    `dstack needs Node 22.12 or newer; this is ${process.version}. Install a newer Node, or run dstack through the repository's scripts/quickstart.sh, which brings one.`,
  )
  process.exit(1)
}
// Cache compiled code on disk (Node 22.1+): later runs skip most of the parse/compile of our dependencies.
const { enableCompileCache } = await import('node:module')
enableCompileCache?.()

// `dstack hook <Event>` runs on every tool call Claude makes: hand it to the lean CommonJS entry before loading
// oclif (~150 ms). `dstack hook --help` and anything malformed go through oclif like any other command.
const [, , topic, event, ...rest] = process.argv
if (
  topic === 'hook' &&
  event &&
  /^[A-Z][A-Za-z]+$/.test(event) &&
  rest.every((arg) => arg === '--strict' || arg === '--strict-gate')
) {
  await import('./hook.cjs')
} else {
  // Piped output is read by programs and agents: do not wrap errors and help at 80 columns.
  if (!process.stderr.isTTY && !process.env.OCLIF_COLUMNS) process.env.OCLIF_COLUMNS = '10000'
  const { execute } = await import('@oclif/core')
  await execute({ dir: import.meta.url })
}

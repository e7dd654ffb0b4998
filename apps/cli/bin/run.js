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

// `dstack hook <Event>` runs on every tool call Claude makes: it bypasses oclif (~150 ms to load) and loads only the
// hook runtime. `dstack hook --help` and anything malformed go through oclif like any other command.
const [, , topic, event, ...rest] = process.argv
if (topic === 'hook' && event && /^[A-Z][A-Za-z]+$/.test(event) && rest.every((arg) => arg === '--strict')) {
  // dist/hook.js is the runtime bundled into one file (see scripts/bundle-hook.ts); the package is the fallback.
  const { runHook } = await import('../dist/hook.js').catch(() => import('@dstack/hooks/runtime'))
  // One synchronous read of the whole pipe: ~0.1 ms, where iterating process.stdin costs ~3.5 ms of stream setup.
  const { readFileSync } = await import('node:fs')
  let stdin = ''
  try {
    stdin = readFileSync(0, 'utf8')
  } catch {
    // No stdin (closed, or a terminal in non-blocking mode): the runtime treats it as empty input.
  }
  const result = await runHook(event, stdin, {
    strict: rest.includes('--strict'),
    flushCommand: { command: process.execPath, args: [process.argv[1]] },
  })
  if (result.stdout) process.stdout.write(result.stdout)
  if (result.stderr) process.stderr.write(`${result.stderr}\n`)
  process.exitCode = result.exitCode
} else {
  // Piped output is read by programs and agents: do not wrap errors and help at 80 columns.
  if (!process.stderr.isTTY && !process.env.OCLIF_COLUMNS) process.env.OCLIF_COLUMNS = '10000'
  const { execute } = await import('@oclif/core')
  await execute({ dir: import.meta.url })
}

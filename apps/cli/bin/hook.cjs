#!/usr/bin/env node
// `dstack hook <Event>`, the lean way: CommonJS (no ESM loader to start, ~3 ms) loading only the hook runtime bundled
// into dist/hook.cjs (scripts/bundle-hook.ts). Claude Code runs this on every tool call. The launcher that
// `dstack hooks install` writes sends `hook …` here and everything else to run.js; run.js sends `hook …` here too.
'use strict'
const [major, minor] = process.versions.node.split('.').map(Number)
if (major < 22 || (major === 22 && minor < 12)) {
  // Fail open: a hook must never break the session over a wrong Node.
  process.stderr.write(`dstack hook: needs Node 22.12 or newer; this is ${process.version}\n`)
  process.exit(0)
}
require('node:module').enableCompileCache?.()
const { join } = require('node:path')
const { readFileSync } = require('node:fs')

const [, , topic, event, ...rest] = process.argv
const runJs = join(__dirname, 'run.js')
if (
  topic !== 'hook' ||
  !event ||
  !/^[A-Z][A-Za-z]+$/.test(event) ||
  rest.some((arg) => arg !== '--strict' && arg !== '--strict-gate')
) {
  // Help, typos and anything else: the full CLI explains.
  import(runJs)
} else {
  const { runHook } = require('../dist/hook.cjs')
  // One synchronous read of the whole pipe: ~0.1 ms, where iterating process.stdin costs ~3.5 ms of stream setup.
  let stdin = ''
  try {
    stdin = readFileSync(0, 'utf8')
  } catch {
    // No stdin (closed, or a terminal): the runtime treats it as empty input.
  }
  runHook(event, stdin, {
    strict: rest.includes('--strict'),
    strictGate: rest.includes('--strict-gate'),
    flushCommand: { command: process.execPath, args: [runJs] },
  }).then((result) => {
    if (result.stderr) process.stderr.write(`${result.stderr}\n`)
    // Exit once stdout is flushed: a slow back-end still settling (a memory server's retries) must not hold the hook.
    process.stdout.write(result.stdout, () => process.exit(result.exitCode))
  })
}

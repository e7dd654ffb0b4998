// The service a deploy test ships: a real git repository holding a tiny dependency-free Node HTTP server, a real
// build step (`sh build.sh` → dist/), and switches that make a release crash, fail or hang its health check.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { git } from '@dstack/git/testing'

/**
 * An absolute node binary for starting the service, usable from a non-login SSH session (whose PATH holds only
 * system dirs): Debian's /usr/bin/node (v20 here) when present, else /usr/local/bin/node, else the Node running the
 * tests. server.mjs needs nothing newer than Node 18.
 */
export const NODE_BIN =
  ['/usr/bin/node', '/usr/local/bin/node'].find((path) => existsSync(path)) ?? process.execPath

/** How a release behaves: `crash` exits 1 at boot, `unhealthy` answers /health with 500, `hang` never answers it. */
export type ServiceMode = 'ok' | 'crash' | 'unhealthy' | 'hang'

/** A service repository made by `makeServiceRepo`. */
export interface ServiceRepo {
  root: string
  /** The sha of the first commit (version `1.0.0`, mode `ok`). */
  firstCommit: string
  /** Writes version.txt and mode.txt (default `ok`) and commits; returns the new commit's sha. */
  setVersion(version: string, mode?: ServiceMode): Promise<string>
  /** Writes migrations/<name> and commits; returns the new commit's sha. */
  addMigration(name: string, sql: string): Promise<string>
}

/**
 * Creates a git repository at `dir` (made if missing) with the service at version `1.0.0`, mode `ok`, committed on
 * `main`. The server listens on 127.0.0.1:$PORT (default `options.port`, else 3000), answers `GET /health` with
 * `ok <version>` and `GET /` with `hello from <version>` after $DELAY_MS, and on SIGTERM stops listening, lets
 * in-flight requests finish and exits 0. `dist/` (the build output) is git-ignored.
 *
 * @example
 * const repo = await makeServiceRepo(tempDir('dstack-svc-'), { port: 4100 })
 * const sha = await repo.setVersion('1.0.1', 'unhealthy')
 */
export async function makeServiceRepo(dir: string, options: { port?: number } = {}): Promise<ServiceRepo> {
  mkdirSync(dir, { recursive: true })
  git(dir, 'init', '-q')
  writeFileSync(join(dir, 'server.mjs'), serverSource(options.port ?? 3000))
  writeFileSync(join(dir, 'build.sh'), BUILD_SCRIPT)
  writeFileSync(join(dir, '.gitignore'), 'dist/\n')
  writeFileSync(join(dir, 'version.txt'), '1.0.0\n')
  writeFileSync(join(dir, 'mode.txt'), 'ok\n')
  const firstCommit = commit(dir, 'service 1.0.0')

  return {
    root: dir,
    firstCommit,
    async setVersion(version, mode = 'ok') {
      writeFileSync(join(dir, 'version.txt'), `${version}\n`)
      writeFileSync(join(dir, 'mode.txt'), `${mode}\n`)
      return commit(dir, `service ${version} (${mode})`)
    },
    async addMigration(name, sql) {
      mkdirSync(join(dir, 'migrations'), { recursive: true })
      writeFileSync(join(dir, 'migrations', name), sql)
      return commit(dir, `migration ${name}`)
    },
  }
}

function commit(dir: string, message: string): string {
  git(dir, 'add', '-A')
  // Empty when nothing changed (the same version again): every call still yields a new sha to deploy.
  git(dir, 'commit', '-q', '--allow-empty', '-m', message)
  return git(dir, 'rev-parse', 'HEAD')
}

// Copies what a release needs into dist/; migrations ride along so a deploy can run them from the artifact.
const BUILD_SCRIPT = `#!/bin/sh
# The service's build: dist/ is the artifact a deploy ships.
set -eu
cd "$(dirname "$0")"
rm -rf dist
mkdir -p dist
cp server.mjs version.txt mode.txt dist/
if [ -d migrations ]; then cp -R migrations dist/migrations; fi
echo "built $(cat version.txt) into dist/"
`

function serverSource(defaultPort: number): string {
  return `// A tiny service for deploy tests; plain node:http, no dependencies. Reads version.txt and mode.txt beside it.
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'

const read = (name, fallback) => {
  try {
    return readFileSync(new URL(name, import.meta.url), 'utf8').trim() || fallback
  } catch {
    return fallback
  }
}
const version = read('version.txt', 'unknown')
const mode = read('mode.txt', 'ok')
if (mode === 'crash') {
  console.error(\`service \${version}: crashing at boot (mode.txt says crash)\`)
  process.exit(1)
}
const port = Number(process.env.PORT || ${defaultPort})
const delay = Number(process.env.DELAY_MS || 0)
let closing = false
const hung = new Set()
// Requests in flight per connection: at shutdown a connection with none is closed at once, including one a client
// opened ahead of time and never used (Node's closeIdleConnections leaves those open until the client gives up).
const inFlight = new Map()

const reply = (res, status, body) => {
  // While shutting down, no keep-alive: each finished request also closes its connection.
  const headers = { 'content-type': 'text/plain' }
  if (closing) headers.connection = 'close'
  res.writeHead(status, headers)
  res.end(\`\${body}\\n\`)
}

const server = createServer((req, res) => {
  const socket = req.socket
  inFlight.set(socket, (inFlight.get(socket) ?? 0) + 1)
  res.on('close', () => inFlight.set(socket, (inFlight.get(socket) ?? 1) - 1))
  const path = new URL(req.url ?? '/', 'http://x').pathname
  if (path === '/health') {
    if (mode === 'hang') {
      hung.add(res)
      res.on('close', () => hung.delete(res))
      return
    }
    if (mode === 'unhealthy') return reply(res, 500, \`unhealthy \${version}\`)
    return reply(res, 200, \`ok \${version}\`)
  }
  if (path === '/') {
    setTimeout(() => reply(res, 200, \`hello from \${version}\`), delay)
    return
  }
  reply(res, 404, 'not found')
})

server.on('connection', (socket) => {
  inFlight.set(socket, 0)
  socket.on('close', () => inFlight.delete(socket))
})

server.listen(port, '127.0.0.1', () => {
  console.log(\`service \${version} (\${mode}) listening on 127.0.0.1:\${port}, pid \${process.pid}\`)
})

const shutdown = (signal) => {
  if (closing) return
  closing = true
  console.log(\`service \${version}: \${signal}, draining\`)
  // A hung health check would never finish: drop it so shutdown is not held up by it.
  for (const res of hung) res.destroy()
  server.close(() => {
    console.log(\`service \${version}: drained, exiting\`)
    process.exit(0)
  })
  for (const [socket, requests] of inFlight) if (requests === 0) socket.destroy()
}
process.on('SIGTERM', () => shutdown('SIGTERM'))
process.on('SIGINT', () => shutdown('SIGINT'))
`
}

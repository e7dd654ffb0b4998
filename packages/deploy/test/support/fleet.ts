// One deployable service for a test: a real service repository, a dstack.yaml that deploys it into a temp root, and
// helpers to deploy, ask the live service what it is, and clean up every process it started.
import { existsSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir } from '@dstack/git/testing'
import {
  type DeployReport,
  loadDeployFile,
  type PreparedDeploy,
  type PrepareOptions,
  prepareDeploy,
  runPrepared,
} from '../../src/index.ts'
import { freePort, terminate } from './processes.ts'
import { makeServiceRepo, NODE_BIN, type ServiceRepo } from './service.ts'

export interface Fleet {
  dir: string
  repo: ServiceRepo
  /** The deploy root on the target. */
  root: string
  port: number
  file: string
  /** dstack.yaml's `deploy.svc` (edit, then `write()`). */
  service: Record<string, unknown>
  write(): void
  prepare(options?: PrepareOptions): Promise<PreparedDeploy[]>
  deploy(options?: PrepareOptions): Promise<DeployReport>
  /** GET the live service directly; null when nothing answers. */
  get(path?: string): Promise<string | null>
  current(): string | null
  /** Stops the service processes the deploys started. */
  stop(): Promise<void>
}

/**
 * A service `svc` deployed with the process driver into `<dir>/srv`, health-checked on a free port.
 *
 * @example
 * const fleet = await makeFleet()
 * expect((await fleet.deploy()).outcome).toBe('deployed')
 */
export async function makeFleet(extra: Record<string, unknown> = {}): Promise<Fleet> {
  const dir = tempDir('dstack-deploy-')
  const port = await freePort()
  const repo = await makeServiceRepo(join(dir, 'svc'), { port })
  const root = join(dir, 'srv')
  const file = join(dir, 'dstack.yaml')
  const service: Record<string, unknown> = {
    repo: 'svc',
    build: 'sh build.sh',
    artifact: 'dist',
    root,
    process: { command: [NODE_BIN, 'server.mjs'], stop_timeout_ms: 3000 },
    env: { PORT: String(port) },
    health: { url: `http://127.0.0.1:${port}/health`, status: 200, timeout_ms: 1000, retries: 4 },
    keep: 3,
    ...extra,
  }
  const fleet: Fleet = {
    dir,
    repo,
    root,
    port,
    file,
    service,
    write() {
      writeFileSync(file, JSON.stringify({ roots: ['.'], deploy: { svc: service } }, null, 2)) // JSON is YAML
    },
    prepare(options) {
      return prepareDeploy(loadDeployFile(file), 'svc', options)
    },
    async deploy(options) {
      const reports = await runPrepared(await fleet.prepare(options))
      return reports[0]!
    },
    async get(path = '/health') {
      try {
        const r = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(2000) })
        return `${r.status} ${(await r.text()).trim()}`
      } catch {
        return null
      }
    },
    current() {
      const link = join(root, 'current')
      return existsSync(link) ? readlinkSync(link).replace(/^releases\//, '') : null
    },
    async stop() {
      const pidFile = join(root, '.dstack', 'run', 'svc.pid')
      if (existsSync(pidFile)) await terminate([Number(readFileSync(pidFile, 'utf8').split(' ')[0])])
    },
  }
  fleet.write()
  return fleet
}

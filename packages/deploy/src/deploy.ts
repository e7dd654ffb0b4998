import { dirname, relative } from 'node:path'
import { buildGraph, orderRepos } from '@dstack/repo-graph'
import { type DeployFile, resolveService, type Service } from './config.ts'
import { databaseUrl, type ResolvedEnv, resolveEnv } from './env.ts'
import { NotFoundError } from './errors.ts'
import { pgEnv } from './migrations.ts'
import { type DeployPlan, planDeploy, planRollback } from './plan.ts'
import { type DeployReport, type RunOptions, runDeploy } from './run.ts'
import { inspectTarget, type TargetState } from './state.ts'
import { openTarget, type Target } from './targets/index.ts'

/** Everything one host's deploy needs, made before anything changes: the dry run prints `plan`, the run executes it. */
export interface PreparedDeploy {
  service: Service
  target: Target
  env: ResolvedEnv
  state: TargetState
  plan: DeployPlan
  /** Whether the plan applies migrations with --force (kept for re-planning a later host). */
  force: boolean
}

export interface PrepareOptions {
  /** Plan a rollback to an existing release instead of a new one. */
  rollback?: boolean
  /** With rollback: the release to make current; default the newest good one before current. */
  to?: string
  /** Apply migrations that are not backward-compatible. */
  force?: boolean
  /** Only this host of the service's hosts. */
  host?: string
  signal?: AbortSignal
}

/**
 * Plans `name` on each of its hosts: resolves the repository, reads the secrets on this machine, inspects each target
 * (current release, lock, history, applied migrations) and makes the plan. Changes nothing. Close the targets when
 * done (runPrepared does).
 *
 * @example
 * const prepared = await prepareDeploy(loadDeployFile('dstack.yaml'), 'api')
 * for (const p of prepared) console.log(formatPlan(p.plan, p.target))
 */
export async function prepareDeploy(
  file: DeployFile,
  name: string,
  options: PrepareOptions = {},
): Promise<PreparedDeploy[]> {
  const service = resolveService(file, name)
  const hosts = serviceHosts(service, options.host)
  const env = resolveEnv(service, dirname(file.path))
  const database = databaseUrl(service, env)
  if (service.migrations && !database)
    throw new Error(`${name}: migrations need ${service.migrations.database_env} in env or secrets`)
  const prepared: PreparedDeploy[] = []
  try {
    for (const host of hosts) {
      const target = openTarget(host, service.ssh)
      prepared.push({
        service,
        target,
        env,
        state: null as never,
        plan: null as never,
        force: Boolean(options.force),
      })
      const state = await inspectTarget(target, service, {
        pgEnv: database ? pgEnv(database) : undefined,
        signal: options.signal,
      })
      const plan = options.rollback
        ? planRollback(service, target, state, { to: options.to })
        : await planDeploy(service, target, state, { force: options.force })
      Object.assign(prepared.at(-1)!, { state, plan })
    }
  } catch (error) {
    await closeAll(prepared)
    throw error
  }
  return prepared
}

/**
 * The hosts of a service, or only `host` among them; NotFoundError when it is not one of them.
 *
 * @example
 * serviceHosts(service, 'ssh://deploy@vps2') // ['ssh://deploy@vps2']
 */
export function serviceHosts(service: Service, host?: string): string[] {
  const hosts = host ? service.hosts.filter((h) => h === host) : service.hosts
  if (hosts.length === 0)
    throw new NotFoundError(`${service.name} has no host ${host} (hosts: ${service.hosts.join(', ')})`)
  return hosts
}

/**
 * A target for each of the service's hosts (or only `host`), for status, history and unlock. Close them when done.
 *
 * @example
 * const targets = openServiceTargets(service)
 * for (const t of targets) console.log(await serviceStatus(t, service))
 * await closeAll(targets.map((target) => ({ target })))
 */
export function openServiceTargets(service: Service, host?: string): Target[] {
  return serviceHosts(service, host).map((h) => openTarget(h, service.ssh))
}

/**
 * Runs prepared deploys host after host, stopping at the first that does not end `deployed`, then closes every
 * target (SSH connections included).
 *
 * @example
 * const reports = await runPrepared(await prepareDeploy(file, 'api'))
 * reports.every((r) => r.outcome === 'deployed')
 */
export async function runPrepared(
  prepared: PreparedDeploy[],
  options: Omit<RunOptions, 'env'> = {},
): Promise<DeployReport[]> {
  const reports: DeployReport[] = []
  try {
    for (const [i, p] of prepared.entries()) {
      // Hosts may share one database: a later host's pending migrations are read again after the earlier ones ran.
      if (i > 0 && p.plan.action === 'deploy' && p.service.migrations) await replan(p)
      const report = await runDeploy(p.plan, p.target, p.service, { ...options, env: p.env })
      reports.push(report)
      if (report.outcome !== 'deployed') break
    }
  } finally {
    await closeAll(prepared)
  }
  return reports
}

async function replan(p: PreparedDeploy): Promise<void> {
  const database = databaseUrl(p.service, p.env)
  p.state = await inspectTarget(p.target, p.service, { pgEnv: database ? pgEnv(database) : undefined })
  p.plan = await planDeploy(p.service, p.target, p.state, { force: p.force })
}

/** Closes the targets of prepared deploys (their SSH connections). */
export async function closeAll(prepared: readonly { target: Target }[]): Promise<void> {
  await Promise.all(prepared.map((p) => p.target?.close()))
}

/**
 * The deploy file's services in the fleet's dependency order (a service after the services whose repositories its
 * repository depends on), for `dstack deploy --all`.
 *
 * @example
 * await deployOrder(loadDeployFile('/opt/dstack.yaml')) // ['core-api', 'ares', 'ehb-web']
 */
export async function deployOrder(file: DeployFile): Promise<string[]> {
  const names = Object.keys(file.deploy)
  const graph = await buildGraph({ roots: file.roots, depth: file.depth, ignore: file.ignore })
  const order = orderRepos(graph).order
  const rank = new Map(order.map((id, i) => [id, i]))
  const repoRank = (name: string) => {
    const root = resolveService(file, name).repoDir
    const repo = graph.repos.find((r) => r.root === root || relative(r.root, root) === '')
    return repo ? (rank.get(repo.id) ?? order.length) : order.length
  }
  const ranks = new Map(names.map((n) => [n, repoRank(n)]))
  return [...names].sort((a, b) => ranks.get(a)! - ranks.get(b)! || a.localeCompare(b))
}

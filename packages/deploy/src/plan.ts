import { randomBytes } from 'node:crypto'
import { hostname, userInfo } from 'node:os'
import { basename, dirname } from 'node:path'
import { runGit } from '@dstack/git'
import type { HealthCheck } from '@dstack/repo-graph'
import type { Service } from './config.ts'
import { NotFoundError, UsageError } from './errors.ts'
import {
  type BreakingChange,
  breakingChanges,
  CREATE_MIGRATIONS_TABLE,
  listMigrations,
  type Migration,
  recordMigrationSql,
} from './migrations.ts'
import {
  APPEND,
  BACKUP,
  LOCK,
  PROCESS,
  PRUNE,
  RECEIVE,
  REMOVE_RELEASE,
  SWITCH,
  SYSTEMD_RESTART,
  script,
  UNLINK_CURRENT,
  UNLOCK,
  WITH_PG,
  WRITE_PRIVATE,
} from './scripts.ts'
import type { TargetState } from './state.ts'
import type { Target } from './targets/index.ts'

export type StepKind =
  | 'lock'
  | 'build'
  | 'upload'
  | 'env'
  | 'switch'
  | 'hook'
  | 'backup'
  | 'migrate'
  | 'restart'
  | 'caddy'
  | 'health'
  | 'prune'
  | 'cleanup'
  | 'record'
  | 'unlock'

/** What a step reads on stdin: described in plans, never shown (it may hold secrets). */
export type StepInput =
  | { kind: 'tar'; argv: string[]; cwd: string }
  | { kind: 'env'; keys: string[]; secrets: string[] }
  | { kind: 'pg' }
  | { kind: 'history' }

/** One ordered action of a deploy: a command on this machine or the target, or an HTTP check from this machine. */
export interface Step {
  id: string
  kind: StepKind
  title: string
  on: 'local' | 'target' | 'http'
  /** The argv (for `local` and `target`); `http` steps have `health` instead. */
  argv?: string[]
  cwd?: string
  stdin?: StepInput
  health?: HealthCheck
  timeoutMs?: number
}

/**
 * Rollback steps run only for what the failed deploy had reached: `unused` (uploaded, never made current),
 * `switched`, `restarted`, `reloaded` (Caddy took the new config).
 */
export type Reached = 'unused' | 'switched' | 'restarted' | 'reloaded'

export interface RollbackStep extends Step {
  when: Reached
}

export interface DeployPlan {
  schema: 'dstack.deploy-plan/v1'
  action: 'deploy' | 'rollback'
  service: string
  target: string
  root: string
  /** The release this plan makes current. */
  release: string
  /** The release current when the plan was made (what a failure goes back to); null for a first deploy. */
  previous: string | null
  commit: string | null
  steps: Step[]
  /** Run in this order after a failure, each only if the deploy had reached its `when`. */
  rollback: RollbackStep[]
  /** Run at the end whatever happened: the history line and the unlock. */
  finish: Step[]
  migrations: { pending: string[]; breaking: BreakingChange[]; forced: boolean }
  /** Why the plan must not run (a breaking migration without force, a live lock); null when it may. */
  refusal: string | null
  /** The lock's token: unlock removes the lock only if it still holds this. */
  lockToken: string
}

export interface PlanOptions {
  /** Apply migrations the check says are not backward-compatible. */
  force?: boolean
  /** Release name; default `<UTC timestamp>-<commit>`. */
  release?: string
  /** Time source for the release name (tests). */
  now?: Date
}

/** Applied migration names from the target's database, or null when the service has no migrations. */
export type AppliedMigrations = ReadonlySet<string> | null

/**
 * The exact steps of a deploy of `service` to `target`, from the target's state (inspectTarget): what the dry run
 * prints and what runDeploy executes, in order — lock, build, upload, env, switch, hook, backup, migrate, restart,
 * caddy, health, hook, prune — plus the rollback for each point a failure can happen and the finishing record and
 * unlock. Reads the repository (commit, migrations) but changes nothing anywhere.
 *
 * @example
 * const state = await inspectTarget(target, service)
 * const plan = await planDeploy(service, target, state)
 * for (const step of plan.steps) console.log(step.title, describeStep(target, step))
 */
export async function planDeploy(
  service: Service,
  target: Target,
  state: TargetState,
  options: PlanOptions = {},
): Promise<DeployPlan> {
  const commit = await headCommit(service.repoDir)
  if (options.release && state.releases.includes(options.release))
    throw new UsageError(`release ${options.release} already exists on ${target.name}; give another name`)
  let release = options.release ?? releaseName(options.now ?? new Date(), commit)
  // The same commit twice in one second (a redeploy) gets a suffix.
  for (let n = 2; state.releases.includes(release); n++)
    release = `${releaseName(options.now ?? new Date(), commit)}-${n}`
  const root = service.root
  const dir = `${root}/releases/${release}`
  const previous = state.current
  const lockToken = randomBytes(12).toString('hex')
  const stepTimeout = service.step_timeout_s * 1000
  const steps: Step[] = [lockStep(service, lockToken, previous)]

  for (const [i, command] of (service.build ?? []).entries())
    steps.push({
      id: `build-${i + 1}`,
      kind: 'build',
      title: `build: ${command}`,
      on: 'local',
      argv: ['sh', '-c', command],
      cwd: service.repoDir,
      timeoutMs: stepTimeout,
    })
  steps.push({
    id: 'upload',
    kind: 'upload',
    title: `upload ${service.artifact} to releases/${release}`,
    on: 'target',
    argv: script(RECEIVE, 'receive', dir, basename(service.artifactPath)),
    stdin: { kind: 'tar', ...tarOf(service.artifactPath, ['.']) },
    timeoutMs: stepTimeout,
  })

  const migrations = pendingMigrations(service, state.appliedMigrations)
  if (migrations.length > 0)
    steps.push({
      id: 'upload-migrations',
      kind: 'upload',
      title: `upload ${migrations.length} pending migration(s)`,
      on: 'target',
      argv: script(RECEIVE, 'receive', `${dir}/.migrations`, basename(service.migrationsDir!)),
      stdin: {
        kind: 'tar',
        ...tarOf(
          service.migrationsDir!,
          migrations.map((m) => m.name),
        ),
      },
      timeoutMs: stepTimeout,
    })
  const envKeys = Object.keys(service.env)
  const secretKeys = Object.keys(service.secrets)
  steps.push({
    id: 'env',
    kind: 'env',
    title: `write .env (${envKeys.length} setting(s), ${secretKeys.length} secret(s); mode 0600)`,
    on: 'target',
    argv: script(WRITE_PRIVATE, 'write-private', `${dir}/.env`),
    stdin: { kind: 'env', keys: envKeys, secrets: secretKeys },
  })
  steps.push(switchStep(root, release))
  if (service.hooks.before_restart)
    steps.push(
      hookStep('hook-before-restart', 'before_restart', dir, service.hooks.before_restart, stepTimeout),
    )
  if (migrations.length > 0) {
    if (service.migrations!.backup)
      steps.push({
        id: 'backup',
        kind: 'backup',
        title: 'back up the database (pg_dump, custom format)',
        on: 'target',
        argv: [...script(WITH_PG, 'with-pg'), ...script(BACKUP, 'backup', `${root}/backups/${release}.dump`)],
        stdin: { kind: 'pg' },
        timeoutMs: stepTimeout,
      })
    steps.push(migrateStep(migrations, dir, release, stepTimeout))
  }
  steps.push(...restartSteps(service, release, 'restart', 'restart'))
  if (service.caddy) steps.push(caddyStep(service, dir, 'caddy'))
  if (service.health) steps.push(healthStep(service.health, 'health'))
  if (service.hooks.after_deploy)
    steps.push(hookStep('hook-after-deploy', 'after_deploy', dir, service.hooks.after_deploy, stepTimeout))
  steps.push({
    id: 'prune',
    kind: 'prune',
    title: `keep the newest ${service.keep} releases`,
    on: 'target',
    argv: script(PRUNE, 'prune', root, String(service.keep), release, ...(previous ? [previous] : [])),
  })

  const rollback: RollbackStep[] = [
    // The failed release stays on disk for inspection once it has been live; only an unused upload is removed.
    {
      id: 'remove-release',
      kind: 'cleanup',
      title: `remove the unused release ${release}`,
      on: 'target',
      argv: script(REMOVE_RELEASE, 'remove-release', root, release),
      when: 'unused',
    },
    ...restoreSteps(service, previous),
  ]

  const breaking = migrations.flatMap((m) => breakingChanges(m.name, m.sql))
  const refusal =
    breaking.length > 0 && !options.force
      ? `${breaking.length} migration statement(s) are not backward-compatible (${breaking
          .map((b) => `${b.file}:${b.line} ${b.rule}`)
          .join(
            '; ',
          )}); the running release could break before the new one is up. Split it (expand now, contract ` +
        'in a later deploy) or pass --force'
      : null

  return {
    schema: 'dstack.deploy-plan/v1',
    action: 'deploy',
    service: service.name,
    target: target.name,
    root,
    release,
    previous,
    commit,
    steps,
    rollback,
    finish: finishSteps(service, lockToken),
    migrations: { pending: migrations.map((m) => m.name), breaking, forced: Boolean(options.force) },
    refusal,
    lockToken,
  }
}

/**
 * The steps that make an existing release current again (`dstack deploy rollback`): lock, switch, restart, caddy,
 * health; a failure puts back the release that was current. `to` defaults to the newest release before the current
 * one that no deploy marked bad.
 *
 * @example
 * const plan = planRollback(service, target, await inspectTarget(target, service), { to: '20261123T101500Z-3f2a9c1' })
 */
export function planRollback(
  service: Service,
  target: Target,
  state: TargetState,
  options: { to?: string } = {},
): DeployPlan {
  const current = state.current
  const to = options.to ?? rollbackCandidate(state)
  if (!to)
    throw new NotFoundError(
      `no release to roll back to on ${target.name}: ${current ? `only ${current} is there (or the others are marked bad)` : 'nothing is deployed'}`,
    )
  if (!state.releases.includes(to))
    throw new NotFoundError(
      `no release ${to} on ${target.name} (there: ${state.releases.join(', ') || 'none'})`,
    )
  if (to === current) throw new UsageError(`${to} is already current on ${target.name}`)
  const lockToken = randomBytes(12).toString('hex')
  const dir = `${service.root}/releases/${to}`
  const steps: Step[] = [
    lockStep(service, lockToken, current),
    switchStep(service.root, to),
    ...restartSteps(service, to, 'restart', 'restart'),
    ...(service.caddy ? [caddyStep(service, dir, 'caddy')] : []),
    ...(service.health ? [healthStep(service.health, 'health')] : []),
  ]
  return {
    schema: 'dstack.deploy-plan/v1',
    action: 'rollback',
    service: service.name,
    target: target.name,
    root: service.root,
    release: to,
    previous: current,
    commit: null,
    steps,
    rollback: restoreSteps(service, current),
    finish: finishSteps(service, lockToken),
    migrations: { pending: [], breaking: [], forced: false },
    refusal: null,
    lockToken,
  }
}

/** The newest release older than the current one that no deploy marked bad. */
export function rollbackCandidate(state: TargetState): string | null {
  const sorted = [...state.releases].sort().reverse()
  const below = state.current ? sorted.filter((r) => r < state.current!) : sorted
  return below.find((r) => !state.bad.has(r)) ?? null
}

/**
 * The command line a step runs, as this machine runs it (through ssh for an SSH target), for plans and reports.
 *
 * @example
 * describeStep(target, plan.steps[0]) // "ssh … deploy@vps1 -- sh -c '…' dstack-lock /srv/api/.dstack/lock …"
 */
export function describeStep(target: Target, step: Step): string[] {
  if (step.on === 'http') {
    const h = step.health!
    return [
      'GET',
      h.url,
      `expect ${h.status ?? '2xx/3xx'}${h.body === undefined ? '' : ` body~${JSON.stringify(h.body)}`}`,
      `${h.retries + 1} tries, ${h.timeout_ms} ms each`,
    ]
  }
  return step.on === 'local' ? [...step.argv!] : target.describe(step.argv!)
}

function lockStep(service: Service, token: string, expectCurrent: string | null): Step {
  const owner = `${userInfo().username}@${hostname()} pid ${process.pid} at ${new Date().toISOString()}`
  return {
    id: 'lock',
    kind: 'lock',
    title: `lock ${service.name} on the target (expires after ${service.lock_ttl_s} s)`,
    on: 'target',
    argv: script(
      LOCK,
      'lock',
      `${service.root}/.dstack/lock`,
      token,
      String(service.lock_ttl_s),
      owner,
      expectCurrent ?? '-',
    ),
  }
}

function switchStep(root: string, release: string, id = 'switch'): Step {
  return {
    id,
    kind: 'switch',
    title: `point current at releases/${release}`,
    on: 'target',
    argv: script(SWITCH, 'switch', root, release),
  }
}

function hookStep(id: string, name: string, dir: string, argv: string[], timeoutMs: number): Step {
  return {
    id,
    kind: 'hook',
    title: `hook ${name}: ${argv.join(' ')}`,
    on: 'target',
    argv: ['sh', '-c', 'cd "$1" && shift && exec "$@"', 'dstack-hook', dir, ...argv],
    timeoutMs,
  }
}

function migrateStep(migrations: Migration[], dir: string, release: string, timeoutMs: number): Step {
  const argv = ['psql', '-X', '-q', '--no-password', '-v', 'ON_ERROR_STOP=1', '--single-transaction']
  argv.push('-c', CREATE_MIGRATIONS_TABLE)
  for (const m of migrations)
    argv.push('-f', `${dir}/.migrations/${m.name}`, '-c', recordMigrationSql(m, release))
  return {
    id: 'migrate',
    kind: 'migrate',
    title: `apply ${migrations.map((m) => m.name).join(', ')} in one transaction`,
    on: 'target',
    argv: [...script(WITH_PG, 'with-pg'), ...argv],
    stdin: { kind: 'pg' },
    timeoutMs,
  }
}

function restartSteps(service: Service, release: string, id: string, verb: string): Step[] {
  if (service.systemd) {
    return [
      {
        id,
        kind: 'restart',
        title: `${verb} ${service.systemd.unit} (systemd)`,
        on: 'target',
        argv: script(
          SYSTEMD_RESTART,
          'systemd',
          service.systemd.unit,
          ...(service.systemd.sudo ? ['sudo'] : []),
        ),
        timeoutMs: 120_000,
      },
    ]
  }
  if (service.process) {
    return [
      {
        id,
        kind: 'restart',
        title: `${verb} ${service.name} from releases/${release} (process)`,
        on: 'target',
        argv: script(
          PROCESS,
          'proc',
          'restart',
          service.root,
          service.name,
          `${service.root}/releases/${release}`,
          String(service.process.stop_timeout_ms),
          String(service.process.boot_check_ms),
          ...service.process.command,
        ),
        timeoutMs: service.process.stop_timeout_ms + 30_000,
      },
    ]
  }
  return []
}

function stopSteps(service: Service, id: string): Step[] {
  if (service.systemd) {
    const sudo = service.systemd.sudo ? ['sudo', '-n'] : []
    return [
      {
        id,
        kind: 'restart',
        title: `stop ${service.systemd.unit} (no earlier release to run)`,
        on: 'target',
        argv: [...sudo, 'systemctl', 'stop', service.systemd.unit],
      },
    ]
  }
  if (service.process)
    return [
      {
        id,
        kind: 'restart',
        title: `stop ${service.name} (no earlier release to run)`,
        on: 'target',
        argv: script(
          PROCESS,
          'proc',
          'stop',
          service.root,
          service.name,
          '-',
          String(service.process.stop_timeout_ms),
          '0',
        ),
      },
    ]
  return []
}

function caddyStep(service: Service, dir: string, id: string): Step {
  const caddy = service.caddy!
  const type = caddy.adapter === 'json' ? 'application/json' : 'text/caddyfile'
  return {
    id,
    kind: 'caddy',
    title: `load ${caddy.config} into Caddy (${caddy.admin}/load; Caddy keeps the old config if it fails)`,
    on: 'target',
    argv: [
      'curl',
      '--silent',
      '--show-error',
      '--fail-with-body',
      '--max-time',
      '30',
      '-X',
      'POST',
      '-H',
      `Content-Type: ${type}`,
      '--data-binary',
      `@${dir}/${caddy.config}`,
      `${caddy.admin.replace(/\/$/, '')}/load`,
    ],
  }
}

function healthStep(health: HealthCheck, id: string): Step {
  return { id, kind: 'health', title: `health check ${health.url}`, on: 'http', health }
}

/** Putting `previous` back: switch, restart, Caddy, health — or, with no previous release, stop and unlink. */
function restoreSteps(service: Service, previous: string | null): RollbackStep[] {
  if (!previous)
    return [
      ...stopSteps(service, 'stop').map((s) => ({ ...s, when: 'restarted' as const })),
      {
        id: 'unlink-current',
        kind: 'switch',
        title: 'remove current (there is no earlier release)',
        on: 'target',
        argv: script(UNLINK_CURRENT, 'unlink-current', service.root),
        when: 'switched',
      },
    ]
  const dir = `${service.root}/releases/${previous}`
  return [
    { ...switchStep(service.root, previous, 'switch-back'), when: 'switched' },
    ...restartSteps(service, previous, 'restart-previous', 'restart').map((s) => ({
      ...s,
      when: 'restarted' as const,
    })),
    ...(service.caddy ? [{ ...caddyStep(service, dir, 'caddy-previous'), when: 'reloaded' as const }] : []),
    ...(service.health
      ? [
          {
            ...healthStep(service.health, 'health-previous'),
            title: `health check ${previous}`,
            when: 'restarted' as const,
          },
        ]
      : []),
  ]
}

function finishSteps(service: Service, token: string): Step[] {
  return [
    {
      id: 'record',
      kind: 'record',
      title: 'append the outcome to the target history',
      on: 'target',
      argv: script(APPEND, 'append', `${service.root}/.dstack/history.jsonl`),
      stdin: { kind: 'history' },
    },
    {
      id: 'unlock',
      kind: 'unlock',
      title: 'unlock',
      on: 'target',
      argv: script(UNLOCK, 'unlock', `${service.root}/.dstack/lock`, token),
    },
  ]
}

function pendingMigrations(service: Service, applied: AppliedMigrations): Migration[] {
  if (!service.migrationsDir) return []
  return listMigrations(service.migrationsDir).filter((m) => !applied?.has(m.name))
}

/**
 * tar of `path` (a file or a directory, whichever it is after the build) as one entry named after it; `members` picks
 * entries inside a directory. `.git` never ships.
 */
function tarOf(path: string, members: string[]): { argv: string[]; cwd: string } {
  const name = basename(path)
  return {
    argv: [
      'tar',
      '--exclude=.git',
      '-C',
      dirname(path),
      '-cf',
      '-',
      ...members.map((m) => (m === '.' ? name : `${name}/${m}`)),
    ],
    cwd: dirname(path),
  }
}

async function headCommit(repo: string): Promise<string | null> {
  try {
    return (await runGit(repo, ['rev-parse', '--short=10', 'HEAD'])).stdout.trim() || null
  } catch {
    return null
  }
}

/**
 * A release name that sorts by time: `20261123T153012Z-3f2a9c1e0b` (UTC to the second, then the commit).
 *
 * @example
 * releaseName(new Date('2026-11-23T15:30:12Z'), '3f2a9c1e0b') // '20261123T153012Z-3f2a9c1e0b'
 */
export function releaseName(now: Date, commit: string | null): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')
  return commit ? `${stamp}-${commit}` : stamp
}

// Benchmarks two brain operations at team scale, on both drivers in one run:
//   1. the conflict pre-check (conflictPrecheck) over 100,000 edits of 5,000 files by 20 agents under 1,000 intents,
//      against a naive baseline that fetches every other agent's recent edits of the repo and intersects them in JS;
//   2. decision search (searchDecisions) over 10,000 decisions with ~30 labelled targets, against fstack's ILIKE
//      search: latency and quality (precision@5, recall@10, MRR).
// Run from packages/brain-schema: `node bench/ops.bench.ts`. Needs Postgres at DSTACK_TEST_PG_URL (default
// postgres://postgres@127.0.0.1:5432/test); writes <repo>/bench/results/ops-<time>.json.

import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { sql } from 'kysely'
import {
  cell,
  formatNumber,
  prng,
  Recorder,
  type Result,
  renderTable,
  timed,
  writeResults,
} from '../../../bench/harness.ts'
import type { BrainConfig } from '../src/config.ts'
import { stopEmbeddedServer } from '../src/embedded/launcher.ts'
import { type Brain, openBrain } from '../src/open-brain.ts'
import { searchDecisions, writeDecision } from '../src/ops/decisions.ts'
import { conflictPrecheck, type OutgoingFile, type PrecheckResult } from '../src/ops/precheck.ts'
import { type Db, type ResolvedScope, resolveScope } from '../src/ops/scope.ts'
import { Cleanups, connectAdmin, databaseUrl, runBench } from './support.ts'

// Sizes and sample counts, chosen to keep the whole run around 2-3 minutes on 2 cores.
const N = {
  agents: 20,
  intents: 1_000,
  branches: 200,
  files: 5_000,
  edits: 100_000,
  /** Pushes of the shipped intents' branches, 5 days ago: their older edits count as published. */
  pushes: 20,
  precheckWarmup: 1,
  precheckRuns: 20,
  noiseDecisions: 10_000,
  searchWarmup: 1,
  searchReps: 5,
}
const WINDOW_DAYS = 14
const SLACK = 3

type Driver = 'embedded' | 'postgres'
const DRIVERS: Driver[] = ['embedded', 'postgres']
/** Series: a driver, or a baseline run on that driver ("postgres:naive"). */
const series = (driver: Driver, baseline?: string) => (baseline ? `${driver}:${baseline}` : driver)

const recorder = new Recorder()
const progress = (message: string) => console.error(`[ops bench] ${message}`)
const warnings: string[] = []
const warn = (message: string) => {
  warnings.push(message)
  console.error(`[ops bench] WARNING: ${message}`)
}

const cleanups = new Cleanups()
const defer = (what: string, run: () => unknown) => cleanups.defer(what, run)

// ---------------------------------------------------------------------------------------------------------------
// 1. Conflict pre-check
// ---------------------------------------------------------------------------------------------------------------

const MODULES = ['auth', 'billing', 'search', 'api', 'web', 'jobs', 'db', 'email', 'payments', 'admin']
const filePath = (f: number) => `src/${MODULES[f % MODULES.length]}/module${f}.ts`

/**
 * One repository, as agent `me` sees it: 20 other agents, 200 branches, 1,000 intents (even ones active, odd ones
 * shipped; intent k is agent k % 20's, on branch k % 200), 5,000 files, 100,000 edits over the last 10 days (one
 * in ten outside any intent, in bursts of 5 per file, a fifth of them on 100 hot files), each with one or two
 * 6-line hunks between lines 1 and 405, and 20 pushes.
 * Ids are md5-derived so the bulk statements join by index instead of by lookup.
 */
async function seedEdits(db: Db, scope: ResolvedScope): Promise<void> {
  const repo = scope.repoId
  await sql`insert into dstack.agents (id, display_name)
    select 'agent-' || lpad(a::text, 2, '0'), 'Agent ' || a from generate_series(0, ${N.agents - 1}) a`.execute(
    db,
  )
  await sql`insert into dstack.branches (id, repo_id, name)
    select md5('branch-' || b)::uuid, ${repo}, 'agent-' || lpad((b % ${N.agents})::text, 2, '0') || '/feature-' || b
    from generate_series(0, ${N.branches - 1}) b`.execute(db)
  await sql`insert into dstack.intents (id, agent_id, repo_id, branch_id, session_id, title, body, status, created_at)
    select md5('intent-' || k)::uuid, 'agent-' || lpad((k % ${N.agents})::text, 2, '0'), ${repo},
           md5('branch-' || (k % ${N.branches}))::uuid, 'session-' || k,
           'Rework ' || (${MODULES}::text[])[1 + k % 10] || ' module ' || k, 'Intent body ' || k,
           case when k % 2 = 0 then 'active' else 'shipped' end,
           now() - make_interval(days => 12)
    from generate_series(0, ${N.intents - 1}) k`.execute(db)
  await sql`insert into dstack.files (id, repo_id, path)
    select md5('file-' || f)::uuid, ${repo}, 'src/' || (${MODULES}::text[])[1 + f % 10] || '/module' || f || '.ts'
    from generate_series(0, ${N.files - 1}) f`.execute(db)
  // Edits come in bursts of 5 (one intent working on one file); burst B = g / 5. Every fifth burst goes to one of
  // 100 hot files (0, 50, ..., 4950: ~200 edits each), the rest spread over all files (~16 edits, 4 agents each).
  // The intent of a burst mixes several strides of B so that the bursts on one file come from different agents.
  await sql`insert into dstack.edits
      (agent_id, repo_id, file_id, intent_id, branch_id, session_id, op, tool, hunks, created_at)
    select 'agent-' || lpad((k % ${N.agents})::text, 2, '0'), ${repo},
           md5('file-' || f)::uuid,
           case when g % 10 = 0 then null else md5('intent-' || k)::uuid end,
           md5('branch-' || (k % ${N.branches}))::uuid, 'session-' || k, 'edit', 'Edit',
           case when g % 3 = 0
             then jsonb_build_array(jsonb_build_array(a, a + 5), jsonb_build_array(a + 40, a + 45))
             else jsonb_build_array(jsonb_build_array(a, a + 5)) end,
           now() - make_interval(secs => (b * 7907) % 864000 + g % 5 * 60)
    from generate_series(0, ${N.edits - 1}) g,
         lateral (select g / 5 as b) bb,
         lateral (select (7 * b + 13 * (b / 5) + 3 * (b / 500) + 37 * (b / 5000)) % ${N.intents} as k,
                         case when b % 5 = 0 then 50 * ((b / 5) % 100) else (b * 7919) % ${N.files} end as f,
                         1 + (g * 31) % 400 as a) x`.execute(db)
  // Odd branches 1, 3, ..., 39 (their intents are shipped) were pushed 5 days ago by their agents.
  await sql`insert into dstack.pushes (agent_id, repo_id, branch_id, session_id, head_sha, remote, pushed_at)
    select 'agent-' || lpad((b % ${N.agents})::text, 2, '0'), ${repo}, md5('branch-' || b)::uuid, 'session-' || b,
           substr(md5('sha-' || b), 1, 12), 'origin', now() - make_interval(days => 5)
    from generate_series(1, ${2 * N.pushes - 1}, 2) b`.execute(db)
  await sql`analyze`.execute(db)
}

/**
 * A push touching `count` files spread over the repo (a quarter of them hot), each with one range among the seeded
 * hunks and one beyond them.
 */
function pushChanges(count: number): OutgoingFile[] {
  const step = Math.floor(N.files / count)
  return Array.from({ length: count }, (_, i) => {
    const start = 1 + ((i * 37) % 390)
    const file = i * step + (i % 4 === 0 ? 0 : 7)
    return { path: filePath(file), added: [[start, start + 8]], removed: [[600 + i, 612 + i]] }
  })
}

function touching(
  a: Array<[number, number]>,
  b: Array<[number, number]>,
  slack: number,
): Array<[number, number]> {
  return a.filter(([start, end]) => b.some(([s, e]) => start <= e + slack && s <= end + slack))
}

/**
 * The naive pre-check: every other agent's edits of the repo in the window (joined to files and intents) come
 * back to JS, with each agent's last push per branch; the filtering, grouping and hunk intersection happen here.
 * Same semantics as conflictPrecheck, so the overlap counts must agree.
 */
async function naivePrecheck(
  db: Db,
  scope: ResolvedScope,
  changes: OutgoingFile[],
): Promise<{ overlaps: number; hunkOverlaps: number; rowsFetched: number }> {
  const ours = new Map(changes.map((c) => [c.path, [...(c.added ?? []), ...(c.removed ?? [])]]))
  const edits = await sql<{
    path: string
    agent_id: string
    session_id: string | null
    intent_id: string | null
    branch_id: string | null
    created_at: Date
    hunks: Array<[number, number]>
    intent_status: string | null
  }>`
    select f.path, e.agent_id, e.session_id, e.intent_id, e.branch_id, e.created_at, e.hunks,
           i.status as intent_status
    from dstack.edits e
    join dstack.files f on f.id = e.file_id
    left join dstack.intents i on i.id = e.intent_id
    where e.repo_id = ${scope.repoId} and e.agent_id <> ${scope.agentId}
      and e.created_at > now() - make_interval(days => ${WINDOW_DAYS})`.execute(db)
  const pushes = await sql<{ agent_id: string; branch_id: string | null; last: Date }>`
    select agent_id, branch_id, max(pushed_at) as last from dstack.pushes
    where repo_id = ${scope.repoId} group by agent_id, branch_id`.execute(db)
  const lastPush = new Map(pushes.rows.map((p) => [`${p.agent_id}|${p.branch_id}`, p.last.getTime()]))
  const groups = new Map<string, { path: string; hunks: Array<[number, number]> }>()
  for (const e of edits.rows) {
    if (!ours.has(e.path)) continue
    const published = e.intent_status === 'shipped' || e.intent_status === 'abandoned'
    const pushed = lastPush.get(`${e.agent_id}|${e.branch_id}`)
    if (published || (pushed !== undefined && pushed >= e.created_at.getTime())) continue
    const key = `${e.path}|${e.agent_id}|${e.session_id}|${e.intent_id}|${e.branch_id}`
    const group = groups.get(key) ?? { path: e.path, hunks: [] }
    groups.set(key, group)
    group.hunks.push(...e.hunks)
  }
  let hunkOverlaps = 0
  for (const group of groups.values()) {
    if (touching(group.hunks, ours.get(group.path)!, SLACK).length > 0) hunkOverlaps++
  }
  return { overlaps: groups.size, hunkOverlaps, rowsFetched: edits.rows.length }
}

async function benchPrecheck(driver: Driver, brain: Brain, scope: ResolvedScope): Promise<void> {
  const db = brain.db
  const seedMs = await timed(() => seedEdits(db, scope))
  recorder.record('seed_edits', series(driver), 'ms', [seedMs])
  progress(`${driver}: seeded ${N.edits} edits in ${formatNumber(seedMs)} ms; timing the pre-check`)
  for (const files of [10, 200]) {
    const changes = pushChanges(files)
    const ours: number[] = []
    const naive: number[] = []
    let result: PrecheckResult | undefined
    let baseline: Awaited<ReturnType<typeof naivePrecheck>> | undefined
    // Warm-up, then the two methods alternate so drift hits both alike.
    for (let i = 0; i < N.precheckWarmup + N.precheckRuns; i++) {
      const a = await timed(async () => {
        result = await conflictPrecheck(db, scope, changes, { windowDays: WINDOW_DAYS, slack: SLACK })
      })
      const b = await timed(async () => {
        baseline = await naivePrecheck(db, scope, changes)
      })
      if (i >= N.precheckWarmup) {
        ours.push(a)
        naive.push(b)
      }
    }
    if (!result || !baseline) throw new Error('no pre-check ran')
    recorder.record(`precheck_${files}`, series(driver), 'ms', ours)
    recorder.record(`precheck_${files}`, series(driver, 'naive'), 'ms', naive)
    recorder.record(`precheck_${files}_overlaps`, series(driver), 'count', [result.overlaps.length])
    recorder.record(`precheck_${files}_hunk_overlaps`, series(driver), 'count', [result.hunkOverlaps])
    recorder.record(`precheck_${files}_overlaps`, series(driver, 'naive'), 'count', [baseline.overlaps])
    recorder.record(`precheck_${files}_hunk_overlaps`, series(driver, 'naive'), 'count', [
      baseline.hunkOverlaps,
    ])
    if (result.overlaps.length === 0 || result.hunkOverlaps === 0) {
      warn(`${driver}: the ${files}-file pre-check found no overlaps: the seed or the query is wrong`)
    }
    if (result.overlaps.length !== baseline.overlaps || result.hunkOverlaps !== baseline.hunkOverlaps) {
      warn(
        `${driver}: ${files}-file pre-check disagrees with the naive one: ${result.overlaps.length} overlaps ` +
          `(${result.hunkOverlaps} hunk) vs ${baseline.overlaps} (${baseline.hunkOverlaps} hunk)`,
      )
    }
    progress(
      `${driver}: ${files} files: ${result.overlaps.length} overlaps (${result.hunkOverlaps} hunk-level); ` +
        `naive fetched ${baseline.rowsFetched} rows`,
    )
  }
}

// ---------------------------------------------------------------------------------------------------------------
// 2. Decision search
// ---------------------------------------------------------------------------------------------------------------

/** The decisions the labelled queries are about: distinct topics, written the way a team writes ADRs. */
const TARGETS: Array<{ key: string; title: string; body: string }> = [
  {
    key: 'argon2',
    title: 'Use argon2id for password hashing',
    body: 'User passwords are hashed with argon2id (m=64MiB, t=3, p=1). bcrypt truncates at 72 bytes and scrypt parameters were hard to tune. We rehash on login when the parameters change.',
  },
  {
    key: 'token-sha',
    title: 'Hash API tokens with SHA-256 before storage',
    body: 'Personal access tokens are random 32-byte values, so a fast digest is enough: we store only their SHA-256 and compare in constant time. Slow password hashing is unnecessary for high-entropy secrets.',
  },
  {
    key: 'redis-pages',
    title: 'Cache rendered product pages in Redis for five minutes',
    body: 'Product pages are rendered server-side and kept in Redis with a 300 second TTL keyed by locale and currency. Stale reads for five minutes are acceptable to merchandising.',
  },
  {
    key: 'cdn',
    title: 'Serve static assets through a CDN cache',
    body: 'Fingerprinted JavaScript, CSS and images are served by CloudFront with immutable headers and a one year max-age. The origin only sees misses after a deploy.',
  },
  {
    key: 'notify-invalidation',
    title: 'Invalidate the in-process cache with Postgres LISTEN/NOTIFY',
    body: 'Each web process keeps a small LRU of settings; a trigger sends NOTIFY on change so every process drops the entry within a second instead of waiting for a TTL.',
  },
  {
    key: 'advisory-locks',
    title: 'Use Postgres advisory locks for the job scheduler',
    body: 'Only one worker may run a given cron job at a time. pg_try_advisory_lock keyed by job name avoids a separate lock service and releases automatically when the connection dies.',
  },
  {
    key: 'otel',
    title: 'Adopt OpenTelemetry for distributed tracing',
    body: 'Services export spans over OTLP to the collector; trace context propagates through HTTP headers and queue message attributes so one request can be followed across services.',
  },
  {
    key: 'webhook-retry',
    title: 'Retry failed webhooks with exponential backoff and jitter',
    body: 'Outgoing webhook deliveries are retried up to 12 times over 24 hours, doubling the delay each attempt with full jitter, then parked for manual replay.',
  },
  {
    key: 'cursors',
    title: 'Paginate list endpoints with opaque cursors',
    body: 'Offset pagination skipped and duplicated rows under concurrent inserts and got slow on deep pages. Endpoints return a base64 cursor encoding the last sort key.',
  },
  {
    key: 'cents',
    title: 'Store money as integer cents',
    body: 'Amounts are bigint minor units with an ISO currency code next to them; binary floating point caused rounding drift in invoice totals. Formatting happens only at the edge.',
  },
  {
    key: 'utc',
    title: 'Keep every timestamp in UTC',
    body: 'Columns are timestamptz and services run with TZ=UTC. The user timezone is applied only when rendering, which ended the daylight saving bugs in reports.',
  },
  {
    key: 'flags',
    title: 'Feature flags live in LaunchDarkly, not environment variables',
    body: 'Toggling a flag must not need a redeploy, and product owners want percentage rollouts. Environment variables remain for secrets and infrastructure settings only.',
  },
  {
    key: 'login-rate',
    title: 'Rate limit login attempts per IP and per account',
    body: 'Credential stuffing hit the sign-in form. A sliding window allows 10 attempts per IP and 5 per account every 15 minutes, then requires a CAPTCHA.',
  },
  {
    key: 'idempotency-keys',
    title: 'Require idempotency keys on payment requests',
    body: 'Clients send an Idempotency-Key header; the server stores the first response for 24 hours and replays it, so a retried charge never bills a customer twice.',
  },
  {
    key: 'soft-delete',
    title: 'Soft-delete customer records for 30 days before purging',
    body: 'Deleted customers are hidden immediately and removed by a nightly job after 30 days, which satisfies GDPR erasure requests while allowing support to undo mistakes.',
  },
  {
    key: 'migrations-first',
    title: 'Run database migrations before deploying application code',
    body: 'Schema changes follow the expand and contract pattern: add columns first, backfill, switch readers, drop the old column in a later release, so old and new code run side by side.',
  },
  {
    key: 'zod',
    title: 'Validate every HTTP request body with zod',
    body: 'Handlers parse input with a zod schema at the boundary and reject with 422 and the list of issues; nothing untyped reaches the service layer.',
  },
  {
    key: 'sse',
    title: 'Prefer server-sent events over websockets for live notifications',
    body: 'Notifications flow one way, SSE works through our proxies without upgrades and reconnects on its own; a bidirectional socket would add state we do not need.',
  },
  {
    key: 'backups',
    title: 'Encrypt database backups with age',
    body: 'Nightly dumps are encrypted with age to a recipient key held in the vault before upload to object storage; restores are rehearsed monthly.',
  },
  {
    key: 'uuidv7',
    title: 'Use UUIDv7 for primary keys',
    body: 'Time-ordered identifiers keep B-tree inserts local like a sequence while still being safe to generate on clients and to expose in URLs.',
  },
  {
    key: 'pnpm',
    title: 'Adopt pnpm workspaces for the monorepo',
    body: 'One lockfile, strict dependency resolution and fast installs through the content-addressed store; turbo runs tasks across packages.',
  },
  {
    key: 'json-logs',
    title: 'Emit structured JSON logs with request ids',
    body: 'Every log line is one JSON object with level, message and the request id taken from the incoming header, so logs can be joined with traces in the observability stack.',
  },
  {
    key: 's3-presigned',
    title: 'Upload images to S3 with presigned URLs',
    body: 'Browsers upload directly to the bucket with a short-lived presigned PUT; the API only signs and later verifies the object, keeping large bodies off our servers.',
  },
  {
    key: 'cookies',
    title: 'Session cookies are HttpOnly, Secure and SameSite=Lax',
    body: 'Scripts cannot read the session, it never travels over plain HTTP, and cross-site POSTs do not carry it, which covers most CSRF without tokens.',
  },
  {
    key: 'pg-fts',
    title: 'Start with Postgres full-text search before Elasticsearch',
    body: 'tsvector columns with GIN indexes answer product search well at our size; a separate search cluster would need syncing and on-call.',
  },
  {
    key: 'outbox',
    title: 'Send transactional emails through an outbox table',
    body: 'The email row is written in the same transaction as the business change and a relay delivers it; consumers are idempotent, so at-least-once delivery is safe.',
  },
  {
    key: 'circuit-breaker',
    title: 'Wrap the shipping-rates provider in a circuit breaker',
    body: 'After five consecutive failures calls short-circuit for 30 seconds and checkout falls back to flat-rate shipping instead of hanging on a slow upstream.',
  },
  {
    key: 'blue-green',
    title: 'Blue-green deployments on Kubernetes',
    body: 'A release goes to an idle colour, passes smoke tests and then the service selector flips; rolling back is flipping it again.',
  },
  {
    key: 'rls',
    title: 'Enforce row-level security for multi-tenant data',
    body: 'Every tenant table has a policy on tenant_id set from the session, so a missing where clause in application code cannot leak another tenant rows; isolation is the database job.',
  },
  {
    key: 'replicas',
    title: 'Send reporting queries to a read replica',
    body: 'Dashboards and exports run long aggregate queries; pointing them at a streaming replica keeps the primary free for checkout traffic.',
  },
  {
    key: 'jwt-rotation',
    title: 'Rotate JWT signing keys every 90 days',
    body: 'Access tokens are signed with keys published in a JWKS endpoint; a new key is introduced, used for signing after a week, and the old one retired once its tokens expire.',
  },
]

/** Labelled queries: the target keys relevant to each. */
const QUERIES: Array<{ query: string; relevant: string[]; note?: string }> = [
  {
    query: 'password hashing',
    relevant: ['argon2', 'token-sha'],
    note: 'second target has the phrase in its body',
  },
  {
    query: 'caching',
    relevant: ['redis-pages', 'cdn', 'notify-invalidation'],
    note: 'stemming: targets say cache',
  },
  { query: 'retry webhooks', relevant: ['webhook-retry'] },
  { query: 'exponential backoff', relevant: ['webhook-retry'] },
  { query: 'how do we paginate list endpoints', relevant: ['cursors'], note: 'stopwords' },
  { query: 'store money', relevant: ['cents'] },
  { query: 'the user timezone', relevant: ['utc'], note: 'body only, stopword' },
  { query: 'expand and contract', relevant: ['migrations-first'], note: 'body only' },
  { query: 'GDPR erasure', relevant: ['soft-delete'], note: 'body only' },
  { query: 'distributed tracing', relevant: ['otel'] },
  { query: 'idempotency', relevant: ['idempotency-keys', 'outbox'], note: 'stemming: idempotent' },
  { query: 'login rate limit', relevant: ['login-rate'] },
  { query: 'websockets', relevant: ['sse'] },
  { query: 'encrypt backups', relevant: ['backups'] },
  { query: 'primary keys', relevant: ['uuidv7'] },
  { query: 'monorepo package manager', relevant: ['pnpm'] },
  { query: 'presigned uploads', relevant: ['s3-presigned'] },
  { query: 'cookie security', relevant: ['cookies'] },
  { query: 'full-text search', relevant: ['pg-fts'] },
  { query: 'multi-tenant isolation', relevant: ['rls'] },
  { query: 'JWT key rotation', relevant: ['jwt-rotation'], note: 'stemming: rotate' },
  { query: 'deploy', relevant: ['migrations-first', 'blue-green'], note: 'stemming: deploying, deployments' },
  { query: 'job scheduler locks', relevant: ['advisory-locks'] },
]

// About 300 engineering words. Noise is written mostly from the generic ones; about one noun in eight comes from
// the topic words the targets and queries use, so each topic word shows up in a few percent of the noise (in a
// title now and then), never repeated within one decision.
const VERBS = (
  'use adopt prefer keep move split merge replace document deprecate rename inline expose wrap revisit simplify ' +
  'centralise standardise measure monitor test review own extract consolidate'
).split(' ')
const ADJECTIVES = (
  'async sync stale fresh shared local global remote internal external legacy modern strict lenient fast slow ' +
  'durable ephemeral typed nullable immutable central regional nightly weekly manual automatic optional default ' +
  'secondary read-only write-heavy cold hot small large simple explicit implicit dedicated separate common'
).split(' ')
const GENERIC = (
  'service team module client handler config settings layer boundary interface adapter library dependency ' +
  'version component function class method type field value object array map entity model domain context state ' +
  'process thread pool connection protocol header format file directory path script command tool plugin build ' +
  'pipeline task step stage phase environment cluster node container region zone network host port worker ' +
  'runtime memory disk cpu budget cost owner reviewer developer customer user account product order report ' +
  'dashboard metric alert error exception fallback default request response endpoint data list key job package ' +
  'store table column index query release version feature test fixture mock latency throughput incident ' +
  'outage rollout experiment template admin console backend frontend mobile browser server api gateway proxy ' +
  'router middleware schema record event message consumer producer topic partition batch stream window ' +
  'snapshot archive policy role permission scope audit license vendor contract estimate deadline roadmap ' +
  'milestone ticket review document guideline convention standard naming layout style'
).split(' ')
const TOPIC = (
  'password hashing hash token tokens cache caching cached redis cdn invalidation lock locks scheduler cron ' +
  'tracing trace span webhook webhooks retry retries backoff jitter pagination paginate cursor cursors offset ' +
  'money cents currency invoice float timestamp timezone utc flag flags toggle login rate limit limiting ' +
  'throttle idempotency idempotent payment charge delete purge gdpr erasure retention migration migrations ' +
  'expand deploy deployment deploying validation zod websocket websockets sse notification notifications ' +
  'encrypt encryption backup backups restore vault uuid primary identifier monorepo workspace lockfile pnpm ' +
  'logging logs json upload uploads presigned bucket s3 image cookie cookies session csrf search elasticsearch ' +
  'fulltext email outbox relay circuit breaker shipping kubernetes blue-green tenant tenants isolation security ' +
  'replica replication reporting jwt signing rotation rotate keys secrets'
).split(' ')

function noiseDecisions(count: number, random: () => number): Array<{ title: string; body: string }> {
  const pick = <T>(words: T[]) => words[Math.floor(random() * words.length)]!
  const cap = (word: string) => word[0]!.toUpperCase() + word.slice(1)
  return Array.from({ length: count }, () => {
    const used = new Set<string>()
    // A noun not used yet in this decision; a topic word with probability `topic`.
    const noun = (topic: number) => {
      for (;;) {
        const word = pick(random() < topic ? TOPIC : GENERIC)
        if (!used.has(word)) {
          used.add(word)
          return word
        }
      }
    }
    const t = () => noun(0.15)
    const n = () => noun(0.12)
    const titles = [
      () => `${cap(pick(VERBS))} ${pick(ADJECTIVES)} ${t()} for the ${t()} ${t()}`,
      () => `${cap(pick(VERBS))} the ${t()} ${t()} in the ${t()} service`,
      () => `Prefer ${t()} over ${t()} for ${t()}`,
      () => `${cap(t())} ${t()} uses a ${pick(ADJECTIVES)} ${t()}`,
      () => `${cap(pick(VERBS))} ${t()} ${t()} behind the ${t()}`,
    ]
    const sentences = [
      () => `We ${pick(VERBS)} the ${n()} ${n()} because the ${n()} was ${pick(ADJECTIVES)} under load.`,
      () =>
        `The ${n()} team measured ${n()} ${n()} and chose to ${pick(VERBS)} the ${pick(ADJECTIVES)} ${n()}.`,
      () => `Alternatives considered: ${n()} ${n()}, a ${pick(ADJECTIVES)} ${n()} and ${n()}.`,
      () => `This affects ${n()}, ${n()} and the ${n()} ${n()}; revisit when the ${n()} changes.`,
      () => `Consequences: ${pick(ADJECTIVES)} ${n()} for ${n()} clients and more ${n()} in the ${n()}.`,
      () => `Owners of the ${n()} ${n()} must ${pick(VERBS)} the ${n()} before the next ${n()}.`,
    ]
    const title = pick(titles)()
    const body = Array.from({ length: 3 + Math.floor(random() * 3) }, () => pick(sentences)()).join(' ')
    return { title, body }
  })
}

const YEAR_SECONDS = 365 * 24 * 3600

/** The targets through writeDecision, then the noise in one statement; all spread over the last year. */
async function seedDecisions(db: Db, scope: ResolvedScope): Promise<Map<string, string>> {
  const random = prng(42)
  const keyByTitle = new Map<string, string>()
  for (const target of TARGETS) {
    const decision = await writeDecision(db, scope, { title: target.title, body: target.body })
    keyByTitle.set(decision.title, target.key)
    await sql`update dstack.decisions set created_at = now() - make_interval(secs => ${Math.floor(random() * YEAR_SECONDS)})
      where id = ${decision.id}`.execute(db)
  }
  const noise = noiseDecisions(N.noiseDecisions, random)
  for (const { title } of noise) {
    if (keyByTitle.has(title)) throw new Error(`a noise decision repeats a target title: ${title}`)
  }
  await sql`insert into dstack.decisions (repo_id, title, body, status, authored_by, created_at, updated_at)
    select ${scope.repoId}, t, b, case when i % 20 = 0 then 'deprecated' else 'accepted' end,
           'agent-' || lpad((i % ${N.agents})::text, 2, '0'), now() - make_interval(secs => o), now() - make_interval(secs => o)
    from unnest(${noise.map((d) => d.title)}::text[], ${noise.map((d) => d.body)}::text[],
                ${noise.map(() => Math.floor(random() * YEAR_SECONDS))}::int[])
         with ordinality as u(t, b, o, i)`.execute(db)
  await sql`analyze dstack.decisions`.execute(db)
  return keyByTitle
}

/** fstack's search: one ILIKE on the whole query string over title or body, newest first. */
async function ilikeSearch(db: Db, scope: ResolvedScope, query: string): Promise<string[]> {
  const pattern = `%${query}%`
  const result = await sql<{ title: string }>`
    select title from dstack.decisions
    where repo_id = ${scope.repoId} and (title ilike ${pattern} or body ilike ${pattern})
    order by created_at desc limit 10`.execute(db)
  return result.rows.map((row) => row.title)
}

/** A fairer ILIKE: every whitespace-separated word must appear in the title or the body; newest first. */
async function ilikeWordsSearch(db: Db, scope: ResolvedScope, query: string): Promise<string[]> {
  const patterns = query.split(/\s+/).map((word) => `%${word}%`)
  const result = await sql<{ title: string }>`
    select title from dstack.decisions
    where repo_id = ${scope.repoId}
      and (select bool_and(title ilike p or body ilike p) from unnest(${patterns}::text[]) p)
    order by created_at desc limit 10`.execute(db)
  return result.rows.map((row) => row.title)
}

interface Quality {
  precisionAt5: number
  recallAt10: number
  mrr: number
  perQuery: Array<{ query: string; firstRelevant: number | null }>
}

function quality(ranked: Map<string, string[]>, keyByTitle: Map<string, string>): Quality {
  let precision = 0
  let recall = 0
  let reciprocal = 0
  const perQuery: Quality['perQuery'] = []
  for (const { query, relevant } of QUERIES) {
    const keys = ranked.get(query)!.map((title) => keyByTitle.get(title))
    const hit = (key: string | undefined) => key !== undefined && relevant.includes(key)
    precision += keys.slice(0, 5).filter(hit).length / 5
    recall += new Set(keys.slice(0, 10).filter(hit)).size / relevant.length
    const first = keys.findIndex(hit)
    reciprocal += first === -1 ? 0 : 1 / (first + 1)
    perQuery.push({ query, firstRelevant: first === -1 ? null : first + 1 })
  }
  return {
    precisionAt5: precision / QUERIES.length,
    recallAt10: recall / QUERIES.length,
    mrr: reciprocal / QUERIES.length,
    perQuery,
  }
}

const SEARCH_METHODS: Array<{
  name: string
  baseline?: string
  run: (db: Db, scope: ResolvedScope, query: string) => Promise<string[]>
}> = [
  {
    name: 'fts',
    run: async (db, scope, query) =>
      (await searchDecisions(db, scope, { query, limit: 10 })).map((hit) => hit.title),
  },
  { name: 'ilike', baseline: 'ilike', run: ilikeSearch },
  { name: 'ilike-words', baseline: 'ilike-words', run: ilikeWordsSearch },
]

async function benchSearch(driver: Driver, brain: Brain, scope: ResolvedScope): Promise<void> {
  const db = brain.db
  let keyByTitle = new Map<string, string>()
  const seedMs = await timed(async () => {
    keyByTitle = await seedDecisions(db, scope)
  })
  recorder.record('seed_decisions', series(driver), 'ms', [seedMs])
  progress(`${driver}: seeded ${N.noiseDecisions + TARGETS.length} decisions in ${formatNumber(seedMs)} ms`)
  const latencies = new Map<string, number[]>(SEARCH_METHODS.map((m) => [m.name, []]))
  const ranked = new Map<string, Map<string, string[]>>(SEARCH_METHODS.map((m) => [m.name, new Map()]))
  for (let rep = -N.searchWarmup; rep < N.searchReps; rep++) {
    for (const { query } of QUERIES) {
      for (const method of SEARCH_METHODS) {
        let titles: string[] = []
        const ms = await timed(async () => {
          titles = await method.run(db, scope, query)
        })
        if (rep >= 0) latencies.get(method.name)!.push(ms)
        ranked.get(method.name)!.set(query, titles)
      }
    }
  }
  for (const method of SEARCH_METHODS) {
    const s = series(driver, method.baseline)
    const q = quality(ranked.get(method.name)!, keyByTitle)
    recorder.record('search_latency', s, 'ms', latencies.get(method.name)!)
    recorder.record('search_precision_at_5', s, 'ratio', [q.precisionAt5])
    recorder.record('search_recall_at_10', s, 'ratio', [q.recallAt10])
    recorder.record('search_mrr', s, 'ratio', [q.mrr])
    const misses = q.perQuery.filter((p) => p.firstRelevant !== 1)
    progress(
      `${driver}/${method.name}: first relevant not at rank 1 for ${misses.length} queries: ` +
        misses.map((p) => `"${p.query}" → ${p.firstRelevant ?? 'none'}`).join(', '),
    )
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Run, table, results
// ---------------------------------------------------------------------------------------------------------------

async function run(tmpRoot: string): Promise<void> {
  const admin = await connectAdmin(cleanups)
  const dbName = `dstack_ops_bench_${randomBytes(4).toString('hex')}`
  await admin.query(`create database ${dbName}`)
  if (process.env.DSTACK_BENCH_KEEP_DB) {
    console.error(`[ops bench] keeping database ${dbName} (DSTACK_BENCH_KEEP_DB)`)
  } else {
    defer(`drop database ${dbName}`, () => admin.query(`drop database if exists ${dbName} with (force)`))
  }

  const dataDir = join(tmpRoot, 'brain')
  const configs: Record<Driver, BrainConfig> = {
    embedded: { driver: 'embedded', dataDir },
    postgres: { driver: 'postgres', url: databaseUrl(dbName) },
  }
  defer(`stop the embedded server in ${dataDir}`, () => stopEmbeddedServer({ dataDir }))

  for (const driver of DRIVERS) {
    progress(`${driver}: opening and migrating`)
    const brain = await openBrain(configs[driver], { migrate: true })
    defer(`close the ${driver} brain`, () => brain.close())
    const scope = await resolveScope(brain.db, {
      agentId: 'me',
      sessionId: 'me-session',
      repo: 'github.com/acme/monolith',
      branch: 'me/checkout-rework',
    })
    await benchPrecheck(driver, brain, scope)
    await benchSearch(driver, brain, scope)
    await brain.close()
  }
}

const TABLE: Array<{ metric: string; label: string; baseline?: string; kind: 'time' | 'count' | 'quality' }> =
  [
    { metric: 'seed_edits', label: 'seed: 1k intents + 100k edits, bulk SQL [ms]', kind: 'time' },
    { metric: 'precheck_10', label: 'pre-check, push of 10 files [ms]', baseline: 'naive', kind: 'time' },
    {
      metric: 'precheck_10_overlaps',
      label: '  overlaps found (10 files)',
      baseline: 'naive',
      kind: 'count',
    },
    { metric: 'precheck_10_hunk_overlaps', label: '  of which hunk-level', baseline: 'naive', kind: 'count' },
    { metric: 'precheck_200', label: 'pre-check, push of 200 files [ms]', baseline: 'naive', kind: 'time' },
    {
      metric: 'precheck_200_overlaps',
      label: '  overlaps found (200 files)',
      baseline: 'naive',
      kind: 'count',
    },
    {
      metric: 'precheck_200_hunk_overlaps',
      label: '  of which hunk-level',
      baseline: 'naive',
      kind: 'count',
    },
    { metric: 'seed_decisions', label: 'seed: 10k decisions + 31 targets [ms]', kind: 'time' },
    { metric: 'search_latency', label: 'decision search, limit 10 [ms]', baseline: 'ilike', kind: 'time' },
    { metric: 'search_precision_at_5', label: 'search precision@5', baseline: 'ilike', kind: 'quality' },
    { metric: 'search_recall_at_10', label: 'search recall@10', baseline: 'ilike', kind: 'quality' },
    { metric: 'search_mrr', label: 'search MRR', baseline: 'ilike', kind: 'quality' },
  ]

function computeRatios(): Record<string, number> {
  const ratios: Record<string, number> = {}
  for (const driver of DRIVERS) {
    for (const metric of ['precheck_10', 'precheck_200']) {
      const ratio = recorder.ratio([metric, series(driver, 'naive')], [metric, series(driver)])
      if (ratio !== undefined) ratios[`${metric}.${driver}.naive_vs_ours`] = ratio
    }
    for (const baseline of ['ilike', 'ilike-words']) {
      const ratio = recorder.ratio(
        ['search_latency', series(driver, baseline)],
        ['search_latency', series(driver)],
      )
      if (ratio !== undefined) ratios[`search_latency.${driver}.${baseline}_vs_fts`] = ratio
    }
  }
  return ratios
}

function value(result: Result, kind: 'time' | 'count' | 'quality'): string {
  return kind === 'quality'
    ? result.median.toFixed(3)
    : kind === 'count'
      ? String(result.median)
      : cell(result)
}

function versus(ours: Result, other: Result, name: string, kind: 'time' | 'count' | 'quality'): string {
  if (kind === 'time') return `${name} ${cell(other)} = ${(other.median / ours.median).toFixed(1)}x ours`
  if (kind === 'count')
    return `${name} ${other.median}${other.median === ours.median ? ' (agrees)' : ' (DIFFERS)'}`
  const delta = ours.median - other.median
  return `${name} ${other.median.toFixed(3)} (ours ${delta >= 0 ? '+' : ''}${delta.toFixed(3)})`
}

function table(): string {
  const rows: string[][] = []
  for (const { metric, label, baseline, kind } of TABLE) {
    for (const driver of DRIVERS) {
      const ours = recorder.get(metric, series(driver))
      if (!ours) continue
      const baselines = baseline === 'ilike' ? ['ilike', 'ilike-words'] : baseline ? [baseline] : []
      const others = baselines
        .map((name) => {
          const other = recorder.get(metric, series(driver, name))
          return other ? versus(ours, other, name, kind) : undefined
        })
        .filter((text) => text !== undefined)
      rows.push([label, driver, value(ours, kind), others.join('; ') || '-'])
    }
  }
  return renderTable(['metric', 'driver', 'median (p95, min, n)', 'vs baseline'], rows)
}

async function main(): Promise<void> {
  const startedAt = new Date()
  if (!(await runBench('ops', cleanups, run))) return

  const ratios = computeRatios()
  console.log(table())
  console.log(
    `\nPre-check: agent "me" (no edits) against ${N.edits} edits of ${N.files} files by ${N.agents} agents, ` +
      `${WINDOW_DAYS}-day window, slack ${SLACK}; naive = fetch all their edits in the window and intersect in JS. ` +
      `Search: ${QUERIES.length} labelled queries x ${N.searchReps} reps; ilike = fstack (title or body ILIKE ` +
      `'%query%', newest first), ilike-words = every word ILIKE'd. precision@5 is capped by 1-3 relevant ` +
      `decisions per query (best possible ${(QUERIES.reduce((s, q) => s + Math.min(5, q.relevant.length) / 5, 0) / QUERIES.length).toFixed(3)}).`,
  )
  for (const warning of warnings) console.log(`WARNING: ${warning}`)
  const file = writeResults('ops', startedAt, recorder.results, ratios)
  console.log(`\nresults: ${file}`)
}

await main()

// What the dstack skills bundle adds to the context of EVERY Claude Code session, in tokens, against two peers:
//   1. the skill listing: `name: description` of each skill and command the model may invoke (what listingCost
//      measures in characters; files with `disable-model-invocation: true` are not listed), per entry and in total;
//      and each skill body, paid only when that skill is invoked.
//   2. the SessionStart digest: a scratch brain (embedded server, as apps/cli/bench/hooks.bench.ts starts it) seeded
//      through the real CLI with 3 teammates (intent, live presence, edits), 2 handoffs, 5 decisions and 3 memories,
//      then the real `dstack hook SessionStart` fed a Claude Code payload on stdin; the additionalContext it prints.
//   3. peers, measured once from their public source at a fixed commit (constants below, with provenance; none of
//      their text is in this repository): obra/superpowers' SessionStart hook, which injects its using-superpowers
//      SKILL.md in full into every session, and garrytan/gstack, whose every skill starts with a shared preamble.
// Tokens are o200k_base from js-tiktoken (the browser bench's tokenizer, same pin, installed at bench time with npm
// into <os tmpdir>/dstack-skills-bench-peers/; chars/4 if it cannot be loaded, and the output says so). Claude's
// own tokenizer is not public: o200k_base is a stand-in, the same for every series, so compare ratios.
// Build the CLI first (`pnpm turbo run build --filter=@dstack/cli...`), then from apps/skills: `pnpm bench` or
// `node bench/tokens.bench.ts` (about 30 s); writes <repo>/bench/results/skill-tokens-<time>.json.
// SKILLS_BENCH_KEEP=1 keeps the scratch brain's directory.

import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import {
  formatNumber,
  installPinned,
  Recorder,
  renderTable,
  runNode,
  writeResults,
} from '../../../bench/harness.ts'
import { TIKTOKEN_VERSION } from '../../../packages/browser/bench/peer.ts'
import { LISTING_BUDGET_CHARS, listingCost, readBundle, type SourceDoc } from '../src/index.ts'

const REPO_ROOT = join(import.meta.dirname, '..', '..', '..')
const SKILLS = join(REPO_ROOT, 'skills')
const CLI = join(REPO_ROOT, 'apps', 'cli', 'bin', 'run.js')
const TOKENIZER_CACHE = join(tmpdir(), 'dstack-skills-bench-peers', `js-tiktoken-${TIKTOKEN_VERSION}`)

// ---------------------------------------------------------------------------------------------------------------
// Peers: figures taken once from their public source through the code index (find_files / read_file), at the
// commits named. Characters are the file's (or the section's) length as the index returned it; "counted" tokens are
// o200k_base counts of that exact text made once when these constants were written (the text itself is not kept);
// "estimate" tokens are computed at run time from the characters with this run's characters-per-token on our own
// text. The index files forks' commits under the upstream repository's name (for obra/superpowers it returned a
// plugin.json of the "minipowers" fork at 041e0e1 and a RELEASE-NOTES.md of joeshirey's fork at 03e403a; for
// garrytan/gstack a Chinese careful/SKILL.md at c5d10fd), so no commit below is verified as the upstream HEAD.
// ---------------------------------------------------------------------------------------------------------------

interface PeerFile {
  repo: string
  path: string
  commit: string
  /** The whole file's length, as the index reports it (total_chars). */
  fileChars: number
}

const SUPERPOWERS_HOOK: PeerFile & { wrapperChars: number; wrapperTokens: number } = {
  repo: 'obra/superpowers',
  path: 'hooks/session-start',
  commit: '012ea2bff62f4e02a40b8009a12250f806c8f459',
  fileChars: 3198,
  // It prints hookSpecificOutput.additionalContext = an <EXTREMELY_IMPORTANT> header line, a "You have superpowers"
  // line and a lead-in sentence, then the SKILL.md (trailing newlines cut by $(cat)), then the closing tag: 228
  // characters around the skill (no legacy-skills warning, the usual case).
  wrapperChars: 228,
  wrapperTokens: 56,
}

/** skills/using-superpowers/SKILL.md: the index holds 177 versions of it; these are the two it hands out. */
const SUPERPOWERS_SKILL: Array<
  PeerFile & { label: string; tokens: number; injectedChars: number; injectedTokens: number; how: string }
> = [
  {
    label: 'superpowers @0df146f',
    repo: 'obra/superpowers',
    path: 'skills/using-superpowers/SKILL.md',
    commit: '0df146f90eaa5417de0940fc144c9c447637f1b1',
    fileChars: 4253,
    tokens: 941,
    injectedChars: 4480,
    injectedTokens: 998,
    how: 'the version find_files lists for the path ("Using Superpowers": the mandatory first-response checklist, widely copied by forks)',
  },
  {
    label: 'superpowers @0175dd9',
    repo: 'obra/superpowers',
    path: 'skills/using-superpowers/SKILL.md',
    commit: '0175dd98f3f0b8a7205a348aa76fa2db7e7547a8',
    fileChars: 2615,
    tokens: 547,
    injectedChars: 2842,
    injectedTokens: 603,
    how: 'the version read_file returns without a commit (a trimmed "invoke only on clear matches" rewrite; its opening rule is in no other indexed file but a test guarding it: possibly a fork)',
  },
]

/**
 * gstack's shared preamble, as generated into review/SKILL.md (preamble-tier 4, the largest tier; ship/SKILL.md
 * and qa/SKILL.md at the same commit carry the same preamble): from "## Preamble (run first)" (offset 726, after
 * the frontmatter and two generator comments) to "## Step 0: Detect platform and base branch" (offset 53,451),
 * i.e. the bash block, plan-mode rules, upgrade/telemetry/routing prompts, AskUserQuestion format, GBrain sync,
 * voice, writing style, completeness, checkpoint, question tuning, completion status, telemetry and plan footer.
 * Lower tiers include fewer of these sections (not measured here).
 */
const GSTACK_PREAMBLE = {
  repo: 'garrytan/gstack',
  path: 'review/SKILL.md',
  commit: '3942b14a1f5e84a87fc4dbd0ff00c163a60acc39',
  fileChars: 101_584,
  start: 726,
  end: 53_451,
  /** A counted sample: the preamble's last 5,451 characters (offset 48,000 to its end). */
  sampleChars: 5_451,
  sampleTokens: 1_409,
}
const gstackPreambleChars = GSTACK_PREAMBLE.end - GSTACK_PREAMBLE.start

/** How many skills gstack lists: the "## Skills" section of its generated llms.txt. */
const GSTACK_SKILL_COUNT = {
  repo: 'garrytan/gstack',
  path: 'gstack/llms.txt',
  commit: 'd6e6c90aae6a4874d8fa9a99a1536196d7820e45',
  fileChars: 12_367,
  skills: 54,
}

/** `name: description` of three gstack skills, counted (descriptions are YAML block scalars, lines kept). */
const GSTACK_LISTING_SAMPLE = [
  { name: 'review', path: 'review/SKILL.md', fileChars: 101_584, chars: 346, tokens: 81 },
  { name: 'ship', path: 'ship/SKILL.md', fileChars: 167_482, chars: 404, tokens: 105 },
  { name: 'qa', path: 'qa/SKILL.md', fileChars: 88_031, chars: 669, tokens: 160 },
].map((entry) => ({ ...entry, repo: 'garrytan/gstack', commit: GSTACK_PREAMBLE.commit }))

// ---------------------------------------------------------------------------------------------------------------

const recorder = new Recorder()
const started = performance.now()
const progress = (message: string) =>
  console.error(`[skill tokens bench ${((performance.now() - started) / 1000).toFixed(0)}s] ${message}`)
const warnings: string[] = []
const warn = (message: string) => {
  warnings.push(message)
  console.error(`[skill tokens bench] WARNING: ${message}`)
}
const round = (value: number, digits = 4) => Number(value.toFixed(digits))
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0)
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length / 2
  return sorted.length % 2 ? sorted[Math.floor(mid)]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

let countTokens = (text: string) => Math.ceil(text.length / 4)
let tokenizer = 'chars/4 (js-tiktoken could not be loaded)'
let exactTokenizer = false

async function loadTokenizer(): Promise<void> {
  progress(`js-tiktoken@${TIKTOKEN_VERSION} in ${TOKENIZER_CACHE}`)
  const installError = await installPinned(TOKENIZER_CACHE, { 'js-tiktoken': TIKTOKEN_VERSION })
  if (installError) {
    warn(`could not install js-tiktoken: ${installError.split('\n')[0]}: tokens are chars/4`)
    return
  }
  try {
    const require = createRequire(join(TOKENIZER_CACHE, 'package.json'))
    const { getEncoding } = (await import(require.resolve('js-tiktoken'))) as {
      getEncoding: (name: string) => { encode: (text: string) => number[] }
    }
    const encoding = getEncoding('o200k_base')
    countTokens = (text) => encoding.encode(text).length
    tokenizer = `o200k_base (js-tiktoken ${TIKTOKEN_VERSION})`
    exactTokenizer = true
  } catch (error) {
    warn(`js-tiktoken could not be loaded (${(error as Error).message.split('\n')[0]}): tokens are chars/4`)
  }
}

// ---------------------------------------------------------------------------------------------------------------
// 1. The listing and the bodies
// ---------------------------------------------------------------------------------------------------------------

interface EntryCost {
  name: string
  kind: SourceDoc['kind']
  listed: boolean
  listingChars: number
  listingTokens: number
  bodyChars: number
  bodyTokens: number
}

function measureBundle(): EntryCost[] {
  const bundle = readBundle(SKILLS)
  for (const problem of bundle.problems)
    warn(`skills/${problem.path}:${problem.line}: ${problem.message} (the bundle does not validate)`)
  const cost = listingCost(bundle)
  const entries: EntryCost[] = []
  for (const doc of [...bundle.skills, ...bundle.commands]) {
    const fm = doc.frontmatter
    const listed = fm !== null && fm['disable-model-invocation'] !== true
    // The line Claude Code lists for it: the same text listingCost counts.
    const line = fm ? `${fm.name}: ${fm.description}` : ''
    if (listed && line.length !== cost.perEntry[doc.name])
      throw new Error(
        `${doc.path}: listing text is ${line.length} characters, listingCost says ${cost.perEntry[doc.name]}`,
      )
    entries.push({
      name: doc.kind === 'command' ? `/${doc.name}` : doc.name,
      kind: doc.kind,
      listed,
      listingChars: listed ? line.length : 0,
      listingTokens: listed ? countTokens(line) : 0,
      bodyChars: doc.body.length,
      bodyTokens: countTokens(doc.body),
    })
  }
  const listedChars = sum(entries.map((e) => e.listingChars))
  if (listedChars !== cost.total)
    throw new Error(`listing: ${listedChars} characters here, listingCost says ${cost.total}`)
  for (const entry of entries) {
    if (entry.listed) recorder.record('listing_entry_tokens', entry.name, 'tokens', [entry.listingTokens])
    recorder.record('body_tokens', entry.name, 'tokens', [entry.bodyTokens])
  }
  return entries
}

// ---------------------------------------------------------------------------------------------------------------
// 2. The SessionStart digest from a seeded scratch brain
// ---------------------------------------------------------------------------------------------------------------

const TEAMMATES = [
  {
    agent: 'ana',
    title: 'Round invoice totals half-even to cents',
    body: 'EUR and USD invoices; the tax line is rounded separately',
    edits: [
      ['src/billing/invoice.ts', '40-52,88'],
      ['src/billing/tax.ts', '12-18'],
    ],
  },
  {
    agent: 'ben',
    title: 'Move web sessions from signed cookies to the sessions table',
    body: 'Reads go to the table first; the cookie stays as a fallback for one release',
    edits: [
      ['src/auth/session.ts', '1-60'],
      ['src/auth/login.ts', '22-31'],
      ['db/schema.sql', '140-162'],
    ],
  },
  {
    agent: 'cho',
    title: 'Rate-limit the public API routes per token',
    body: 'Token bucket in Redis, 100 requests per minute, 429 with Retry-After',
    edits: [['src/api/routes.ts', '5-19,77-90']],
  },
] as const
const HANDOFFS = [
  {
    agent: 'ana',
    args: [
      '--note',
      'Invoice rounding is done for EUR; USD still truncates in the PDF export',
      '--next-step',
      'Add the USD case to src/billing/invoice.test.ts and fix renderTotals',
      '--to',
      'bench',
    ],
  },
  {
    agent: 'ben',
    args: [
      '--note',
      'Session migration is half done: reads use the table, writes still set the cookie',
      '--blocker',
      'The sessions table needs an index on user_id before the backfill',
    ],
  },
] as const
const DECISIONS = [
  [
    'ana',
    'Money is integer cents everywhere',
    'No floats in billing code; format only at the edge',
    'billing',
  ],
  [
    'ben',
    'Sessions live in Postgres, not in cookies',
    'Revocation and audit need server-side sessions',
    'auth',
  ],
  ['cho', 'Rate limits are per API token', 'Per-IP limits punish customers behind NAT', 'api'],
  [
    'ana',
    'Invoices are immutable once sent',
    'Corrections are credit notes that reference the invoice',
    'billing',
  ],
  [
    'ben',
    'Passwords are hashed with argon2id',
    'bcrypt truncates at 72 bytes; argon2id is the OWASP default',
    'auth',
  ],
] as const
const MEMORIES = [
  ['billing/rounding', 'Invoice totals round half-even, to cents, after tax'],
  ['api/limits', 'Public API: 100 requests per minute per token; internal callers are exempt'],
  ['testing/db', 'Integration tests need DATABASE_URL pointing at a scratch database'],
] as const

interface DigestRun {
  text: string
  hookMs: number
  seedSeconds: number
}

async function measureDigest(): Promise<DigestRun> {
  const work = mkdtempSync(join(tmpdir(), 'dstack-skills-bench-'))
  const home = join(work, 'home')
  const repo = join(work, 'repo')
  const env = (agent: string): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    HOME: home,
    DSTACK_HOME: join(home, '.dstack'),
    DSTACK_AGENT: agent,
  })
  const dstack = (agent: string, args: string[], input?: string) => runNode([CLI, ...args], env(agent), input)
  const previousCwd = process.cwd()
  let brainStarted = false
  try {
    const files = [...new Set(TEAMMATES.flatMap((t) => t.edits.map(([file]) => file)))]
    for (const file of files) {
      mkdirSync(dirname(join(repo, file)), { recursive: true })
      writeFileSync(
        join(repo, file),
        `${Array.from({ length: 200 }, (_, i) => `// line ${i + 1}`).join('\n')}\n`,
      )
    }
    const git = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.name=b', '-c', 'user.email=b@b', ...args], { cwd: repo })
    git('init', '-q', '-b', 'main')
    git('remote', 'add', 'origin', 'git@github.com:acme/storefront.git')
    git('add', '.')
    git('commit', '-q', '-m', 'seed')
    // The CLI acts on the repository it runs in (runNode takes no cwd).
    process.chdir(repo)

    const seedStarted = performance.now()
    progress('starting the scratch brain (embedded server)')
    await dstack('bench', ['brain', 'up'])
    brainStarted = true
    progress('seeding: 3 teammates, 2 handoffs, 5 decisions, 3 memories')
    await Promise.all(
      TEAMMATES.map(async (t) => {
        await dstack(t.agent, ['intent', 'write', '--title', t.title, '--body', t.body])
        for (const [file, lines] of t.edits) await dstack(t.agent, ['log-edit', file, '--lines', lines])
        await dstack(t.agent, ['heartbeat', '--files', t.edits.map(([file]) => file).join(',')])
      }),
    )
    // Three independent chains; decisions stay in order (they are numbered ADR-1..5).
    await Promise.all([
      (async () => {
        for (const h of HANDOFFS) await dstack(h.agent, ['handoff', 'write', ...h.args])
      })(),
      (async () => {
        for (const [agent, title, body, feature] of DECISIONS)
          await dstack(agent, ['decide', 'write', '--title', title, '--body', body, '--features', feature])
      })(),
      (async () => {
        for (const [key, value] of MEMORIES) await dstack('ana', ['memory', 'set', key, value])
      })(),
    ])
    const seedSeconds = (performance.now() - seedStarted) / 1000

    progress('dstack hook SessionStart')
    const payload = JSON.stringify({
      session_id: 'bench-session',
      transcript_path: join(work, 'bench-session.jsonl'),
      cwd: repo,
      hook_event_name: 'SessionStart',
      source: 'startup',
    })
    const run = await dstack('bench', ['hook', 'SessionStart'], payload)
    const output = JSON.parse(run.stdout) as { hookSpecificOutput?: { additionalContext?: string } }
    const text = output.hookSpecificOutput?.additionalContext
    if (!text) throw new Error(`SessionStart printed no additionalContext: ${run.stdout.slice(0, 500)}`)
    return { text, hookMs: run.ms, seedSeconds }
  } finally {
    process.chdir(previousCwd)
    if (brainStarted) await dstack('bench', ['brain', 'down']).catch(() => {})
    if (process.env.SKILLS_BENCH_KEEP === '1') progress(`kept ${work}`)
    else rmSync(work, { recursive: true, force: true })
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Tables
// ---------------------------------------------------------------------------------------------------------------

const n = (value: number) => Math.round(value).toLocaleString('en-US')
const ratioText = (value: number | undefined) => (value === undefined ? '-' : `${formatNumber(value)}×`)

function bundleTable(entries: EntryCost[]): string {
  const rows = entries.map((e) => [
    e.name,
    e.kind,
    e.listed ? n(e.listingChars) : 'not listed',
    e.listed ? n(e.listingTokens) : '-',
    n(e.bodyChars),
    n(e.bodyTokens),
  ])
  const listed = entries.filter((e) => e.listed)
  rows.push([
    `total (${listed.length} listed of ${entries.length})`,
    '',
    n(sum(listed.map((e) => e.listingChars))),
    n(sum(listed.map((e) => e.listingTokens))),
    n(sum(entries.map((e) => e.bodyChars))),
    n(sum(entries.map((e) => e.bodyTokens))),
  ])
  return renderTable(
    [
      'dstack skill / command',
      'kind',
      'listing chars',
      'listing tokens (every session)',
      'body chars',
      'body tokens (when invoked)',
    ],
    rows,
  )
}

interface Row {
  what: string
  chars: number
  tokens: number
  how: string
  paid: string
  source: string
}

function comparisonTable(rows: Row[]): string {
  return renderTable(
    ['context added', 'chars', 'tokens', 'tokens are', 'paid', 'source'],
    rows.map((r) => [r.what, n(r.chars), n(r.tokens), r.how, r.paid, r.source]),
  )
}

// ---------------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const startedAt = new Date()
  if (!existsSync(join(CLI, '..', '..', 'dist', 'hook.cjs')))
    throw new Error('build the CLI first: pnpm turbo run build --filter=@dstack/cli...')
  await loadTokenizer()

  progress('reading skills/')
  const entries = measureBundle()
  const listed = entries.filter((e) => e.listed)
  const listingChars = sum(listed.map((e) => e.listingChars))
  const listingTokens = sum(listed.map((e) => e.listingTokens))
  const skillBodies = entries.filter((e) => e.kind === 'skill' && e.listed).map((e) => e.bodyTokens)

  const digest = await measureDigest()
  const digestTokens = countTokens(digest.text)
  const alwaysChars = listingChars + digest.text.length
  const alwaysTokens = listingTokens + digestTokens

  // Characters per token on our own text this run: the listing lines, every body and the digest.
  const ourChars = listingChars + sum(entries.map((e) => e.bodyChars)) + digest.text.length
  const ourTokens = listingTokens + sum(entries.map((e) => e.bodyTokens)) + digestTokens
  const charsPerToken = ourChars / ourTokens
  const estimate = (chars: number) => Math.round(chars / charsPerToken)

  const gstackMeanEntryChars = sum(GSTACK_LISTING_SAMPLE.map((s) => s.chars)) / GSTACK_LISTING_SAMPLE.length
  const gstackMeanEntryTokens = sum(GSTACK_LISTING_SAMPLE.map((s) => s.tokens)) / GSTACK_LISTING_SAMPLE.length
  const gstackListingChars = Math.round(gstackMeanEntryChars * GSTACK_SKILL_COUNT.skills)
  const gstackListingTokens = Math.round(gstackMeanEntryTokens * GSTACK_SKILL_COUNT.skills)
  const gstackPreambleTokens = estimate(gstackPreambleChars)
  const gstackPreambleTokensBySample = Math.round(
    gstackPreambleChars / (GSTACK_PREAMBLE.sampleChars / GSTACK_PREAMBLE.sampleTokens),
  )

  const DSTACK = 'dstack'
  const GSTACK_LISTING = 'gstack listing (sampled estimate)'
  const GSTACK_PREAMBLE_SERIES = 'gstack preamble, tier 4 (estimate)'
  const GSTACK_FIRST = 'gstack listing + 1 preamble'
  recorder.record('listing_tokens', DSTACK, 'tokens', [listingTokens])
  recorder.record('listing_chars', DSTACK, 'chars', [listingChars])
  recorder.record('digest_tokens', DSTACK, 'tokens', [digestTokens])
  recorder.record('digest_chars', DSTACK, 'chars', [digest.text.length])
  recorder.record('always_loaded_tokens', DSTACK, 'tokens', [alwaysTokens])
  recorder.record('always_loaded_chars', DSTACK, 'chars', [alwaysChars])
  recorder.record('skill_body_tokens_median', DSTACK, 'tokens', [median(skillBodies)])
  recorder.record('hook_session_start_ms', DSTACK, 'ms', [digest.hookMs])
  for (const s of SUPERPOWERS_SKILL) {
    recorder.record('always_loaded_tokens', s.label, 'tokens', [s.injectedTokens])
    recorder.record('always_loaded_chars', s.label, 'chars', [s.injectedChars])
  }
  recorder.record('listing_tokens', GSTACK_LISTING, 'tokens', [gstackListingTokens])
  recorder.record('listing_chars', GSTACK_LISTING, 'chars', [gstackListingChars])
  recorder.record('preamble_tokens', GSTACK_PREAMBLE_SERIES, 'tokens', [gstackPreambleTokens])
  recorder.record('preamble_chars', GSTACK_PREAMBLE_SERIES, 'chars', [gstackPreambleChars])
  recorder.record('first_invocation_tokens', GSTACK_FIRST, 'tokens', [
    gstackListingTokens + gstackPreambleTokens,
  ])
  recorder.record('first_invocation_tokens', `${DSTACK} always-loaded + median skill body`, 'tokens', [
    alwaysTokens + median(skillBodies),
  ])

  const ratios: Record<string, number> = {}
  const put = (name: string, value: number) => {
    if (Number.isFinite(value)) ratios[name] = round(value)
  }
  for (const s of SUPERPOWERS_SKILL)
    put(`always_loaded.dstack_vs_${s.label.replace(/\W+/g, '_')}`, alwaysTokens / s.injectedTokens)
  put(
    'always_loaded.dstack_vs_gstack_listing_plus_preamble',
    alwaysTokens / (gstackListingTokens + gstackPreambleTokens),
  )
  put('listing.dstack_vs_gstack_listing', listingTokens / gstackListingTokens)
  put(
    'per_invocation.gstack_preamble_vs_dstack_median_skill_body',
    gstackPreambleTokens / median(skillBodies),
  )
  put(
    'first_invocation.dstack_always_plus_median_body_vs_gstack_listing_plus_preamble',
    (alwaysTokens + median(skillBodies)) / (gstackListingTokens + gstackPreambleTokens),
  )
  put('listing.dstack_chars_vs_budget', listingChars / LISTING_BUDGET_CHARS)
  put('our_chars_per_token', charsPerToken)

  const counted = exactTokenizer ? 'counted' : 'chars/4'
  const sp = (s: (typeof SUPERPOWERS_SKILL)[number]) => `${s.repo} ${s.path} @${s.commit.slice(0, 7)} + hook`
  const rows: Row[] = [
    {
      what: `dstack skill listing (${listed.length} entries)`,
      chars: listingChars,
      tokens: listingTokens,
      how: counted,
      paid: 'every session',
      source: 'skills/ (this checkout)',
    },
    {
      what: 'dstack SessionStart digest (seeded brain)',
      chars: digest.text.length,
      tokens: digestTokens,
      how: counted,
      paid: 'every session',
      source: 'dstack hook SessionStart, this run',
    },
    {
      what: 'dstack always-loaded (listing + digest)',
      chars: alwaysChars,
      tokens: alwaysTokens,
      how: counted,
      paid: 'every session',
      source: '',
    },
    {
      what: 'dstack skill body, median of skills',
      chars: median(entries.filter((e) => e.kind === 'skill' && e.listed).map((e) => e.bodyChars)),
      tokens: median(skillBodies),
      how: counted,
      paid: 'per invocation',
      source: 'skills/*/SKILL.md',
    },
    ...SUPERPOWERS_SKILL.map((s) => ({
      what: `superpowers SessionStart injection (${s.label.split(' ')[1]})`,
      chars: s.injectedChars,
      tokens: s.injectedTokens,
      how: 'counted once (o200k)',
      paid: 'every session',
      source: sp(s),
    })),
    {
      what: `gstack listing (${GSTACK_SKILL_COUNT.skills} skills × mean of ${GSTACK_LISTING_SAMPLE.length} sampled)`,
      chars: gstackListingChars,
      tokens: gstackListingTokens,
      how: 'estimate (sampled)',
      paid: 'every session',
      source: `${GSTACK_SKILL_COUNT.path} @${GSTACK_SKILL_COUNT.commit.slice(0, 7)}; review,ship,qa @${GSTACK_PREAMBLE.commit.slice(0, 7)}`,
    },
    {
      what: 'gstack shared preamble (tier 4)',
      chars: gstackPreambleChars,
      tokens: gstackPreambleTokens,
      how: `estimate (our ${formatNumber(charsPerToken)} chars/token)`,
      paid: 'per invocation',
      source: `${GSTACK_PREAMBLE.repo} ${GSTACK_PREAMBLE.path} @${GSTACK_PREAMBLE.commit.slice(0, 7)}`,
    },
    {
      what: 'gstack listing + 1 preamble',
      chars: gstackListingChars + gstackPreambleChars,
      tokens: gstackListingTokens + gstackPreambleTokens,
      how: 'estimate',
      paid: 'first invocation',
      source: '',
    },
  ]

  const ratioRows = [
    ...SUPERPOWERS_SKILL.map((s) => [
      `dstack always-loaded ÷ superpowers per-session injection (${s.label.split(' ')[1]})`,
      ratioText(alwaysTokens / s.injectedTokens),
    ]),
    [
      'dstack always-loaded ÷ gstack listing + 1 preamble',
      ratioText(alwaysTokens / (gstackListingTokens + gstackPreambleTokens)),
    ],
    ['dstack listing ÷ gstack listing (estimate)', ratioText(listingTokens / gstackListingTokens)],
    [
      'gstack preamble ÷ dstack median skill body (per invocation)',
      ratioText(gstackPreambleTokens / median(skillBodies)),
    ],
    [
      'dstack always-loaded + median body ÷ gstack listing + preamble (first skill run)',
      ratioText((alwaysTokens + median(skillBodies)) / (gstackListingTokens + gstackPreambleTokens)),
    ],
  ]

  console.log(bundleTable(entries))
  console.log('')
  console.log(comparisonTable(rows))
  console.log('')
  console.log(renderTable(['ratio (tokens)', 'value'], ratioRows))
  console.log(
    `\nTokens: ${tokenizer}. Our text this run: ${n(ourChars)} characters = ${n(ourTokens)} tokens ` +
      `(${formatNumber(charsPerToken)} chars/token), the ratio the peer estimates use. The listing is ` +
      `${n(listingChars)} of the ${n(LISTING_BUDGET_CHARS)}-character budget (LISTING_BUDGET_CHARS); the text counted ` +
      `per entry is listingCost's \`name: description\` (Claude Code may prefix plugin skills with "dstack:"). ` +
      `Digest: ${TEAMMATES.length} teammates (intent, edits, live presence), ${HANDOFFS.length} handoffs (one to ` +
      `this agent), ${DECISIONS.length} decisions, ${MEMORIES.length} memories, seeded through the CLI in ` +
      `${formatNumber(digest.seedSeconds)} s; the hook took ${formatNumber(digest.hookMs)} ms. superpowers: the ` +
      `hook (${SUPERPOWERS_HOOK.repo} ${SUPERPOWERS_HOOK.path} @${SUPERPOWERS_HOOK.commit.slice(0, 7)}, ` +
      `${n(SUPERPOWERS_HOOK.fileChars)} chars) injects the SKILL.md in a ${SUPERPOWERS_HOOK.wrapperChars}-character ` +
      `wrapper at SessionStart; its own skill listing is not measured here. gstack: the preamble is ` +
      `characters ${n(GSTACK_PREAMBLE.start)}-${n(GSTACK_PREAMBLE.end)} of ${GSTACK_PREAMBLE.path} ` +
      `(${n(GSTACK_PREAMBLE.fileChars)} chars, preamble-tier 4; lower tiers carry less), paid again by every skill ` +
      `invocation; at gstack's own sampled ratio (${n(GSTACK_PREAMBLE.sampleTokens)} tokens counted in its last ` +
      `${n(GSTACK_PREAMBLE.sampleChars)} chars) it would be ${n(gstackPreambleTokensBySample)} tokens. Its listing ` +
      `is ${GSTACK_SKILL_COUNT.skills} skills (${GSTACK_SKILL_COUNT.path}) × the mean of ${GSTACK_LISTING_SAMPLE.length} ` +
      `counted descriptions (${GSTACK_LISTING_SAMPLE.map((s) => `${s.name} ${s.tokens}`).join(', ')} tokens): an ` +
      `estimate, ${n(gstackListingChars)} characters, which Claude Code's listing budget would truncate. The code ` +
      `index files forks' commits under both peers' names: the commits are fixed, not verified as upstream HEAD.`,
  )
  console.log('\ndigest:')
  console.log(digest.text)
  for (const warning of warnings) console.log(`WARNING: ${warning}`)

  const file = writeResults('skill-tokens', startedAt, recorder.results, ratios, {
    tokenizer,
    charsPerToken: round(charsPerToken),
    listing: {
      budgetChars: LISTING_BUDGET_CHARS,
      entries: entries.map((e) => ({ ...e })),
    },
    digest: {
      chars: digest.text.length,
      tokens: digestTokens,
      hookMs: round(digest.hookMs, 1),
      seedSeconds: round(digest.seedSeconds, 1),
      seeded: {
        teammates: TEAMMATES.map((t) => ({ agent: t.agent, title: t.title, files: t.edits.map(([f]) => f) })),
        handoffs: HANDOFFS.length,
        decisions: DECISIONS.length,
        memories: MEMORIES.length,
      },
      text: digest.text,
    },
    peers: {
      note:
        'Measured once through the code index (find_files/read_file) at the commits named; "tokens" were counted ' +
        'with o200k_base on the exact text, "estimate" values are computed from characters in this run. The index ' +
        "files forks' commits under the upstream names, so the commits are not verified as upstream HEAD.",
      superpowers: {
        hook: SUPERPOWERS_HOOK,
        skill: SUPERPOWERS_SKILL,
        listing: 'not measured',
      },
      gstack: {
        preamble: {
          ...GSTACK_PREAMBLE,
          chars: gstackPreambleChars,
          tokensEstimate: gstackPreambleTokens,
          tokensEstimateBySample: gstackPreambleTokensBySample,
        },
        skillCount: GSTACK_SKILL_COUNT,
        listingSample: GSTACK_LISTING_SAMPLE,
        listingEstimate: { chars: gstackListingChars, tokens: gstackListingTokens },
      },
    },
    warnings,
    totalSeconds: round((performance.now() - started) / 1000, 1),
  })
  console.log(`\nresults: ${file} (${((performance.now() - started) / 1000).toFixed(0)} s)`)
}

await main()

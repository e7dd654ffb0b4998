import { sql } from 'kysely'
import { type Handoff, listHandoffs } from './handoffs.ts'
import { currentIntent, type Intent } from './intents.ts'
import { type LivePresence, livePresence } from './presence.ts'
import { expireStalePresence } from './registry.ts'
import type { Db, ResolvedScope } from './scope.ts'

export interface TeamDigest {
  repo: string
  branch: string | null
  agentId: string
  generatedAt: Date
  myIntent: Intent | null
  /** Other live sessions in this repository. */
  presence: LivePresence[]
  /** Other agents' active or paused intents in this repository. */
  intents: Array<{
    id: string
    agent_id: string
    title: string
    status: string
    branch_name: string | null
    updated_at: Date
    files: string[]
  }>
  handoffs: Handoff[]
  decisions: Array<{ number: number; title: string; status: string; updated_at: Date }>
}

/**
 * The team digest for the current repository (what SessionStart shows and `dstack sync` prints): who is live,
 * what the others are doing and which files they touch, handoffs for me, the latest decisions. Sweeps stale
 * presence first.
 *
 * @example
 * const digest = await teamDigest(brain.db, scope)
 * console.log(renderDigest(digest))
 */
export async function teamDigest(
  db: Db,
  scope: ResolvedScope,
  options: { decisions?: number; intents?: number } = {},
): Promise<TeamDigest> {
  await expireStalePresence(db)
  const [myIntent, presence, intentRows, handoffs, decisions] = await Promise.all([
    currentIntent(db, scope),
    livePresence(db, scope),
    db
      .selectFrom('intents as i')
      .leftJoin('branches as b', 'b.id', 'i.branch_id')
      .select(['i.id', 'i.agent_id', 'i.title', 'i.status', 'b.name as branch_name', 'i.updated_at'])
      .select((eb) =>
        eb
          .selectFrom('edits as e')
          .innerJoin('files as f', 'f.id', 'e.file_id')
          .select((e) =>
            e.fn
              .agg<string[]>('array_agg', [e.ref('f.path')])
              .distinct()
              .as('paths'),
          )
          .whereRef('e.intent_id', '=', 'i.id')
          .as('files'),
      )
      .where('i.repo_id', '=', scope.repoId)
      .where('i.agent_id', '<>', scope.agentId)
      // Paused work older than a week is history, not news.
      .where((eb) =>
        eb.or([
          eb('i.status', '=', 'active'),
          eb.and([
            eb('i.status', '=', 'paused'),
            eb('i.updated_at', '>', sql<Date>`now() - interval '7 days'`),
          ]),
        ]),
      )
      .orderBy('i.updated_at', 'desc')
      .limit(options.intents ?? 20)
      .execute(),
    listHandoffs(db, scope, { limit: 10 }),
    db
      .selectFrom('decisions')
      .select(['number', 'title', 'status', 'updated_at'])
      .where('repo_id', '=', scope.repoId)
      .orderBy('updated_at', 'desc')
      .limit(options.decisions ?? 5)
      .execute(),
  ])
  return {
    repo: scope.repo,
    branch: scope.branch,
    agentId: scope.agentId,
    generatedAt: new Date(),
    myIntent,
    presence,
    intents: intentRows.map((row) => ({ ...row, files: (row.files ?? []).sort() })),
    handoffs,
    decisions,
  }
}

function ago(from: Date, now: Date): string {
  const s = Math.max(0, Math.round((now.getTime() - new Date(from).getTime()) / 1000))
  if (s < 60) return `${s}s ago`
  if (s < 3600) return `${Math.floor(s / 60)}m ago`
  if (s < 86_400) return `${Math.floor(s / 3600)}h ago`
  return `${Math.floor(s / 86_400)}d ago`
}

function fileList(files: string[], max: number): string {
  if (files.length === 0) return ''
  const shown = files.slice(0, max).join(', ')
  return files.length > max ? `${shown} (+${files.length - max} more)` : shown
}

/** About 4 characters per token: 6,000 characters is the ~1.5K-token default budget. */
export const DIGEST_DEFAULT_CHARS = 6_000
/** Claude Code's cap on SessionStart context. */
export const DIGEST_MAX_CHARS = 10_000

/**
 * The digest as plain facts for an agent's context (no imperatives: injected text that reads like commands trips
 * prompt-injection defences), within `maxChars` (default ~1.5K tokens, never above 10,000). Sections shrink from
 * the bottom when over budget; the text says so when something was left out.
 *
 * @example
 * const text = renderDigest(digest, { maxChars: 4000 })
 */
export function renderDigest(digest: TeamDigest, options: { maxChars?: number } = {}): string {
  const budget = Math.min(options.maxChars ?? DIGEST_DEFAULT_CHARS, DIGEST_MAX_CHARS)
  const now = digest.generatedAt
  const head = [
    `dstack team brain — ${digest.repo}${digest.branch ? ` (branch ${digest.branch})` : ''}, as ${digest.agentId}`,
    digest.myIntent
      ? `Your current intent: "${digest.myIntent.title}"${digest.myIntent.inferred ? ' (inferred from a prompt)' : ''}.`
      : 'You have no recorded intent in this repository.',
  ]
  const sections: Array<{ title: string; lines: string[] }> = [
    {
      title: 'Live now',
      lines: digest.presence.map(
        (p) =>
          `- ${p.agent_id} (${p.status}${p.branch_name ? `, ${p.branch_name}` : ''}, ${ago(p.last_heartbeat!, now)})` +
          `${p.intent_title ? `: "${p.intent_title}"` : ''}` +
          `${p.active_files && p.active_files.length > 0 ? ` — files: ${fileList(p.active_files, 5)}` : ''}`,
      ),
    },
    {
      title: "Teammates' active intents",
      lines: digest.intents.map(
        (i) =>
          `- ${i.agent_id}: "${i.title}" [${i.status}${i.branch_name ? `, ${i.branch_name}` : ''}, updated ${ago(i.updated_at, now)}]` +
          `${i.files.length > 0 ? ` — touching ${fileList(i.files, 8)}` : ''}`,
      ),
    },
    {
      title: 'Open handoffs for you',
      lines: digest.handoffs.map(
        (h) =>
          `- from ${h.from_agent} ${ago(h.created_at, now)}${h.branch_name ? ` on ${h.branch_name}` : ''}: ${h.note.slice(0, 300)}` +
          // An automatic handoff's next step quotes another agent's last message: not for this agent's context.
          `${h.next_step && !h.auto_generated ? ` Next: ${h.next_step.slice(0, 200)}` : ''}` +
          `${h.uncommitted_files.length > 0 ? ` Uncommitted: ${fileList(h.uncommitted_files, 5)}.` : ''} (id ${h.id})`,
      ),
    },
    {
      title: 'Recent decisions',
      lines: digest.decisions.map((d) => `- ADR-${d.number} [${d.status}] ${d.title}`),
    },
  ]
  const render = (counts: number[]) => {
    const parts = [...head]
    sections.forEach((section, index) => {
      const shown = counts[index]!
      if (section.lines.length === 0) return
      parts.push('', `${section.title}:`, ...section.lines.slice(0, shown).map((line) => line.slice(0, 600)))
      if (shown < section.lines.length) parts.push(`- … ${section.lines.length - shown} more not shown`)
    })
    if (sections.every((s) => s.lines.length === 0)) parts.push('', 'No other agents are active here.')
    return parts.join('\n')
  }
  const counts = sections.map((s) => s.lines.length)
  let text = render(counts)
  // Drop lines from the last non-empty section first, until it fits.
  while (text.length > budget && counts.some((c) => c > 0)) {
    const index = counts.findLastIndex((c) => c > 0)
    counts[index]!--
    text = render(counts)
  }
  return text.length > budget ? `${text.slice(0, budget - 1)}…` : text
}

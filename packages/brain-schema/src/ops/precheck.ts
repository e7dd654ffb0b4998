import { sql } from 'kysely'
import { z } from 'zod'
import { hunk, repoPath } from '../inputs.ts'
import { type Db, parseWith, type ResolvedScope } from './scope.ts'

/** One file of an outgoing push: the shape `@dstack/git`'s outgoingChanges returns. */
export const outgoingFileSchema = z.object({
  path: repoPath,
  oldPath: repoPath.nullish(),
  /** New-side line ranges. */
  added: z.array(hunk).default([]),
  /** Old-side line ranges (deletions included). */
  removed: z.array(hunk).default([]),
})

export type OutgoingFile = z.input<typeof outgoingFileSchema>

export interface Overlap {
  path: string
  agent_id: string
  session_id: string | null
  intent_id: string | null
  intent_title: string | null
  intent_status: string | null
  branch_name: string | null
  edit_count: number
  last_edit_at: Date
  /** Their edits are unpushed either way; 'active-intent' when the work is under an intent still in progress. */
  reason: 'active-intent' | 'unpushed'
  /** Their edited ranges that overlap ours (within `slack` lines); empty for a file-level-only overlap. */
  theirHunks: Array<[number, number]>
  ourHunks: Array<[number, number]>
  level: 'hunk' | 'file'
}

export interface PrecheckResult {
  files: number
  overlaps: Overlap[]
  hunkOverlaps: number
  fileOverlaps: number
}

/** Ranges of `a` within `slack` lines of some range of `b`, each range once, in line order. */
function touching(
  a: Array<[number, number]>,
  b: Array<[number, number]>,
  slack: number,
): Array<[number, number]> {
  const hits = a.filter(([start, end]) => b.some(([s, e]) => start <= e + slack && s <= end + slack))
  const unique = new Map(hits.map((range) => [`${range[0]}:${range[1]}`, range]))
  return [...unique.values()].sort((x, y) => x[0] - y[0] || x[1] - y[1])
}

/**
 * The conflict pre-check: which of the files (and line ranges) this push changes were also edited by other agents
 * whose work is not published yet — edits newer than that agent's last recorded push of the branch, and not under
 * a shipped or abandoned intent — within `windowDays`. File-level overlaps list who, when and under which intent; hunk-level
 * ones also say which lines. Line numbers come from different working copies, so a few lines of `slack` are allowed.
 *
 * @example
 * const { overlaps } = await conflictPrecheck(brain.db, scope, [{ path: 'src/auth/login.ts', added: [[10, 20]], removed: [] }])
 */
export async function conflictPrecheck(
  db: Db,
  scope: ResolvedScope,
  changes: OutgoingFile[],
  options: { windowDays?: number; slack?: number } = {},
): Promise<PrecheckResult> {
  const files = parseWith(z.array(outgoingFileSchema).max(100_000), 'outgoing changes', changes)
  const { windowDays, slack } = parseWith(
    z.strictObject({
      windowDays: z.number().min(0).max(3650).optional(),
      slack: z.number().int().min(0).max(1_000).optional(),
    }),
    'pre-check options',
    options,
  )
  if (files.length === 0) return { files: 0, overlaps: [], hunkOverlaps: 0, fileOverlaps: 0 }
  const byPath = new Map<string, { added: Array<[number, number]>; removed: Array<[number, number]> }>()
  for (const f of files) {
    byPath.set(f.path, { added: f.added, removed: f.removed })
    if (f.oldPath && f.oldPath !== f.path) byPath.set(f.oldPath, { added: [], removed: f.removed })
  }
  // The overlap's own columns, plus what the ranges and reason are computed from.
  const rows = await sql<
    Omit<Overlap, 'reason' | 'theirHunks' | 'ourHunks' | 'level'> & {
      active_intent: boolean
      hunks: Array<[number, number]>
    }
  >`
    with mine as (select unnest(${[...byPath.keys()]}::text[]) as path),
    theirs as (
      select f.path, e.id as edit_id, e.agent_id, e.session_id, e.intent_id, e.branch_id, e.created_at, e.hunks,
             i.title as intent_title, i.status as intent_status,
             coalesce(i.status in ('active', 'paused'), false) as active_intent
      from mine
      join dstack.files f on f.repo_id = ${scope.repoId} and f.path = mine.path
      join dstack.edits e on e.file_id = f.id
      left join dstack.intents i on i.id = e.intent_id
      where e.agent_id <> ${scope.agentId}
        and e.created_at > now() - make_interval(days => ${windowDays ?? 14})
    )
    select t.path, t.agent_id, t.session_id, t.intent_id, t.intent_title, t.intent_status, b.name as branch_name,
           count(distinct t.edit_id)::int as edit_count, max(t.created_at) as last_edit_at, bool_or(t.active_intent) as active_intent,
           coalesce(jsonb_agg(h.value) filter (where h.value is not null), '[]') as hunks
    from theirs t
    left join dstack.branches b on b.id = t.branch_id
    left join lateral jsonb_array_elements(t.hunks) h(value) on true
    -- Unpublished: not under a shipped or abandoned intent, and no push of that branch by that agent since.
    -- (Pushed edits are upstream: git makes the pusher integrate them first, whatever the intent's status.)
    where coalesce(t.intent_status not in ('shipped', 'abandoned'), true) and not exists (
      select 1 from dstack.pushes p
      where p.repo_id = ${scope.repoId} and p.agent_id = t.agent_id
        and p.branch_id is not distinct from t.branch_id and p.pushed_at >= t.created_at
    )
    group by t.path, t.agent_id, t.session_id, t.intent_id, t.intent_title, t.intent_status, b.name
    order by t.path, max(t.created_at) desc`.execute(db)

  const margin = slack ?? 3
  const overlaps: Overlap[] = rows.rows.map(({ active_intent, hunks, ...columns }) => {
    const ours = byPath.get(columns.path)!
    const ourRanges = [...ours.added, ...ours.removed]
    const theirHunks = touching(hunks, ourRanges, margin)
    const ourHunks = touching(ourRanges, hunks, margin)
    return {
      ...columns,
      reason: active_intent ? 'active-intent' : 'unpushed',
      theirHunks,
      ourHunks,
      level: theirHunks.length > 0 ? 'hunk' : 'file',
    }
  })
  return {
    files: files.length,
    overlaps,
    hunkOverlaps: overlaps.filter((o) => o.level === 'hunk').length,
    fileOverlaps: overlaps.filter((o) => o.level === 'file').length,
  }
}

// Element refs that cannot hit the wrong element. A ref (`e12`) names one DOM node for the tab's whole life: ids
// come from a per-tab counter that never resets, the page keeps node identity (see inpage.ts), and Node keeps which
// document each ref was issued in. Resolving checks all of it and refuses, fast, instead of guessing by role and
// name (the retargeting bug class of agent-browser#1443).
import { randomBytes } from 'node:crypto'
import type { ElementHandle, Frame, Page } from 'playwright-core'
import { CommandError } from '../errors.ts'
import { RefError } from './errors.ts'
import {
  type IdResult,
  type PageCall,
  pageMain,
  type ResolveFailure,
  type SnapshotResult,
  type TextResult,
} from './inpage.ts'

/** What a snapshot showed for a ref. */
export interface RefInfo {
  role: string
  name: string
  /** The URL of the frame the element is in, when the ref was last shown. */
  frameUrl: string
}

/** A ref's full record: what it showed, in which snapshot, and which document it belongs to. */
export interface RefRecord extends RefInfo {
  id: number
  /** The last snapshot that showed this ref. */
  generation: number
  /** The frame's document token when the ref was issued; a new document has a new token. */
  token: string
  frame: Frame
}

/** The previous snapshot, the base of `diff`. */
export interface SnapshotBaseline {
  generation: number
  /** Which view it was (interactive-only, scoped): a diff is only made against the same view. */
  view: string
  text: string
}

/**
 * Per-tab state kept in Node: the snapshot generation counter, the id counter (never reset, never reused), the last
 * snapshot (for diffs) and what each ref pointed at. One per Playwright page; it refuses to be used with another.
 *
 * @example
 * const refs = new TabRefs()
 * await takeSnapshot(page, refs, {})
 * refs.get('@e3') // { role: 'button', name: 'Submit', frameUrl: 'http://127.0.0.1:3000/', generation: 1 }
 */
export class TabRefs {
  /** Names the per-frame state inside the page (`Symbol.for(key)`), distinct for every TabRefs. */
  readonly key = `dstack.refs.${randomBytes(8).toString('hex')}`
  #generation = 0
  /** Shared by every tab of a session, so an id names one node in one tab: `@e1` of tab 0 is never a node of tab 1. */
  readonly #ids: { next: number }
  #baseline: SnapshotBaseline | null = null
  readonly #records = new Map<number, RefRecord>()
  #page: Page | null = null
  #queue: Promise<unknown> = Promise.resolve()

  /** `ids`: the counter to share with the session's other tabs; default one of its own. */
  constructor(ids: { next: number } = { next: 1 }) {
    this.#ids = ids
  }

  /** The number of the latest snapshot (0 before the first). */
  get generation(): number {
    return this.#generation
  }

  /** The next id the counter will hand out. */
  get nextId(): number {
    return this.#ids.next
  }

  /** The latest snapshot, or null before the first. */
  get baseline(): SnapshotBaseline | null {
    return this.#baseline
  }

  /** How many refs this tab has issued and still remembers. */
  get size(): number {
    return this.#records.size
  }

  /**
   * What `ref` (`@e3` or `e3`) showed when last in a snapshot, or undefined if it was never issued.
   *
   * @example
   * refs.get('e3')?.name // 'Submit'
   */
  get(ref: string): (RefInfo & { generation: number }) | undefined {
    const id = parseRef(ref)
    const record = id === null ? undefined : this.#records.get(id)
    if (!record) return undefined
    return { role: record.role, name: record.name, frameUrl: record.frameUrl, generation: record.generation }
  }

  /** @internal The full record for an id. */
  record(id: number): RefRecord | undefined {
    return this.#records.get(id)
  }

  /** @internal Remembers (or refreshes) what a snapshot showed for a ref. */
  remember(record: RefRecord): void {
    this.#records.set(record.id, record)
  }

  /** @internal Starts a new snapshot and returns its generation. */
  nextGeneration(): number {
    this.#generation += 1
    return this.#generation
  }

  /** @internal Records the id counter after a page call handed out ids. */
  advance(nextId: number): void {
    if (nextId > this.#ids.next) this.#ids.next = nextId
  }

  /** @internal Stores the latest snapshot as the next diff's base. */
  setBaseline(baseline: SnapshotBaseline): void {
    this.#baseline = baseline
  }

  /**
   * @internal Runs `work` for `page` after any earlier work on this tab finished: page calls hand out ids from the
   * shared counter, so two at once could hand out the same id.
   */
  exclusive<T>(page: Page, work: () => Promise<T>): Promise<T> {
    this.bind(page)
    const run = this.#queue.then(work, work)
    this.#queue = run.catch(() => undefined)
    return run
  }

  /** @internal Ties this state to one page: refs from one tab must never be resolved in another. */
  bind(page: Page): void {
    if (this.#page === null) this.#page = page
    else if (this.#page !== page)
      throw new CommandError(
        'wrong-tab',
        'These refs belong to another tab; refs are never resolved across tabs.',
        'Keep one TabRefs per page.',
      )
  }
}

const REF = /^@?e(\d{1,9})$/

/**
 * The id in a ref (`@e12` or `e12`), or null if `text` is not a ref.
 *
 * @example
 * parseRef('@e12') // 12
 * parseRef('#submit') // null
 */
export function parseRef(text: string): number | null {
  const m = REF.exec(text.trim())
  return m ? Number(m[1]) : null
}

/**
 * Tokens for a text, estimated at 2.6 characters a token (a ceiling for outlines with o200k_base; model-independent).
 *
 * @example
 * estimateTokens('x'.repeat(260)) // 100
 */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN)
}

/**
 * Outlines are dense in quotes, brackets and short words: measured with o200k_base, 4 characters a token undercounts
 * them by up to 1.55× (bench/browser.bench.ts); 2.6 keeps a token budget a real ceiling.
 */
export const CHARS_PER_TOKEN = 2.6

type CallFields = 'key' | 'token' | 'nextId'
type PartialCall = PageCall extends infer C ? (C extends PageCall ? Omit<C, CallFields> : never) : never

function isGone(error: unknown): boolean {
  return /Execution context was destroyed|Frame was detached|Target (?:page, context or browser )?(?:has been )?closed/i.test(
    (error as Error)?.message ?? '',
  )
}

/**
 * @internal Runs one in-page operation in `frame` (or on `element`, for the `id` op) and moves the tab's id counter
 * on. A navigation in the middle becomes RefError('navigated').
 *
 * @example
 * const result = await callPage<TextResult>(refs, page.mainFrame(), { op: 'text', rootId: null })
 */
export async function callPage<R extends SnapshotResult | TextResult | IdResult>(
  refs: TabRefs,
  where: Frame | ElementHandle,
  call: PartialCall,
): Promise<R> {
  const full = {
    ...call,
    key: refs.key,
    token: randomBytes(8).toString('hex'),
    nextId: refs.nextId,
  } as PageCall
  try {
    const raw =
      'childFrames' in where ? await where.evaluate(pageMain, full) : await where.evaluate(pageMain, full)
    // The op decides the result's shape: snapshot and text send JSON text, the id op an object.
    const result = (typeof raw === 'string' ? JSON.parse(raw) : raw) as R
    refs.advance(result.nextId)
    return result
  } catch (error) {
    if (isGone(error))
      throw new RefError(
        'navigated',
        '',
        'The page navigated while it was being read.',
        'Wait for it to settle (wait --load) and try again.',
      )
    throw error
  }
}

function describeRef(ref: string, record: RefRecord): string {
  return `${ref} (${record.role}${record.name ? ` "${clip(record.name)}"` : ''})`
}

function clip(text: string, max = 60): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}

function navigatedError(ref: string, record: RefRecord): RefError {
  return new RefError(
    'navigated',
    ref,
    `${describeRef(ref, record)} came from snapshot ${record.generation} of ${record.frameUrl}, and that document is gone (the page navigated, reloaded or the frame closed).`,
    'Take a new snapshot and use its refs; refs never carry over to a new document.',
  )
}

/**
 * The element a ref names, checked before use. Fails fast with a RefError: `unknown` (never issued), `navigated`
 * (its document is gone), `stale` (removed, replaced or hidden now), `changed` (its role or name no longer match the
 * snapshot). Never falls back to finding a look-alike.
 *
 * @example
 * const button = await resolveRef(page, refs, '@e3')
 * await button.click()
 */
export async function resolveRef(page: Page, refs: TabRefs, ref: string): Promise<ElementHandle> {
  refs.bind(page)
  const id = parseRef(ref)
  const shown = ref.trim()
  if (id === null)
    throw new RefError(
      'unknown',
      shown,
      `"${shown}" is not a ref.`,
      'Refs look like @e12; take a snapshot to get them.',
    )
  const record = refs.record(id)
  if (!record)
    throw new RefError(
      'unknown',
      shown,
      `${shown} was never issued for this tab.`,
      'Take a snapshot and use a ref from it (refs belong to the tab they were shown in).',
    )
  if (page.isClosed() || record.frame.isDetached()) throw navigatedError(shown, record)
  const call = {
    op: 'resolve' as const,
    id,
    expectToken: record.token,
    role: record.role,
    name: record.name,
    key: refs.key,
    token: '',
    nextId: refs.nextId,
  }
  let handle: Awaited<ReturnType<Frame['evaluateHandle']>>
  try {
    handle = await record.frame.evaluateHandle(pageMain, call)
  } catch (error) {
    if (isGone(error)) throw navigatedError(shown, record)
    throw error
  }
  const element = handle.asElement()
  if (element) return element
  const failure = (await handle.jsonValue()) as ResolveFailure
  await handle.dispose()
  if (failure.status === 'navigated') throw navigatedError(shown, record)
  if (failure.status === 'stale')
    throw new RefError(
      'stale',
      shown,
      `${describeRef(shown, record)} from snapshot ${record.generation} is ${failure.reason}.`,
      'It is not retargeted to a look-alike: take a new snapshot and pick the element again.',
    )
  throw new RefError(
    'changed',
    shown,
    `${shown} was ${record.role} "${clip(record.name)}" in snapshot ${record.generation} but is now ${failure.role} "${clip(failure.name)}".`,
    'Refusing to act on a changed element: take a new snapshot and check it is the one you mean.',
  )
}

/** A resolved target: its handle, its frame and (for refs and scopes) its id. */
export interface ResolvedElement {
  handle: ElementHandle
  frame: Frame
  id: number
}

async function queryOne(frame: Frame, selector: string): Promise<ElementHandle> {
  let handles: ElementHandle[]
  try {
    handles = await frame.$$(selector)
  } catch (error) {
    if (isGone(error))
      throw new RefError(
        'navigated',
        selector,
        'The page navigated while looking up the selector.',
        'Try again.',
      )
    throw new RefError(
      'invalid',
      selector,
      `"${selector}" is not a valid selector (${((error as Error).message.split('\n')[0] ?? '').slice(0, 200)}).`,
      'Use a @ref from a snapshot or a valid CSS selector.',
    )
  }
  if (handles.length === 1) return handles[0]!
  const visible = (await Promise.all(handles.map((h) => h.isVisible()))).filter(Boolean).length
  await Promise.all(handles.map((h) => h.dispose()))
  if (handles.length === 0)
    throw new RefError(
      'unknown',
      selector,
      `"${selector}" matches no element in ${frame.url()}.`,
      'Take a snapshot and use a @ref, or check the selector.',
    )
  throw new RefError(
    'ambiguous',
    selector,
    `"${selector}" matches ${handles.length} elements (${visible} visible); acting on one of them would be a guess.`,
    'Use a @ref from a snapshot, or a selector that matches exactly one element.',
  )
}

/**
 * The element a target names: a ref (`@e3` or `e3`, checked as in `resolveRef`) or a CSS selector, which must match
 * exactly one element in `frame` (default: the main frame); none → RefError('unknown'), several →
 * RefError('ambiguous'), unparsable → RefError('invalid').
 *
 * @example
 * await (await resolveTarget(page, refs, '@e3')).click()
 * await (await resolveTarget(page, refs, 'form#login button[type=submit]')).click()
 */
export async function resolveTarget(
  page: Page,
  refs: TabRefs,
  target: string,
  frame?: Frame | null,
): Promise<ElementHandle> {
  const trimmed = target.trim()
  if (trimmed === '')
    throw new RefError('unknown', target, 'The target is empty.', 'Give a @ref or a CSS selector.')
  if (parseRef(trimmed) !== null || trimmed.startsWith('@')) return resolveRef(page, refs, trimmed)
  refs.bind(page)
  return queryOne(frame ?? page.mainFrame(), trimmed)
}

/**
 * @internal Resolves a target and gives it an id in its frame (scopes for snapshot and text). Call inside
 * `refs.exclusive`: it may hand out an id.
 *
 * @example
 * const { frame, id } = await refs.exclusive(page, () => resolveElement(page, refs, '#main', null))
 */
export async function resolveElement(
  page: Page,
  refs: TabRefs,
  target: string,
  frame: Frame | null,
): Promise<ResolvedElement> {
  const id = parseRef(target)
  if (id !== null || target.trim().startsWith('@')) {
    const handle = await resolveRef(page, refs, target)
    return { handle, frame: refs.record(id!)!.frame, id: id! }
  }
  const handle = await resolveTarget(page, refs, target, frame)
  const owner = (await handle.ownerFrame()) ?? frame ?? page.mainFrame()
  const result = await callPage<IdResult>(refs, handle, { op: 'id' })
  return { handle, frame: owner, id: result.id }
}

/**
 * @internal The child frames of `parent` whose <iframe> element is among `visibleIds` (visible and in scope), with
 * that element's id. Frames that cannot be matched (detached meanwhile) are skipped.
 *
 * @example
 * const shown = await visibleChildFrames(refs, page.mainFrame(), result.frames) // [{ frame, id: 7 }]
 */
export async function visibleChildFrames(
  refs: TabRefs,
  parent: Frame,
  visibleIds: readonly number[],
): Promise<{ frame: Frame; id: number }[]> {
  const out: { frame: Frame; id: number }[] = []
  if (visibleIds.length === 0) return out
  for (const child of parent.childFrames()) {
    if (child.isDetached()) continue
    let element: ElementHandle | null = null
    try {
      element = await child.frameElement()
      const { id } = await callPage<IdResult>(refs, element, { op: 'id' })
      if (visibleIds.includes(id)) out.push({ frame: child, id })
    } catch (error) {
      if (!isGone(error) && !(error instanceof RefError)) throw error
    } finally {
      await element?.dispose().catch(() => undefined)
    }
  }
  return out
}

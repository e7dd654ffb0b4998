// Refs against real Chromium: a ref names one DOM node for the tab's life and is refused, never retargeted, once
// that node is gone, hidden, changed or in a document that no longer exists.
import type { BrowserContext, Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { RefError } from '../../src/page/errors.ts'
import { resolveRef, resolveTarget, type Snapshot, TabRefs, takeSnapshot } from '../../src/page/snapshot.ts'
import {
  CROSS_INNER_PAGE,
  callHelper,
  FRAMES_PAGE,
  HIDDEN_INNER_PAGE,
  INNER_PAGE,
  LIST_PAGE,
  type PageServer,
  pageLog,
  SPA_PAGE,
  usePages,
} from '../support/pages.ts'

let server: PageServer
let context: BrowserContext
let page: Page
let refs: TabRefs

usePages(
  {
    '/list': LIST_PAGE,
    '/spa': SPA_PAGE,
    '/frames': FRAMES_PAGE,
    '/inner': INNER_PAGE,
    '/cross-inner': CROSS_INNER_PAGE,
    '/hidden-inner': HIDDEN_INNER_PAGE,
  },
  (f) => {
    ;({ server, context, page, refs } = f)
  },
)

/** The ref a snapshot gave the element with this role and name (exactly one must exist). */
function refOf(snap: Snapshot, role: string, name: string): string {
  const found = Object.entries(snap.refs).filter(([, info]) => info.role === role && info.name === name)
  expect(found, `${role} "${name}" in\n${snap.text}`).toHaveLength(1)
  return found[0]![0]
}

async function refError(promise: Promise<unknown>): Promise<RefError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(RefError)
  return error as RefError
}

const idOf = (ref: string) => Number(ref.replace(/^@?e/, ''))

describe('refs survive re-rendering without retargeting', () => {
  it('after a row is inserted before and Beta removed: Beta is stale, Gamma still clicks Gamma, the new row gets a new id', async () => {
    await page.goto(server.url('/list'))
    const first = await takeSnapshot(page, refs)
    const alpha = refOf(first, 'button', 'Alpha')
    const beta = refOf(first, 'button', 'Beta')
    const gamma = refOf(first, 'button', 'Gamma')

    await callHelper(page, 'insertAndRemove')

    const stale = await refError(resolveRef(page, refs, beta))
    expect(stale.code).toBe('stale')
    expect(stale.message).toContain('button "Beta"')
    expect(stale.message).toContain('removed from the page')
    expect(stale.message).toMatch(/new snapshot/)

    const gammaNow = await resolveRef(page, refs, `@${gamma}`)
    await gammaNow.click()
    expect(await pageLog(page)).toEqual(['Gamma'])

    const second = await takeSnapshot(page, refs)
    const inserted = refOf(second, 'button', 'New')
    expect(inserted).not.toBe(beta)
    const issuedBefore = Object.keys(first.refs).map(idOf)
    expect(idOf(inserted)).toBeGreaterThan(Math.max(...issuedBefore))
    // The nodes that stayed keep their refs.
    expect(refOf(second, 'button', 'Alpha')).toBe(alpha)
    expect(refOf(second, 'button', 'Gamma')).toBe(gamma)
    expect(second.text).not.toContain(`[ref=${beta}]`)
    // Beta's old ref stays refused after the new snapshot too: ids are never handed out again.
    expect((await refError(resolveRef(page, refs, beta))).code).toBe('stale')
  })

  it('a node replaced by a look-alike (same role and name) leaves the old ref stale, not pointing at the copy', async () => {
    await page.goto(server.url('/list'))
    const gamma = refOf(await takeSnapshot(page, refs), 'button', 'Gamma')
    await callHelper(page, 'replaceGamma')

    const error = await refError(resolveTarget(page, refs, gamma))
    expect(error.code).toBe('stale')
    expect(error.message).toContain('removed from the page')
    expect(error.message).toMatch(/not retargeted/)
    expect(await pageLog(page)).toEqual([])

    const again = await takeSnapshot(page, refs)
    expect(refOf(again, 'button', 'Gamma')).not.toBe(gamma)
  })

  it('a node whose name changed is refused as changed, naming both', async () => {
    await page.goto(server.url('/list'))
    const alpha = refOf(await takeSnapshot(page, refs), 'button', 'Alpha')
    await callHelper(page, 'renameAlpha')
    const error = await refError(resolveRef(page, refs, alpha))
    expect(error.code).toBe('changed')
    expect(error.message).toContain('button "Alpha"')
    expect(error.message).toContain('button "Delete everything"')
  })

  it('a node that is hidden now is stale, with the reason', async () => {
    await page.goto(server.url('/list'))
    const alpha = refOf(await takeSnapshot(page, refs), 'button', 'Alpha')
    await callHelper(page, 'hideAlpha')
    const error = await refError(resolveRef(page, refs, alpha))
    expect(error.code).toBe('stale')
    expect(error.message).toContain('display:none')
  })

  it('a ref never issued is unknown, and so is one from another tab', async () => {
    await page.goto(server.url('/list'))
    await takeSnapshot(page, refs)
    expect((await refError(resolveRef(page, refs, '@e999'))).code).toBe('unknown')
    expect((await refError(resolveRef(page, refs, '@nope'))).code).toBe('unknown')

    const other = await context.newPage()
    await other.goto(server.url('/list'))
    const otherRefs = new TabRefs()
    expect((await refError(resolveRef(other, otherRefs, 'e3'))).code).toBe('unknown')
    expect(() => otherRefs.bind(page)).toThrow(/another tab/)
  })
})

describe('navigation', () => {
  it('a pushState route change keeps refs to nodes that stayed; the re-rendered ones are stale', async () => {
    await page.goto(server.url('/spa'))
    const snap = await takeSnapshot(page, refs)
    const settings = refOf(snap, 'button', 'Settings')
    const home = refOf(snap, 'button', 'Home')
    const refresh = refOf(snap, 'button', 'Refresh')

    await (await resolveRef(page, refs, settings)).click()
    expect(page.url()).toBe(server.url('/spa/settings'))

    await (await resolveRef(page, refs, home)).click()
    expect(await pageLog(page)).toEqual(['home'])
    expect((await refError(resolveRef(page, refs, refresh))).code).toBe('stale')

    const after = await takeSnapshot(page, refs)
    expect(refOf(after, 'button', 'Home')).toBe(home)
    expect(after.text).toContain('button "Save"')
  })

  it('a full navigation or a reload makes earlier refs navigated, naming the snapshot they came from', async () => {
    await page.goto(server.url('/list'))
    const snap = await takeSnapshot(page, refs)
    const alpha = refOf(snap, 'button', 'Alpha')

    await page.goto(server.url('/spa'))
    const error = await refError(resolveRef(page, refs, alpha))
    expect(error.code).toBe('navigated')
    expect(error.message).toContain(`snapshot ${snap.generation}`)
    expect(error.message).toMatch(/new snapshot/)

    // Even the same URL again is a new document: the same-looking button is not the old node.
    await page.goto(server.url('/list'))
    expect((await refError(resolveRef(page, refs, alpha))).code).toBe('navigated')
    const fresh = await takeSnapshot(page, refs)
    expect(idOf(refOf(fresh, 'button', 'Alpha'))).toBeGreaterThan(
      Math.max(...Object.keys(snap.refs).map(idOf)),
    )

    await page.reload()
    expect((await refError(resolveRef(page, refs, refOf(fresh, 'button', 'Alpha')))).code).toBe('navigated')
  })
})

describe('frames', () => {
  it('refs inside a same-origin and a cross-origin iframe resolve and click inside their frame', async () => {
    await page.goto(server.url('/frames'))
    const snap = await takeSnapshot(page, refs)
    const inside = refOf(snap, 'button', 'Inside')
    const across = refOf(snap, 'button', 'Across')
    expect(snap.refs[inside]!.frameUrl).toBe(server.url('/inner'))
    expect(snap.text).toMatch(new RegExp(`\\[frame @e\\d+\\] ${server.url('/inner').replace(/[.]/g, '\\.')}`))
    expect(snap.text).toContain(`[frame @e`)
    // The hidden iframe's content is left out.
    expect(snap.text).not.toContain('HIDDEN-FRAME-BUTTON')
    expect(snap.stats.hidden).toBeGreaterThanOrEqual(1)

    await (await resolveRef(page, refs, inside)).click()
    await (await resolveRef(page, refs, across)).click()
    const inner = page.frames().find((f) => f.url() === server.url('/inner'))!
    const cross = page.frames().find((f) => f.url() === server.otherOrigin('/cross-inner'))!
    expect(await pageLog(inner)).toEqual(['Inside'])
    expect(await pageLog(cross)).toEqual(['Across'])
    expect(await pageLog(page)).toEqual([])
  })

  it('a ref into a frame that navigated is navigated, while refs in the parent still work', async () => {
    await page.goto(server.url('/frames'))
    const snap = await takeSnapshot(page, refs)
    const inside = refOf(snap, 'button', 'Inside')
    const outer = refOf(snap, 'button', 'Outer button')
    const inner = page.frames().find((f) => f.url() === server.url('/inner'))!
    await inner.goto(server.url('/cross-inner'))
    expect((await refError(resolveRef(page, refs, inside))).code).toBe('navigated')
    await (await resolveRef(page, refs, outer)).click()
    expect(await pageLog(page)).toEqual(['outer'])
  })
})

describe('CSS targets', () => {
  it('must match exactly one element: none is unknown, several is ambiguous with the count, bad syntax is invalid', async () => {
    await page.goto(server.url('/list'))
    const ambiguous = await refError(resolveTarget(page, refs, 'li button'))
    expect(ambiguous.code).toBe('ambiguous')
    expect(ambiguous.message).toContain('matches 3 elements')
    expect((await refError(resolveTarget(page, refs, 'button.missing'))).code).toBe('unknown')
    expect((await refError(resolveTarget(page, refs, 'li[[['))).code).toBe('invalid')

    await (await resolveTarget(page, refs, 'li:nth-child(2) button')).click()
    expect(await pageLog(page)).toEqual(['Beta'])
  })
})

// Snapshots against real Chromium: the outline's lines, interactive-only, scoping, the token budget and diffs.
import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { PageOptionsError, RefError } from '../../src/page/errors.ts'
import {
  resolveRef,
  type Snapshot,
  type TabRefs,
  takeSnapshot,
  unifiedDiff,
} from '../../src/page/snapshot.ts'
import {
  BIG_PAGE,
  callHelper,
  FORM_PAGE,
  LIST_PAGE,
  type PageServer,
  pageLog,
  usePages,
} from '../support/pages.ts'

let server: PageServer
let page: Page
let refs: TabRefs

usePages({ '/form': FORM_PAGE, '/list': LIST_PAGE, '/big': BIG_PAGE }, (f) => {
  ;({ server, page, refs } = f)
})

/** The snapshot line for the element with this role and name, with its ref replaced by `[ref=*]`. */
function lineOf(snap: Snapshot, role: string, name: string): string {
  const entry = Object.entries(snap.refs).find(([, info]) => info.role === role && info.name === name)
  expect(entry, `${role} "${name}" in\n${snap.text}`).toBeDefined()
  const line = snap.text.split('\n').find((l) => l.includes(`[ref=${entry![0]}]`))!
  return line.trim().replace(/\[ref=e\d+\]/, '[ref=*]')
}

describe('takeSnapshot on a form', () => {
  it('shows roles, names, values and states, masks the password, and gives every control a ref', async () => {
    await page.goto(server.url('/form'))
    const snap = await takeSnapshot(page, refs)
    expect(snap.generation).toBe(1)
    expect(snap.text.split('\n')[0]).toBe(`[frame main] ${server.url('/form')}`)
    expect(lineOf(snap, 'heading', 'Sign in')).toBe('- heading "Sign in" [level=1] [ref=*]')
    expect(lineOf(snap, 'textbox', 'Email')).toBe('- textbox "Email" [ref=*]: ada@example.com')
    expect(lineOf(snap, 'textbox', 'Password')).toBe('- textbox "Password" [ref=*]: ••••')
    expect(snap.text).not.toContain('hunter22')
    expect(lineOf(snap, 'searchbox', 'Search docs')).toBe('- searchbox "Search docs" [ref=*]')
    expect(lineOf(snap, 'checkbox', 'Remember me')).toBe('- checkbox "Remember me" [checked] [ref=*]')
    expect(lineOf(snap, 'combobox', 'Country')).toBe('- combobox "Country" [ref=*]: Sweden')
    expect(snap.text).toContain('- option "Sweden" [selected]')
    expect(lineOf(snap, 'textbox', 'Bio')).toBe('- textbox "Bio" [ref=*]: Hi there')
    expect(lineOf(snap, 'button', 'Sign in')).toBe('- button "Sign in" [ref=*]')
    expect(lineOf(snap, 'button', 'Help')).toBe('- button "Help" [disabled] [ref=*]')
    expect(lineOf(snap, 'link', 'Create an account')).toBe('- link "Create an account" [ref=*]')
    expect(lineOf(snap, 'generic', 'Open card')).toBe('- generic "Open card" [clickable] [ref=*]')
    expect(snap.stats).toMatchObject({ interactive: 10, hidden: 0, flagged: 0, truncatedLines: 0 })
    expect(snap.stats.estTokens).toBe(Math.ceil(snap.text.length / 2.6))
    expect(snap.stats.lines).toBe(snap.text.split('\n').length)
    expect(snap.diffAgainst).toBeNull()
  })

  it('refs drive the form: fill the email, untick the checkbox, submit', async () => {
    await page.goto(server.url('/form'))
    const snap = await takeSnapshot(page, refs)
    const ref = (role: string, name: string) =>
      Object.entries(snap.refs).find(([, i]) => i.role === role && i.name === name)![0]
    await (await resolveRef(page, refs, ref('textbox', 'Email'))).fill('grace@example.com')
    await (await resolveRef(page, refs, ref('checkbox', 'Remember me'))).click()
    await (await resolveRef(page, refs, ref('button', 'Sign in'))).click()
    await (await resolveRef(page, refs, ref('generic', 'Open card'))).click()
    expect(await pageLog(page)).toEqual(['submit:grace@example.com', 'card'])
    const after = await takeSnapshot(page, refs)
    expect(lineOf(after, 'textbox', 'Email')).toBe('- textbox "Email" [ref=*]: grace@example.com')
    expect(lineOf(after, 'checkbox', 'Remember me')).toBe('- checkbox "Remember me" [ref=*]')
  })

  it('interactive: only controls and clickable elements, as a flat list', async () => {
    await page.goto(server.url('/form'))
    const snap = await takeSnapshot(page, refs, { interactive: true })
    const body = snap.text.split('\n').slice(1)
    expect(body).toHaveLength(10)
    for (const line of body)
      expect(line).toMatch(/^- (textbox|searchbox|checkbox|combobox|button|link|generic) /)
    expect(snap.text).not.toContain('heading')
    expect(snap.text).not.toContain('- text:')
    expect(snap.text).not.toContain('option')
    expect(snap.stats.interactive).toBe(10)
  })

  it('selector: only that part of the page, by CSS or by ref; a selector matching several elements is refused', async () => {
    await page.goto(server.url('/list'))
    const scoped = await takeSnapshot(page, refs, { selector: 'li:nth-child(2)' })
    const lines = scoped.text.split('\n').slice(1)
    expect(lines[0]).toMatch(/^- listitem \[ref=e\d+\]$/)
    expect(scoped.text).toContain('button "Beta"')
    expect(scoped.text).not.toContain('Alpha')
    expect(scoped.text).not.toContain('Gamma')

    const full = await takeSnapshot(page, refs)
    const listRef = Object.entries(full.refs).find(([, i]) => i.role === 'list')![0]
    const byRef = await takeSnapshot(page, refs, { selector: `@${listRef}` })
    expect(byRef.text).toContain('button "Alpha"')
    expect(byRef.text).not.toContain('heading "Items"')

    const error = await takeSnapshot(page, refs, { selector: 'li' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RefError)
    expect((error as RefError).code).toBe('ambiguous')
  })

  it('refuses bad options with a typed error', async () => {
    await page.goto(server.url('/list'))
    await expect(takeSnapshot(page, refs, { maxTokens: -5 })).rejects.toBeInstanceOf(PageOptionsError)
    await expect(
      takeSnapshot(page, refs, { interactive: 'yes' } as unknown as { interactive: boolean }),
    ).rejects.toThrow(/interactive/)
  })
})

describe('budget', () => {
  it('cuts a large snapshot to the budget and says how many lines were left out and how to narrow', async () => {
    await page.goto(server.url('/big'))
    const snap = await takeSnapshot(page, refs, { maxTokens: 1000 })
    expect(snap.stats.estTokens).toBeLessThanOrEqual(1000)
    expect(snap.stats.truncatedLines).toBeGreaterThan(1000)
    const last = snap.text.split('\n').at(-1)!
    expect(last).toContain(`${snap.stats.truncatedLines} more lines left out`)
    expect(last).toContain('--interactive')
    expect(last).toContain('--selector')
    // Only refs that are in the text come back.
    for (const ref of Object.keys(snap.refs)) expect(snap.text).toContain(`[ref=${ref}]`)

    const byDefault = await takeSnapshot(page, refs)
    expect(byDefault.stats.estTokens).toBeLessThanOrEqual(8000)
    expect(byDefault.stats.truncatedLines).toBeGreaterThan(0)
  })

  it('leaves a snapshot under the budget whole', async () => {
    await page.goto(server.url('/list'))
    const snap = await takeSnapshot(page, refs, { maxTokens: 100_000 })
    expect(snap.stats.truncatedLines).toBe(0)
    expect(snap.text).not.toContain('left out')
  })
})

describe('diff', () => {
  it('the first call gives the whole text; later ones a unified diff against the previous snapshot', async () => {
    await page.goto(server.url('/form'))
    const first = await takeSnapshot(page, refs, { diff: true })
    expect(first.diffAgainst).toBeNull()
    expect(first.text).toContain('heading "Sign in"')

    const same = await takeSnapshot(page, refs, { diff: true })
    expect(same.diffAgainst).toBe(1)
    expect(same.text).toBe('(no changes since snapshot 1)')

    await page.locator('input[type=checkbox]').click()
    await callHelper(page, 'addParagraph')
    const diff = await takeSnapshot(page, refs, { diff: true })
    expect(diff.diffAgainst).toBe(2)
    const lines = diff.text.split('\n')
    expect(lines.slice(0, 2)).toEqual(['--- snapshot 2', '+++ snapshot 3'])
    expect(lines.some((l) => /^- {2}- checkbox "Remember me" \[checked\] \[ref=e\d+\]$/.test(l))).toBe(true)
    expect(lines.some((l) => /^\+ {2}- checkbox "Remember me" \[ref=e\d+\]$/.test(l))).toBe(true)
    expect(lines.some((l) => /^\+- paragraph \[ref=e\d+\]: Added later$/.test(l))).toBe(true)
    expect(diff.text).not.toContain('heading "Sign in"')
    // The refs of the lines shown come back, and the whole snapshot's refs stay usable.
    const added = Object.entries(diff.refs).find(([, i]) => i.role === 'paragraph')
    expect(added).toBeDefined()
    const email = Object.entries(first.refs).find(([, i]) => i.name === 'Email')![0]
    await (await resolveRef(page, refs, email)).fill('x@y.z')
  })

  it('a page that re-rendered everything gets the whole snapshot, not a diff larger than it', async () => {
    await page.goto(server.url('/list'))
    await takeSnapshot(page, refs, { diff: true })
    // Every node replaced by a look-alike: every line changes ref, so a diff would list each line twice.
    await page.evaluate('document.body.innerHTML = document.body.innerHTML')
    const after = await takeSnapshot(page, refs, { diff: true })
    expect(after.diffAgainst).toBeNull()
    expect(after.text.startsWith('[frame main]')).toBe(true)
  })

  it('a different view (interactive vs full) is not diffed against', async () => {
    await page.goto(server.url('/form'))
    await takeSnapshot(page, refs)
    const other = await takeSnapshot(page, refs, { interactive: true, diff: true })
    expect(other.diffAgainst).toBeNull()
    expect(other.text.startsWith('[frame main]')).toBe(true)
  })
})

describe('unifiedDiff', () => {
  it('makes hunks with two lines of context and correct ranges', () => {
    const before = Array.from({ length: 20 }, (_, i) => `line ${i}`)
    const after = [...before]
    after[3] = 'changed 3'
    after.splice(15, 1)
    expect(unifiedDiff(before.join('\n'), after.join('\n'), 'a', 'b')).toEqual([
      '--- a',
      '+++ b',
      '@@ -2,5 +2,5 @@',
      ' line 1',
      ' line 2',
      '-line 3',
      '+changed 3',
      ' line 4',
      ' line 5',
      '@@ -14,5 +14,4 @@',
      ' line 13',
      ' line 14',
      '-line 15',
      ' line 16',
      ' line 17',
    ])
    expect(unifiedDiff('a\nb', 'a\nb', 'x', 'y')).toEqual([])
  })
})

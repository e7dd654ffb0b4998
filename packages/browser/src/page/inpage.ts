// The code that runs INSIDE a page (one frame at a time), passed to Playwright's evaluate. Playwright sends the
// function's source text, so `pageMain` must be self-contained: no imports, no helpers from outside its body.
//
// The package compiles without the DOM lib (it would change Node's timer types for the whole package), so the few
// DOM shapes used here are declared below; they are erased at run time.
//
// Node identity lives here: a per-frame state object on a non-enumerable, Symbol-keyed property of `window` maps
// element → id (WeakMap) and id → WeakRef(element). Ids come from the tab-wide counter the caller passes in and are
// never reused, so an id names one DOM node for the tab's whole life. This is not a boundary against the page's own
// scripts (they can find the symbol and could tamper with their own DOM anyway); it is what stops a remembered ref
// from silently pointing at a different node after the page re-renders.

interface DomRect {
  left: number
  top: number
  right: number
  bottom: number
  width: number
  height: number
}

interface DomStyle {
  display: string
  visibility: string
  opacity: string
  fontSize: string
  clip: string
  clipPath: string
  position: string
  color: string
  backgroundColor: string
  backgroundImage: string
  cursor: string
  overflow: string
  textIndent: string
  getPropertyValue(name: string): string
}

interface DomNode {
  nodeType: number
  nodeValue: string | null
  textContent: string | null
  childNodes: ArrayLike<DomNode>
  parentNode: DomNode | null
  isConnected: boolean
}

interface DomRoot extends DomNode {
  getElementById?(id: string): DomElement | null
  host?: DomElement
}

interface DomElement extends DomNode {
  localName: string
  id: string
  parentElement: DomElement | null
  shadowRoot: DomRoot | null
  assignedSlot: DomElement | null
  isContentEditable: boolean
  ownerDocument: DomDocument
  getAttribute(name: string): string | null
  hasAttribute(name: string): boolean
  getBoundingClientRect(): DomRect
  getRootNode(): DomRoot
  checkVisibility?(): boolean
  matches(selector: string): boolean
  closest(selector: string): DomElement | null
  querySelector(selector: string): DomElement | null
  contains(other: DomNode): boolean
  // Form controls, slots and selects; present only on those elements.
  assignedNodes?(options: { flatten: boolean }): DomNode[]
  labels?: ArrayLike<DomElement> | null
  value?: string
  checked?: boolean
  indeterminate?: boolean
  disabled?: boolean
  selected?: boolean
  multiple?: boolean
  size?: number
  selectedOptions?: ArrayLike<DomElement>
  options?: ArrayLike<DomElement>
  label?: string
}

interface DomDocument extends DomRoot {
  body: DomElement | null
  documentElement: DomElement
  URL: string
}

interface DomWindow {
  document: DomDocument
  innerWidth: number
  innerHeight: number
  scrollX: number
  scrollY: number
  getComputedStyle(element: DomElement): DomStyle
}

/** What a frame keeps between calls. */
interface PageState {
  token: string
  ids: WeakMap<DomElement, number>
  nodes: Map<number, WeakRef<DomElement>>
}

/** Fields every call carries: where the state lives and what to use if it has to be created. */
interface CallBase {
  /** `Symbol.for(key)` names the state property; one key per TabRefs. */
  key: string
  /** The document token to use if this frame has no state yet (a new document). */
  token: string
  /** The next id the tab's counter would hand out. */
  nextId: number
}

export interface SnapshotCall extends CallBase {
  op: 'snapshot'
  /** Walk only this element's subtree (an id this frame issued), or the whole body. */
  rootId: number | null
  interactive: boolean
}

export interface TextCall extends CallBase {
  op: 'text'
  rootId: number | null
}

export interface ResolveCall extends CallBase {
  op: 'resolve'
  id: number
  /** The token of the document the ref was issued in. */
  expectToken: string
  role: string
  name: string
}

export interface IdCall extends CallBase {
  op: 'id'
}

export type PageCall = SnapshotCall | TextCall | ResolveCall | IdCall

/** One line of a snapshot before formatting: an element, or loose text (role 'text'). */
export interface PageEntry {
  depth: number
  role: string
  name: string
  /** The element's id; null for text lines and native <option>s (they are chosen with `select`, not clicked). */
  id: number | null
  states: string[]
  /** A field's value, a select's choice or an element's inline text; null when there is none. */
  value: string | null
  interactive: boolean
}

export interface SnapshotResult {
  op: 'snapshot'
  token: string
  nextId: number
  url: string
  entries: PageEntry[]
  /** Hidden elements (with content) that were left out. */
  hidden: number
  /** Ids of the visible <iframe> elements walked: only their frames are included. */
  frames: number[]
  /** rootId was given but this document no longer holds it. */
  missingRoot: boolean
}

export interface TextResult {
  op: 'text'
  token: string
  nextId: number
  url: string
  text: string
  hidden: number
  frames: number[]
  missingRoot: boolean
}

export interface ResolveFailure {
  op: 'resolve'
  status: 'navigated' | 'stale' | 'changed'
  /** Why it is stale (detached, or the hiding reason), or the current role/name when changed. */
  reason: string
  role: string
  name: string
}

export interface IdResult {
  op: 'id'
  token: string
  nextId: number
  id: number
}

/**
 * Snapshot and text results come back as one JSON string: Playwright serialises a large object graph value by value,
 * several times slower than one string.
 */
export type PageResult = string | ResolveFailure | IdResult | DomElement

/**
 * The in-page entry point. Called as `frame.evaluate(pageMain, call)` (one argument) or
 * `handle.evaluate(pageMain, call)` (the element first): the `id` op then returns that element's id.
 *
 * @example
 * const result = await frame.evaluate(pageMain, { op: 'snapshot', key, token, nextId: 1, rootId: null, interactive: false })
 */
export function pageMain(first: DomElement | PageCall, second?: PageCall): PageResult {
  const target = second === undefined ? null : (first as DomElement)
  const call = second ?? (first as PageCall)
  const win = globalThis as unknown as DomWindow
  const doc = win.document
  const holder = globalThis as unknown as Record<symbol, PageState | undefined>
  const sym = Symbol.for(call.key)

  let nextId = call.nextId
  const existing = holder[sym]
  let state: PageState
  if (existing) state = existing
  else {
    if (call.op === 'resolve')
      return { op: 'resolve', status: 'navigated', reason: 'no state', role: call.role, name: call.name }
    state = { token: call.token, ids: new WeakMap(), nodes: new Map() }
    Object.defineProperty(globalThis, sym, {
      value: state,
      enumerable: false,
      configurable: false,
      writable: false,
    })
  }

  const idFor = (el: DomElement): number => {
    let id = state.ids.get(el)
    if (id === undefined) {
      id = nextId++
      state.ids.set(el, id)
      state.nodes.set(id, new WeakRef(el))
    }
    return id
  }

  const SKIP_TAGS = new Set([
    'script',
    'style',
    'noscript',
    'template',
    'head',
    'meta',
    'link',
    'title',
    'base',
    'datalist',
  ])
  const INTERACTIVE = new Set([
    'button',
    'link',
    'textbox',
    'checkbox',
    'radio',
    'combobox',
    'listbox',
    'option',
    'menuitem',
    'menuitemcheckbox',
    'menuitemradio',
    'tab',
    'switch',
    'slider',
    'searchbox',
    'spinbutton',
    'treeitem',
  ])
  const NAME_FROM_CONTENT = new Set([
    'button',
    'link',
    'heading',
    'option',
    'menuitem',
    'menuitemcheckbox',
    'menuitemradio',
    'tab',
    'treeitem',
    'cell',
    'columnheader',
    'rowheader',
    'checkbox',
    'radio',
    'switch',
    'tooltip',
  ])
  const KNOWN_ROLES = new Set([
    ...INTERACTIVE,
    'alert',
    'alertdialog',
    'application',
    'article',
    'banner',
    'blockquote',
    'caption',
    'cell',
    'code',
    'columnheader',
    'complementary',
    'contentinfo',
    'definition',
    'dialog',
    'document',
    'feed',
    'figure',
    'form',
    'generic',
    'grid',
    'gridcell',
    'group',
    'heading',
    'img',
    'list',
    'listitem',
    'log',
    'main',
    'marquee',
    'math',
    'menu',
    'menubar',
    'meter',
    'navigation',
    'note',
    'paragraph',
    'progressbar',
    'radiogroup',
    'region',
    'row',
    'rowgroup',
    'rowheader',
    'scrollbar',
    'search',
    'separator',
    'status',
    'table',
    'tablist',
    'tabpanel',
    'term',
    'timer',
    'toolbar',
    'tooltip',
    'tree',
    'treegrid',
  ])

  const styleCache = new Map<DomElement, DomStyle>()
  const styleOf = (el: DomElement): DomStyle => {
    let style = styleCache.get(el)
    if (!style) {
      style = win.getComputedStyle(el)
      styleCache.set(el, style)
    }
    return style
  }

  const squash = (text: string): string => text.replace(/\s+/g, ' ').trim()

  /** Children in the flat tree: a shadow root's content instead of light children, a slot's assigned nodes. */
  const childrenOf = (node: DomNode): DomNode[] => {
    const el = node.nodeType === 1 ? (node as DomElement) : null
    if (el?.shadowRoot) return Array.from(el.shadowRoot.childNodes)
    if (el && el.localName === 'slot' && el.assignedNodes) {
      const assigned = el.assignedNodes({ flatten: true })
      if (assigned.length > 0) return assigned
    }
    return Array.from(node.childNodes)
  }

  const ownText = (el: DomElement): boolean => {
    for (const child of Array.from(el.childNodes))
      if (child.nodeType === 3 && (child.nodeValue ?? '').trim() !== '') return true
    return false
  }

  const parseColor = (value: string): [number, number, number, number] | null => {
    const m = /rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)(?:\s*[,/]\s*([\d.]+%?))?\s*\)/.exec(value)
    if (!m) return null
    let alpha = 1
    if (m[4] !== undefined)
      alpha = m[4].endsWith('%') ? Number.parseFloat(m[4]) / 100 : Number.parseFloat(m[4])
    return [Number(m[1]), Number(m[2]), Number(m[3]), alpha]
  }

  // Memoised per element: computed-style reads cost microseconds each, and every text element asks its ancestors.
  const backgrounds = new Map<DomElement, [number, number, number] | null>()
  /** The colour behind an element's text, or null when a background image makes it unknowable. */
  const backgroundBehind = (el: DomElement): [number, number, number] | null => {
    const known = backgrounds.get(el)
    if (known !== undefined) return known
    const style = styleOf(el)
    let result: [number, number, number] | null
    const bg = parseColor(style.backgroundColor)
    if (style.backgroundImage && style.backgroundImage !== 'none') result = null
    else if (bg && bg[3] >= 0.5) result = [bg[0], bg[1], bg[2]]
    else result = el.parentElement ? backgroundBehind(el.parentElement) : [255, 255, 255]
    backgrounds.set(el, result)
    return result
  }

  /**
   * Why an element (with its subtree) is invisible to a person, or null. These are the tricks hidden prompt
   * injections use; such elements are left out of snapshots and text.
   */
  const hiddenReason = (el: DomElement): string | null => {
    if (el.getAttribute('aria-hidden') === 'true') return 'aria-hidden'
    const style = styleOf(el)
    if (style.display === 'none') return 'display:none'
    if (style.visibility === 'hidden' || style.visibility === 'collapse') return 'visibility:hidden'
    if (Number.parseFloat(style.opacity) < 0.1) return 'opacity'
    // Native options have no box of their own; their select decides.
    if (el.localName === 'option' || el.localName === 'optgroup') return null
    if (style.display !== 'contents' && el.checkVisibility && !el.checkVisibility()) return 'not rendered'
    const positioned = style.position === 'absolute' || style.position === 'fixed'
    const clip = /rect\(\s*(-?[\d.]+)px[\s,]+(-?[\d.]+)px[\s,]+(-?[\d.]+)px[\s,]+(-?[\d.]+)px\s*\)/.exec(
      style.clip,
    )
    if (positioned && clip) {
      const [top, right, bottom, left] = clip.slice(1).map(Number) as [number, number, number, number]
      if (right - left <= 1 || bottom - top <= 1) return 'clip'
    }
    if (
      /inset\(\s*(?:4[5-9]|[5-9]\d|\d{3,})(?:\.\d+)?%/.test(style.clipPath) ||
      /(?:circle|ellipse)\(\s*0(?:px|%)?[\s)]/.test(style.clipPath)
    )
      return 'clip-path'
    if (style.display === 'contents') return null
    const rect = el.getBoundingClientRect()
    if (positioned) {
      const fixed = style.position === 'fixed'
      const left = rect.left + (fixed ? 0 : win.scrollX)
      const top = rect.top + (fixed ? 0 : win.scrollY)
      const width = fixed
        ? win.innerWidth
        : Math.max(win.innerWidth, doc.documentElement.getBoundingClientRect().width)
      if (left + rect.width < -100 || top + rect.height < -100) return 'off-screen'
      if (left > width + 100 && (fixed || left > 10_000)) return 'off-screen'
      if (fixed && top > win.innerHeight + 100) return 'off-screen'
    }
    const overflowHidden = /hidden|clip/.test(style.overflow)
    if (overflowHidden && (rect.width <= 1 || rect.height <= 1)) return 'clipped'
    if (Number.parseFloat(style.textIndent) <= -999) return 'off-screen'
    if (ownText(el)) {
      if (Number.parseFloat(style.fontSize) < 1) return 'font-size'
      if (rect.width === 0 && rect.height === 0) return 'zero-size'
      const fill = style.getPropertyValue('-webkit-text-fill-color')
      const fg = parseColor(fill && fill !== style.color ? fill : style.color)
      if (fg && fg[3] < 0.1) return 'transparent text'
      const bg = fg ? backgroundBehind(el) : null
      if (
        fg &&
        bg &&
        Math.max(Math.abs(fg[0] - bg[0]), Math.abs(fg[1] - bg[1]), Math.abs(fg[2] - bg[2])) <= 8
      )
        return 'text colour = background'
    }
    return null
  }

  const flatParent = (el: DomElement): DomElement | null => {
    if (el.assignedSlot) return el.assignedSlot
    if (el.parentElement) return el.parentElement
    const root = el.getRootNode()
    return root.host ?? null
  }

  const hiddenInTree = (el: DomElement): string | null => {
    for (let node: DomElement | null = el; node; node = flatParent(node)) {
      const reason = hiddenReason(node)
      if (reason) return reason
    }
    return null
  }

  const hasContent = (el: DomElement): boolean =>
    (el.textContent ?? '').trim() !== '' ||
    el.matches('input:not([type=hidden]),button,select,textarea,a[href],img[alt],iframe,[aria-label]') ||
    el.querySelector(
      'input:not([type=hidden]),button,select,textarea,a[href],img[alt],iframe,[aria-label]',
    ) !== null

  const implicitRole = (el: DomElement): string | null => {
    const tag = el.localName
    switch (tag) {
      case 'a':
      case 'area':
        return el.hasAttribute('href') ? 'link' : null
      case 'button':
        return 'button'
      case 'input': {
        const type = (el.getAttribute('type') ?? 'text').toLowerCase()
        if (['button', 'submit', 'reset', 'image', 'file', 'color'].includes(type)) return 'button'
        if (type === 'checkbox') return 'checkbox'
        if (type === 'radio') return 'radio'
        if (type === 'range') return 'slider'
        if (type === 'number') return 'spinbutton'
        if (type === 'hidden') return null
        if (el.hasAttribute('list')) return 'combobox'
        return type === 'search' ? 'searchbox' : 'textbox'
      }
      case 'textarea':
        return 'textbox'
      case 'select':
        return el.multiple || (el.size ?? 0) > 1 ? 'listbox' : 'combobox'
      case 'option':
        return 'option'
      case 'h1':
      case 'h2':
      case 'h3':
      case 'h4':
      case 'h5':
      case 'h6':
        return 'heading'
      case 'img':
        return el.getAttribute('alt') === '' ? null : 'img'
      case 'ul':
      case 'ol':
      case 'menu':
        return 'list'
      case 'li':
        return 'listitem'
      case 'nav':
        return 'navigation'
      case 'main':
        return 'main'
      case 'aside':
        return 'complementary'
      case 'header':
        return el.parentElement?.closest('article,aside,main,nav,section') ? null : 'banner'
      case 'footer':
        return el.parentElement?.closest('article,aside,main,nav,section') ? null : 'contentinfo'
      case 'section':
        return el.hasAttribute('aria-label') || el.hasAttribute('aria-labelledby') ? 'region' : null
      case 'form':
        return 'form'
      case 'article':
        return 'article'
      case 'table':
        return 'table'
      case 'tr':
        return 'row'
      case 'td':
        return 'cell'
      case 'th':
        return el.getAttribute('scope') === 'row' ? 'rowheader' : 'columnheader'
      case 'dialog':
        return 'dialog'
      case 'p':
        return 'paragraph'
      case 'blockquote':
        return 'blockquote'
      case 'fieldset':
      case 'details':
        return 'group'
      case 'summary':
        return 'button'
      case 'progress':
        return 'progressbar'
      case 'meter':
        return 'meter'
      case 'hr':
        return 'separator'
      case 'iframe':
        return 'iframe'
      case 'output':
        return 'status'
      case 'figure':
        return 'figure'
      case 'svg':
        return el.hasAttribute('aria-label') || el.querySelector('title') ? 'img' : null
      default:
        if (el.isContentEditable && !el.parentElement?.isContentEditable) return 'textbox'
        return null
    }
  }

  const roleOf = (el: DomElement): string | null => {
    const explicit = (el.getAttribute('role') ?? '').trim().toLowerCase().split(/\s+/)[0] ?? ''
    if (explicit === 'none' || explicit === 'presentation') return null
    if (KNOWN_ROLES.has(explicit)) return explicit
    return implicitRole(el)
  }

  const POINTER_SKIP = 'a[href],button,input,select,textarea,summary,label,[role=button],[role=link]'

  /** Not a control by its role, but the page made it one: onclick, tabindex, or the top element with a hand cursor. */
  const isClickable = (el: DomElement): boolean => {
    if (el.hasAttribute('onclick')) return true
    const tabindex = el.getAttribute('tabindex')
    if (tabindex !== null && Number(tabindex) >= 0) return true
    if (styleOf(el).cursor !== 'pointer' || ['label', 'body', 'html'].includes(el.localName)) return false
    const parent = flatParent(el)
    if (parent && styleOf(parent).cursor === 'pointer') return false
    return el.parentElement?.closest(POINTER_SKIP) == null
  }

  /**
   * The role a snapshot line shows (null: no line of its own), whether it counts as interactive, and whether it is
   * only interactive because the page made it clickable.
   */
  const describeRole = (
    el: DomElement,
  ): { role: string | null; interactive: boolean; clickable: boolean } => {
    const role = roleOf(el)
    if (role && INTERACTIVE.has(role)) return { role, interactive: true, clickable: false }
    if (isClickable(el)) return { role: role ?? 'generic', interactive: true, clickable: true }
    return { role, interactive: false, clickable: false }
  }

  const textForName = (node: DomNode, skip: DomElement | null, budget: { left: number }): string => {
    const parts: string[] = []
    for (const child of childrenOf(node)) {
      if (budget.left <= 0) break
      if (child.nodeType === 3) {
        const text = child.nodeValue ?? ''
        parts.push(text)
        budget.left -= text.length
        continue
      }
      if (child.nodeType !== 1) continue
      const el = child as DomElement
      if (el === skip || SKIP_TAGS.has(el.localName) || hiddenReason(el)) continue
      const label = el.getAttribute('aria-label')
      if (label?.trim()) parts.push(` ${label} `)
      else if (el.localName === 'img') parts.push(` ${el.getAttribute('alt') ?? ''} `)
      else if (['select', 'textarea', 'input'].includes(el.localName)) continue
      else parts.push(` ${textForName(el, skip, budget)} `)
    }
    return parts.join('')
  }

  const contentText = (el: DomElement, skip: DomElement | null = null): string =>
    squash(textForName(el, skip, { left: 2000 }))

  const byId = (el: DomElement, id: string): DomElement | null => {
    const root = el.getRootNode()
    return root.getElementById ? root.getElementById(id) : doc.getElementById ? doc.getElementById(id) : null
  }

  /** A simplified accessible name: aria-labelledby, aria-label, labels, alt/title/placeholder, then content. */
  const nameOf = (el: DomElement, role: string | null, clickable: boolean): string => {
    const labelledby = el.getAttribute('aria-labelledby')
    if (labelledby) {
      const name = squash(
        labelledby
          .split(/\s+/)
          .map((id) => {
            const ref = byId(el, id)
            return ref ? (ref.getAttribute('aria-label') ?? contentText(ref)) : ''
          })
          .join(' '),
      )
      if (name) return name
    }
    const aria = squash(el.getAttribute('aria-label') ?? '')
    if (aria) return aria
    const tag = el.localName
    if (tag === 'input') {
      const type = (el.getAttribute('type') ?? 'text').toLowerCase()
      if (type === 'button' || type === 'submit' || type === 'reset')
        return squash(el.value ?? '') || (type === 'submit' ? 'Submit' : type === 'reset' ? 'Reset' : '')
      if (type === 'image') return squash(el.getAttribute('alt') ?? el.value ?? '') || 'Submit'
    }
    if (tag === 'input' || tag === 'select' || tag === 'textarea') {
      const labels = el.labels ? Array.from(el.labels) : []
      const fromLabels = squash(labels.map((label) => contentText(label, el)).join(' '))
      if (fromLabels) return fromLabels
      return squash(el.getAttribute('title') ?? el.getAttribute('placeholder') ?? '')
    }
    if (tag === 'img' || tag === 'area')
      return squash(el.getAttribute('alt') ?? el.getAttribute('title') ?? '')
    if (tag === 'svg') return squash(el.querySelector('title')?.textContent ?? '')
    if (tag === 'fieldset') {
      const legend = el.querySelector('legend')
      if (legend) return contentText(legend)
    }
    if (tag === 'table') {
      const caption = el.querySelector('caption')
      if (caption) return contentText(caption)
    }
    if (tag === 'figure') {
      const caption = el.querySelector('figcaption')
      if (caption) return contentText(caption)
    }
    if (tag === 'iframe') return squash(el.getAttribute('title') ?? '')
    if (clickable || (role && NAME_FROM_CONTENT.has(role))) {
      const text = contentText(el)
      if (text) return text
    }
    return squash(el.getAttribute('title') ?? '')
  }

  const MAX_NAME = 500
  /** Role and name exactly as a snapshot line shows them: what a ref is checked against before it is used. */
  const describe = (
    el: DomElement,
  ): { role: string; name: string; interactive: boolean; clickable: boolean } => {
    const { role, interactive, clickable } = describeRole(el)
    return {
      role: role ?? 'generic',
      name: nameOf(el, role, clickable).slice(0, MAX_NAME),
      interactive,
      clickable,
    }
  }

  const statesOf = (el: DomElement, role: string, clickable: boolean): string[] => {
    const states: string[] = []
    const tag = el.localName
    if (role === 'heading') {
      const level = el.getAttribute('aria-level') ?? (/^h([1-6])$/.exec(tag)?.[1] || '2')
      states.push(`level=${level}`)
    }
    const ariaChecked = el.getAttribute('aria-checked')
    if (tag === 'input' && (role === 'checkbox' || role === 'radio' || role === 'switch')) {
      if (el.indeterminate) states.push('checked=mixed')
      else if (el.checked) states.push('checked')
    } else if (ariaChecked === 'true') states.push('checked')
    else if (ariaChecked === 'mixed') states.push('checked=mixed')
    if (el.getAttribute('aria-pressed') === 'true') states.push('pressed')
    const expanded = el.getAttribute('aria-expanded')
    if (expanded === 'true') states.push('expanded')
    else if (expanded === 'false') states.push('collapsed')
    if (tag === 'option' ? el.selected : el.getAttribute('aria-selected') === 'true') states.push('selected')
    if ((el.disabled && el.matches(':disabled')) || el.getAttribute('aria-disabled') === 'true')
      states.push('disabled')
    if (el.hasAttribute('required') || el.getAttribute('aria-required') === 'true') states.push('required')
    if (el.getAttribute('aria-invalid') === 'true') states.push('invalid')
    if (clickable) states.push('clickable')
    return states
  }

  const fieldValue = (el: DomElement, role: string): string | null => {
    const tag = el.localName
    if (tag === 'input') {
      const type = (el.getAttribute('type') ?? 'text').toLowerCase()
      if (['button', 'submit', 'reset', 'image', 'checkbox', 'radio', 'file', 'hidden'].includes(type))
        return null
      const value = el.value ?? ''
      if (type === 'password') return value ? '••••' : null
      return value || null
    }
    if (tag === 'textarea') return el.value || null
    if (tag === 'select') {
      const chosen = el.selectedOptions ? Array.from(el.selectedOptions) : []
      return chosen.map((option) => squash(option.label ?? option.textContent ?? '')).join(', ') || null
    }
    if (role === 'textbox' && el.isContentEditable) return squash(el.textContent ?? '') || null
    return null
  }

  let hidden = 0
  const frames: number[] = []

  const rootFor = (rootId: number | null): DomNode | null => {
    if (rootId === null) return doc.body ?? doc.documentElement
    const el = state.nodes.get(rootId)?.deref()
    return el?.isConnected ? el : null
  }

  /** Visible-element walk shared by snapshots: appends entries; returns whether it added any element entry. */
  const walk = (node: DomNode, depth: number, out: PageEntry[], interactiveOnly: boolean): void => {
    for (const child of childrenOf(node)) {
      if (child.nodeType === 3) {
        if (interactiveOnly) continue
        const text = squash(child.nodeValue ?? '')
        if (!text) continue
        const last = out[out.length - 1]
        // Inline elements are flattened, so their text arrives in pieces: join pieces at the same depth.
        if (last && last.role === 'text' && last.depth === depth) last.value = `${last.value} ${text}`
        else
          out.push({ depth, role: 'text', name: '', id: null, states: [], value: text, interactive: false })
        continue
      }
      if (child.nodeType !== 1) continue
      const el = child as DomElement
      if (SKIP_TAGS.has(el.localName)) continue
      const reason = hiddenReason(el)
      if (reason) {
        if (hasContent(el)) hidden++
        continue
      }
      const { role, interactive } = describeRole(el)
      if (el.localName === 'iframe') frames.push(idFor(el))
      if (el.localName === 'option' && el.closest('select')) {
        if (!interactiveOnly)
          out.push({
            depth,
            role: 'option',
            name: squash(el.label ?? el.textContent ?? '').slice(0, MAX_NAME),
            id: null,
            states: el.selected ? ['selected'] : [],
            value: null,
            interactive: false,
          })
        continue
      }
      if (el.localName === 'svg' || el.localName === 'select') {
        if (role && (!interactiveOnly || interactive)) {
          const entry = entryFor(el, interactiveOnly ? 0 : depth)
          out.push(entry)
          if (el.localName === 'select' && !interactiveOnly) walk(el, depth + 1, out, interactiveOnly)
        }
        continue
      }
      const shown = role !== null && (!interactiveOnly || interactive || el.localName === 'iframe')
      if (!shown) {
        walk(el, depth, out, interactiveOnly)
        continue
      }
      const entry = entryFor(el, interactiveOnly ? 0 : depth)
      out.push(entry)
      const start = out.length
      walk(el, depth + 1, out, interactiveOnly)
      if (interactiveOnly) continue
      const children = out.slice(start)
      if (children.length > 0 && children.every((c) => c.role === 'text')) {
        // Text-only content: it is the name already, or it goes inline after the colon.
        out.length = start
        const text = squash(children.map((c) => c.value ?? '').join(' '))
        if (!NAME_FROM_CONTENT.has(role) && !entry.states.includes('clickable') && entry.value === null)
          entry.value = text
        else if (entry.name === '') entry.value = text
      }
    }
  }

  const entryFor = (el: DomElement, depth: number): PageEntry => {
    const { role, name, interactive, clickable } = describe(el)
    return {
      depth,
      role,
      name,
      id: idFor(el),
      states: statesOf(el, role, clickable),
      value: fieldValue(el, role),
      interactive,
    }
  }

  // Boxes that start a new line of text (what innerText treats as blocks).
  const BLOCK = /^(?:block|flex|grid|list-item|table|table-row|table-caption|flow-root)$/

  const textWalk = (node: DomNode, out: string[]): void => {
    for (const child of childrenOf(node)) {
      if (child.nodeType === 3) {
        out.push((child.nodeValue ?? '').replace(/\s+/g, ' '))
        continue
      }
      if (child.nodeType !== 1) continue
      const el = child as DomElement
      const tag = el.localName
      if (SKIP_TAGS.has(tag)) continue
      if (hiddenReason(el)) {
        if (hasContent(el)) hidden++
        continue
      }
      if (tag === 'iframe') {
        frames.push(idFor(el))
        continue
      }
      if (tag === 'br') {
        out.push('\n')
        continue
      }
      if (['select', 'textarea', 'input', 'img', 'svg'].includes(tag)) continue
      const display = styleOf(el).display
      const block = BLOCK.test(display)
      if (block) out.push('\n')
      else if (display === 'table-cell') out.push(' ')
      textWalk(el, out)
      if (block) out.push('\n')
      else if (display === 'table-cell') out.push(' ')
    }
  }

  switch (call.op) {
    case 'id': {
      const id = target ? idFor(target) : -1
      return { op: 'id', token: state.token, nextId, id }
    }
    case 'resolve': {
      const fail = (status: ResolveFailure['status'], reason: string, role = call.role, name = call.name) =>
        ({ op: 'resolve', status, reason, role, name }) satisfies ResolveFailure
      if (state.token !== call.expectToken) return fail('navigated', 'a different document')
      const el = state.nodes.get(call.id)?.deref()
      if (!el?.isConnected || el.ownerDocument !== doc) return fail('stale', 'removed from the page')
      const reason = hiddenInTree(el)
      if (reason) return fail('stale', `hidden now (${reason})`)
      const now = describe(el)
      if (now.role !== call.role || now.name !== call.name)
        return fail('changed', 'changed', now.role, now.name)
      return el
    }
    case 'snapshot': {
      for (const [id, ref] of state.nodes) if (!ref.deref()) state.nodes.delete(id)
      const root = rootFor(call.rootId)
      const entries: PageEntry[] = []
      if (root) {
        const rootEl = root.nodeType === 1 ? (root as DomElement) : null
        const reason = rootEl && call.rootId !== null ? hiddenInTree(rootEl) : null
        if (reason) hidden++
        else if (rootEl && call.rootId !== null) {
          // A scoped snapshot shows the scope element itself as the first line.
          const { role, interactive } = describeRole(rootEl)
          if (role && (!call.interactive || interactive)) {
            entries.push(entryFor(rootEl, 0))
            walk(rootEl, call.interactive ? 0 : 1, entries, call.interactive)
          } else walk(rootEl, 0, entries, call.interactive)
        } else walk(root, 0, entries, call.interactive)
      }
      const result: SnapshotResult = {
        op: 'snapshot',
        token: state.token,
        nextId,
        url: doc.URL,
        entries,
        hidden,
        frames,
        missingRoot: root === null,
      }
      return JSON.stringify(result)
    }
    case 'text': {
      const root = rootFor(call.rootId)
      const out: string[] = []
      if (root) {
        const rootEl = root.nodeType === 1 ? (root as DomElement) : null
        const reason = rootEl && call.rootId !== null ? hiddenInTree(rootEl) : null
        if (reason) hidden++
        else textWalk(root, out)
      }
      const text = out
        .join('')
        .replace(/[ \t]+/g, ' ')
        .replace(/ ?\n ?/g, '\n')
        .replace(/\n{3,}/g, '\n\n')
        .trim()
      const result: TextResult = {
        op: 'text',
        token: state.token,
        nextId,
        url: doc.URL,
        text,
        hidden,
        frames,
        missingRoot: root === null,
      }
      return JSON.stringify(result)
    }
  }
}

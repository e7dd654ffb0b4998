// The pages the browser bench serves on 127.0.0.1: a small form (the BR-1 form page: inputs, a select, a checkbox, 20
// list items, a submit that changes text), five heavier generated pages, and the ref-safety page of BR-2. All are
// generated from a seed, so every run serves the same bytes. Each page names one element whose click changes a small
// part of it (the "diff after one click" measurement).

import { createHash } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { prng } from '../../../bench/harness.ts'

export interface BenchPage {
  path: string
  /** What it stands for, for the printed table. */
  label: string
  /** The element to click for the diff measurement (role and accessible name, matched exactly). */
  click: { role: string; name: string }
}

export const FORM: BenchPage = {
  path: '/form',
  label: 'form (20 items)',
  click: { role: 'button', name: 'Submit' },
}

export const HEAVY: BenchPage[] = [
  { path: '/article', label: 'article (2,000 paragraphs)', click: { role: 'button', name: 'Show summary' } },
  { path: '/product', label: 'product (many controls)', click: { role: 'button', name: 'Add to cart' } },
  { path: '/docs', label: 'docs (big nav)', click: { role: 'button', name: 'Toggle Reference' } },
  { path: '/table', label: 'table (1,000 rows)', click: { role: 'checkbox', name: 'Select row 1' } },
  { path: '/spa', label: 'SPA (re-renders list)', click: { role: 'button', name: 'Next page' } },
]

const WORDS = (
  'the a of to and in is it that for on with as was by at from this be are or an not which have has were ' +
  'browser agent page snapshot element daemon token latency render network cache layout session process ' +
  'request response module package build deploy release queue worker state event stream buffer socket ' +
  'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt labore magna'
).split(' ')

const escapeHtml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

function words(random: () => number, count: number): string {
  const out: string[] = []
  for (let i = 0; i < count; i++) out.push(WORDS[Math.floor(random() * WORDS.length)]!)
  return out.join(' ')
}

const sentence = (random: () => number, count: number) => {
  const text = words(random, count)
  return `${text[0]!.toUpperCase()}${text.slice(1)}.`
}

const doc = (title: string, body: string, script = '') =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>` +
  `<style>body{font:14px sans-serif;margin:16px} .hidden{display:none}</style></head><body>${body}` +
  `${script ? `<script>${script}</script>` : ''}</body></html>`

function formPage(): string {
  const items = Array.from(
    { length: 20 },
    (_, i) => `<li><button type="button" data-item="${i + 1}">Item ${i + 1}</button></li>`,
  ).join('')
  return doc(
    'Sign up',
    `<h1>Sign up</h1>
<form onsubmit="return false">
  <p><label>Name <input id="name" name="name"></label></p>
  <p><label>Email <input id="email" name="email" type="email"></label></p>
  <p><label>Plan <select id="plan"><option>Free</option><option>Pro</option><option>Team</option></select></label></p>
  <p><label><input type="checkbox" id="terms"> I agree to the terms</label></p>
  <p><button type="button" id="submit">Submit</button></p>
</form>
<p id="result">Not submitted yet</p>
<h2>Items</h2>
<ul id="items">${items}</ul>
<p id="selected">Nothing selected</p>`,
    `document.getElementById('submit').onclick = () => {
  document.getElementById('result').textContent = 'Thanks, ' + (document.getElementById('name').value || 'stranger') + '!'
}
for (const b of document.querySelectorAll('[data-item]'))
  b.onclick = () => { document.getElementById('selected').textContent = 'Selected item ' + b.dataset.item }`,
  )
}

function articlePage(random: () => number): string {
  const parts: string[] = [
    '<header><nav><a href="/">Home</a> <a href="/docs">Docs</a> <a href="/product">Shop</a></nav></header>',
    '<h1>A very long article</h1>',
    '<p><button type="button" id="summary-toggle">Show summary</button></p>',
    '<div id="summary" class="hidden"><p>In short: it is long.</p></div>',
  ]
  for (let i = 0; i < 2000; i++) {
    if (i % 25 === 0)
      parts.push(
        `<h${i % 100 === 0 ? 2 : 3} id="s${i}">${escapeHtml(sentence(random, 5))}</h${i % 100 === 0 ? 2 : 3}>`,
      )
    const link =
      random() < 0.5 ? ` See <a href="/article#s${Math.floor(random() * 2000)}">${words(random, 3)}</a>.` : ''
    parts.push(`<p>${sentence(random, 18 + Math.floor(random() * 18))} ${sentence(random, 10)}${link}</p>`)
  }
  parts.push('<footer><p>© the bench</p></footer>')
  return doc(
    'A very long article',
    parts.join('\n'),
    `document.getElementById('summary-toggle').onclick = () => document.getElementById('summary').classList.toggle('hidden')`,
  )
}

function productPage(random: () => number): string {
  const sizes = ['XS', 'S', 'M', 'L', 'XL', 'XXL']
  const colors = ['Black', 'White', 'Red', 'Blue', 'Green', 'Grey', 'Navy', 'Olive']
  const reviews = Array.from(
    { length: 40 },
    (
      _,
      i,
    ) => `<article><h4>${escapeHtml(sentence(random, 4))}</h4><p>${'★'.repeat(1 + Math.floor(random() * 5))} by user${i}</p>
<p>${sentence(random, 30)}</p><button type="button">Helpful (${Math.floor(random() * 50)})</button> <button type="button">Report review ${i + 1}</button></article>`,
  ).join('\n')
  const related = Array.from(
    { length: 30 },
    (_, i) =>
      `<li><a href="/product?id=${i}">${escapeHtml(words(random, 3))}</a> <span>$${(10 + random() * 90).toFixed(2)}</span> <button type="button">Quick add ${i + 1}</button></li>`,
  ).join('')
  return doc(
    'Trail jacket',
    `<header><nav>${Array.from({ length: 12 }, (_, i) => `<a href="/c/${i}">Category ${i + 1}</a>`).join(' ')}</nav>
<form role="search"><input type="search" aria-label="Search the shop"><button>Search</button></form></header>
<main><h1>Trail jacket</h1><p>$129.00</p><p id="cart">Cart: 0 items</p>
<fieldset><legend>Size</legend>${sizes.map((s) => `<label><input type="radio" name="size" value="${s}"> ${s}</label>`).join(' ')}</fieldset>
<fieldset><legend>Colour</legend>${colors.map((c) => `<button type="button" aria-pressed="false">${c}</button>`).join(' ')}</fieldset>
<p><label>Quantity <input type="number" id="qty" value="1" min="1" max="10"></label></p>
<p><label><input type="checkbox"> Gift wrap</label> <label><input type="checkbox"> Express shipping</label></p>
<p><label>Delivery <select><option>Standard</option><option>Next day</option><option>Pick up</option></select></label></p>
<p><button type="button" id="add">Add to cart</button> <button type="button">Add to wishlist</button></p>
<details><summary>Description</summary><p>${sentence(random, 80)}</p></details>
<details><summary>Materials</summary><p>${sentence(random, 40)}</p></details>
<h2>Reviews</h2>${reviews}
<h2>Related</h2><ul>${related}</ul></main>`,
    `let n = 0
document.getElementById('add').onclick = () => { n += 1; document.getElementById('cart').textContent = 'Cart: ' + n + ' item' + (n === 1 ? '' : 's') }`,
  )
}

function docsPage(random: () => number): string {
  const sections = ['Guide', 'Reference', 'API', 'Recipes', 'Plugins', 'Migration', 'FAQ', 'Internals']
  const nav = sections
    .map((s) => {
      const links = Array.from(
        { length: 60 },
        (_, i) =>
          `<li><a href="/docs/${s.toLowerCase()}/${i}">${escapeHtml(words(random, 2 + (i % 3)))}</a></li>`,
      ).join('')
      return `<li><button type="button" aria-expanded="true" data-section="${s}">Toggle ${s}</button><ul id="nav-${s}">${links}</ul></li>`
    })
    .join('')
  const body = Array.from({ length: 30 }, (_, i) => {
    const code = `<pre><code>const x${i} = await run(${JSON.stringify(words(random, 2))})\nconsole.log(x${i})</code></pre>`
    return `<h2 id="h${i}">${escapeHtml(sentence(random, 4))}</h2><p>${sentence(random, 40)}</p>${i % 2 ? code : ''}<p>${sentence(random, 25)} <a href="#h${(i + 7) % 30}">Next topic</a></p>`
  }).join('\n')
  return doc(
    'Docs',
    `<header><input type="search" aria-label="Search docs"></header><nav aria-label="Docs"><ul>${nav}</ul></nav>
<main><h1>Getting started</h1>${body}</main><aside><h2>On this page</h2><ul>${Array.from({ length: 30 }, (_, i) => `<li><a href="#h${i}">Section ${i + 1}</a></li>`).join('')}</ul></aside>`,
    `for (const b of document.querySelectorAll('[data-section]')) b.onclick = () => {
  const list = document.getElementById('nav-' + b.dataset.section)
  list.classList.toggle('hidden'); b.setAttribute('aria-expanded', String(!list.classList.contains('hidden')))
}`,
  )
}

function tablePage(random: () => number): string {
  const rows = Array.from({ length: 1000 }, (_, i) => {
    const price = (random() * 1000).toFixed(2)
    return `<tr><td><input type="checkbox" aria-label="Select row ${i + 1}"></td><td>${i + 1}</td><td>${escapeHtml(words(random, 2))}</td><td>${escapeHtml(words(random, 1))}</td><td>$${price}</td><td><a href="/table/${i + 1}">Open</a></td></tr>`
  }).join('\n')
  return doc(
    'Orders',
    `<h1>Orders</h1><p><button type="button">Export CSV</button> <label>Filter <input aria-label="Filter rows"></label></p>
<p id="count">0 selected</p>
<table><thead><tr><th>Pick</th><th>#</th><th>Customer</th><th>Status</th><th>Total</th><th>Link</th></tr></thead><tbody>${rows}</tbody></table>`,
    `document.querySelector('tbody').addEventListener('change', () => {
  document.getElementById('count').textContent = document.querySelectorAll('tbody input:checked').length + ' selected'
})`,
  )
}

function spaPage(seed: number): string {
  // The list is rendered by script from a seeded generator; "Next page" replaces all 100 rows (new nodes).
  return doc(
    'Inbox',
    `<div id="app"><h1>Inbox</h1><p><button type="button" id="next">Next page</button> <span id="page">Page 1</span></p><ul id="list"></ul></div>`,
    `let a = ${seed} >>> 0
const random = () => { a = (a + 0x6d2b79f5) >>> 0; let t = a; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296 }
const W = ${JSON.stringify(WORDS)}
const words = (n) => Array.from({ length: n }, () => W[Math.floor(random() * W.length)]).join(' ')
let page = 1
function render() {
  const list = document.getElementById('list')
  list.replaceChildren()
  for (let i = 0; i < 100; i++) {
    const li = document.createElement('li')
    const a = document.createElement('a'); a.href = '#m' + page + '-' + i; a.textContent = words(4)
    const star = document.createElement('button'); star.type = 'button'; star.textContent = 'Star ' + (i + 1)
    const p = document.createElement('span'); p.textContent = ' ' + words(10) + ' '
    li.append(a, p, star); list.append(li)
  }
  document.getElementById('page').textContent = 'Page ' + page
}
render()
document.getElementById('next').onclick = () => { page += 1; render() }`,
  )
}

/**
 * The BR-2 page. Three buttons (Alpha, Beta, Gamma). The page holds a WebSocket to the bench server (no polling: a
 * stream of requests would hold up a tool that waits for the network to settle), and when the bench says `mutate` it
 * changes the list, then answers `ack`. `insert` puts a new button also named "Beta" before the original (the nodes
 * stay); `rerender` rebuilds the list as Delete, Alpha, Beta, Gamma (every node replaced, as a framework re-render
 * does); `relabel` keeps the node but renames Beta to "Delete all". Every click reports which button it hit (and
 * whether its label changed since it was made) over the same socket.
 */
export type RefVariant = 'insert' | 'rerender' | 'relabel'

export function refsPage(variant: RefVariant, trial: string): string {
  return doc(
    'Ref safety',
    `<h1>Ref safety</h1><div id="list"></div><p id="status">waiting</p>`,
    `const ws = new WebSocket('ws://' + location.host + '/ws?trial=' + ${JSON.stringify(encodeURIComponent(trial))})
const make = (label, id) => { const b = document.createElement('button'); b.type = 'button'; b.textContent = label; b.onclick = () => ws.send('clicked ' + id + (b.textContent === label ? '' : '-relabelled')); return b }
const list = document.getElementById('list')
list.append(make('Alpha', 'alpha'), make('Beta', 'beta'), make('Gamma', 'gamma'))
ws.onmessage = (event) => {
  if (event.data !== 'mutate') return
  const variant = ${JSON.stringify(variant)}
  if (variant === 'insert') list.insertBefore(make('Beta', 'beta-inserted'), list.children[1])
  else if (variant === 'relabel') list.children[1].textContent = 'Delete all'
  else list.replaceChildren(make('Delete', 'delete-new'), make('Alpha', 'alpha-new'), make('Beta', 'beta-new'), make('Gamma', 'gamma-new'))
  document.getElementById('status').textContent = 'mutated'
  ws.send('ack')
}`,
  )
}

export interface PageServer {
  url(path: string): string
  /** Tells the ref-safety page of `trial` to mutate; resolves when it has. */
  mutate(trial: string, timeoutMs?: number): Promise<void>
  /** Waits up to `timeoutMs` for a click report from `trial`; the ids clicked (empty when none). */
  clicks(trial: string, timeoutMs: number): Promise<string[]>
  close(): Promise<void>
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** One unfragmented text frame from the server (unmasked). */
function textFrame(text: string): Buffer {
  const payload = Buffer.from(text)
  if (payload.length > 125) throw new Error('frame too long for this minimal WebSocket')
  return Buffer.concat([Buffer.from([0x81, payload.length]), payload])
}

/** The text frames in `buffer` from a browser (masked, each under 126 bytes), and what is left over. */
function readFrames(buffer: Buffer): { texts: string[]; closed: boolean; rest: Buffer } {
  const texts: string[] = []
  let offset = 0
  let closed = false
  while (buffer.length - offset >= 6) {
    const opcode = buffer[offset]! & 0x0f
    const length = buffer[offset + 1]! & 0x7f
    if (length > 125) throw new Error('frame too long for this minimal WebSocket')
    if (buffer.length - offset < 6 + length) break
    const mask = buffer.subarray(offset + 2, offset + 6)
    const payload = Buffer.from(
      buffer.subarray(offset + 6, offset + 6 + length).map((byte, i) => byte ^ mask[i % 4]!),
    )
    if (opcode === 0x1) texts.push(payload.toString('utf8'))
    if (opcode === 0x8) closed = true
    offset += 6 + length
  }
  return { texts, closed, rest: buffer.subarray(offset) }
}

/** Serves the bench pages on a random loopback port, with a WebSocket at /ws for the ref-safety page. */
export async function servePages(seed: number): Promise<PageServer> {
  const pages = new Map<string, string>([
    [FORM.path, formPage()],
    ['/article', articlePage(prng(seed + 1))],
    ['/product', productPage(prng(seed + 2))],
    ['/docs', docsPage(prng(seed + 3))],
    ['/table', tablePage(prng(seed + 4))],
    ['/spa', spaPage(seed + 5)],
  ])
  const sockets = new Map<string, Socket>()
  const acked = new Set<string>()
  const clicked = new Map<string, string[]>()
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    const text = (status: number, body: string, type = 'text/plain') =>
      res
        .writeHead(status, { 'content-type': `${type}; charset=utf-8`, 'cache-control': 'no-store' })
        .end(body)
    if (url.pathname === '/favicon.ico') return res.writeHead(204).end()
    if (url.pathname === '/refs') {
      const asked = url.searchParams.get('variant')
      const variant: RefVariant = asked === 'rerender' || asked === 'relabel' ? asked : 'insert'
      return text(200, refsPage(variant, url.searchParams.get('trial') ?? ''), 'text/html')
    }
    const page = pages.get(url.pathname)
    return page === undefined ? text(404, 'not found') : text(200, page, 'text/html')
  })
  server.on('upgrade', (req, socket: Socket) => {
    const url = new URL(req.url ?? '/', 'http://x')
    const key = req.headers['sec-websocket-key']
    if (url.pathname !== '/ws' || typeof key !== 'string') return socket.destroy()
    const trial = url.searchParams.get('trial') ?? ''
    const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64')
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
    )
    sockets.set(trial, socket)
    let pending: Buffer = Buffer.alloc(0)
    socket.on('data', (chunk: Buffer) => {
      const { texts, closed, rest } = readFrames(Buffer.concat([pending, chunk]))
      pending = rest
      for (const message of texts) {
        if (message === 'ack') acked.add(trial)
        else if (message.startsWith('clicked '))
          clicked.set(trial, [...(clicked.get(trial) ?? []), message.slice(8)])
      }
      if (closed) socket.end()
    })
    socket.on('error', () => socket.destroy())
    socket.on('close', () => {
      if (sockets.get(trial) === socket) sockets.delete(trial)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    async mutate(trial, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs
      let socket = sockets.get(trial)
      while (!socket) {
        if (Date.now() > deadline) throw new Error(`the ref-safety page of trial ${trial} never connected`)
        await sleep(5)
        socket = sockets.get(trial)
      }
      socket.write(textFrame('mutate'))
      while (!acked.has(trial)) {
        if (Date.now() > deadline) throw new Error(`the ref-safety page of trial ${trial} did not mutate`)
        await sleep(2)
      }
    },
    async clicks(trial, timeoutMs) {
      const deadline = Date.now() + timeoutMs
      while (!clicked.has(trial) && Date.now() < deadline) await sleep(5)
      return clicked.get(trial) ?? []
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets.values()) socket.destroy()
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

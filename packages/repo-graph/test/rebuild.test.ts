import { readFileSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildGraph } from '../src/graph.ts'
import { affected } from '../src/queries/affected.ts'
import { checkHealth, planRebuild, runPlan } from '../src/rebuild.ts'
import { renderGraph } from '../src/render.ts'
import type { RepoGraph } from '../src/types.ts'
import { loadWorkspaceFile, resolveWorkspace, WorkspaceFileError } from '../src/workspace-file.ts'
import { cleanup, tempDir, write } from './support/fleet.ts'
import { repo } from './support/sample-fleet.ts'

// A real HTTP service for the health checks: healthy, or failing until `healthyAfter` requests have been seen.
let server: Server
let base: string
let requests = 0
let healthyAfter = 0

beforeAll(async () => {
  server = createServer((req, res) => {
    requests++
    if (req.url === '/health' && requests > healthyAfter) res.writeHead(200).end('{"ok":true}')
    else if (req.url === '/slow') setTimeout(() => res.writeHead(200).end('late'), 2000)
    else res.writeHead(503).end('starting')
  })
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => {
  server.close()
  cleanup()
})

/** core ← api ← web, plus an unrelated repo; a dstack.yaml that logs every step to one file. */
async function fleet(): Promise<{ root: string; graph: RepoGraph; log: string }> {
  const root = tempDir('dstack-rebuild-')
  repo(root, 'core', { 'Cargo.toml': '[package]\nname = "core"\n' })
  repo(root, 'api', {
    'Cargo.toml': '[package]\nname = "api"\n[dependencies]\ncore = { path = "../core" }\n',
  })
  repo(root, 'web', { 'package.json': '{"name":"web","dependencies":{"api-client":"file:../api/client"}}' })
  // The npm side of the chain: core's wasm package ← api's client ← web.
  write(join(root, 'core'), { 'wasm/package.json': '{"name":"core-wasm"}' })
  write(join(root, 'api'), {
    'client/package.json': '{"name":"api-client","dependencies":{"core-wasm":"file:../../core/wasm"}}',
  })
  repo(root, 'other', { 'go.mod': 'module example.com/other\n' })
  return { root, graph: await buildGraph({ roots: [root] }), log: join(root, 'steps.log') }
}

function workspaceYaml(log: string, health: string, extra = ''): string {
  return `roots: ['.']
repos:
  core:
    build: echo "build core $PWD" >> ${log}
  api:
    build:
      - echo "build api" >> ${log}
    services:
      - name: api
        restart: echo "restart api" >> ${log}
        health: { url: '${health}', status: 200, body: ok, retries: 3, timeout_ms: 500 }
  web:
    verify: echo "verify web" >> ${log}
${extra}`
}

describe('dstack.yaml', () => {
  it('loads roots relative to the file and normalizes commands to lists', async () => {
    const { root, log } = await fleet()
    writeFileSync(join(root, 'dstack.yaml'), workspaceYaml(log, `${base}/health`))
    const ws = resolveWorkspace(join(root, 'api', 'client'))
    expect(ws.path).toBe(join(root, 'dstack.yaml'))
    expect(ws.roots).toEqual([root])
    expect(ws.repos.core?.build).toEqual([`echo "build core $PWD" >> ${log}`])
    expect(ws.repos.api?.services[0]?.health).toMatchObject({ status: 200, retries: 3 })
  })

  it('without a file, roots at the directory holding the current repository', async () => {
    const { root } = await fleet()
    expect(resolveWorkspace(join(root, 'core')).roots).toEqual([root])
    expect(resolveWorkspace(join(root, 'core')).path).toBeNull()
  })

  it('refuses a bad file with the line and key of each problem', async () => {
    const dir = tempDir('dstack-yaml-')
    const file = join(dir, 'dstack.yaml')
    writeFileSync(
      file,
      'repos:\n  api:\n    bild: make\n    services:\n      - name: api\n        restart: 3\n',
    )
    const error = (() => {
      try {
        loadWorkspaceFile(file)
      } catch (e) {
        return e
      }
    })()
    expect(error).toBeInstanceOf(WorkspaceFileError)
    expect((error as WorkspaceFileError).problems.sort()).toEqual([
      'line 3, column 11: repos.api: Unrecognized key: "bild"',
      'line 6, column 18: repos.api.services.0.restart: Invalid input: expected string, received number',
    ])
    writeFileSync(file, 'repos: [unclosed\n')
    expect(() => loadWorkspaceFile(file)).toThrow(/line 2, column 1/)
    expect(() => loadWorkspaceFile(join(dir, 'missing.yaml'))).toThrow(WorkspaceFileError)
  })
})

describe('rebuild → restart → verify', () => {
  it('plans builds, then restarts, then checks, in dependency order, for the affected repositories only', async () => {
    const { root, graph, log } = await fleet()
    writeFileSync(join(root, 'dstack.yaml'), workspaceYaml(log, `${base}/health`))
    const ws = loadWorkspaceFile(join(root, 'dstack.yaml'))
    const plan = planRebuild(graph, ws, affected(graph, { repos: ['core'] }))
    expect(plan.repos).toEqual(['core', 'api', 'web'])
    expect(plan.steps.map((s) => `${s.phase} ${s.repo} ${s.kind}`)).toEqual([
      'build core command',
      'build api command',
      'restart api command',
      'verify api health',
      'verify web command',
    ])
    expect(plan.unconfigured).toEqual([])

    const seen: string[] = []
    const run = await runPlan(plan, { onStep: (r) => seen.push(`${r.status} ${r.step.name}`) })
    expect(run.ok).toBe(true)
    expect(seen).toHaveLength(5)
    // Each command ran in its repository, in order.
    expect(readFileSync(log, 'utf8')).toBe(
      `build core ${join(root, 'core')}\nbuild api\nrestart api\nverify web\n`,
    )
  })

  it('stops at the first failure and skips the rest', async () => {
    const { root, graph, log } = await fleet()
    writeFileSync(
      join(root, 'dstack.yaml'),
      workspaceYaml(log, `${base}/health`).replace('build api"', 'build api"; exit 7'),
    )
    const plan = planRebuild(
      graph,
      loadWorkspaceFile(join(root, 'dstack.yaml')),
      affected(graph, { repos: ['core'] }),
    )
    const run = await runPlan(plan)
    expect(run.ok).toBe(false)
    expect(run.results.map((r) => r.status)).toEqual(['ok', 'failed', 'skipped', 'skipped', 'skipped'])
    expect(run.results[1]!.error).toBe('exit code 7')
    expect(readFileSync(log, 'utf8')).not.toMatch(/restart/)
  })

  it('an abort stops the running step and skips the rest', async () => {
    const { root, graph, log } = await fleet()
    writeFileSync(
      join(root, 'dstack.yaml'),
      workspaceYaml(log, `${base}/health`).replace('echo "build core $PWD"', 'sleep 30; echo "build core"'),
    )
    const plan = planRebuild(
      graph,
      loadWorkspaceFile(join(root, 'dstack.yaml')),
      affected(graph, { repos: ['core'] }),
    )
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 200)
    const run = await runPlan(plan, { signal: controller.signal })
    expect(run.results.map((r) => r.status)).toEqual(['failed', 'skipped', 'skipped', 'skipped', 'skipped'])
    expect(run.results[0]!.error).toBe('interrupted')
    expect(run.results[0]!.durationMs).toBeLessThan(10_000)
  })

  it('lists affected repositories with nothing configured', async () => {
    const { graph } = await fleet()
    const plan = planRebuild(
      graph,
      { ...resolveWorkspace(tempDir()), repos: {} },
      affected(graph, { repos: ['api'] }),
    )
    expect(plan.steps).toEqual([])
    expect(plan.unconfigured).toEqual(['api', 'web'])
  })
})

describe('health checks against a real server', () => {
  it('retries until healthy', async () => {
    requests = 0
    healthyAfter = 2
    const result = await checkHealth({ url: `${base}/health`, body: 'ok', timeout_ms: 1000, retries: 4 })
    expect(result.status).toBe('ok')
    expect(requests).toBe(3)
    healthyAfter = 0
  })

  it('fails with the reason: wrong status, missing body, no answer in time, nothing listening', async () => {
    const fail = (r: { status: string; error: string | null }) => {
      expect(r.status).toBe('failed')
      return r.error
    }
    expect(fail(await checkHealth({ url: `${base}/other`, timeout_ms: 1000, retries: 1 }))).toMatch(
      /status 503.*after 2 attempts/,
    )
    expect(
      fail(await checkHealth({ url: `${base}/health`, body: 'nope', timeout_ms: 1000, retries: 0 })),
    ).toMatch(/body does not contain "nope"/)
    expect(fail(await checkHealth({ url: `${base}/slow`, timeout_ms: 200, retries: 0 }))).toMatch(
      /no answer within 200 ms/,
    )
    const closed = createServer()
    await new Promise<void>((done) => closed.listen(0, '127.0.0.1', done))
    const port = (closed.address() as AddressInfo).port
    await new Promise((done) => closed.close(done))
    expect(
      fail(await checkHealth({ url: `http://127.0.0.1:${port}/health`, timeout_ms: 500, retries: 0 })),
    ).toMatch(/ECONNREFUSED/)
  })
})

describe('render', () => {
  it('writes dot, mermaid, svg and json that hold every package and edge', async () => {
    const { graph } = await fleet()
    const dot = renderGraph(graph, 'dot')
    expect(dot).toMatch(/^digraph repos \{/)
    expect(dot).toContain('"cargo:api" -> "cargo:core" [style=solid, label="path"];')
    expect(dot).toContain('label="api";')
    const mermaid = renderGraph(graph, 'mermaid')
    expect(mermaid.split('\n')[0]).toBe('flowchart LR')
    expect(mermaid.match(/-->\|path\|/g)).toHaveLength(graph.edges.length)
    const svg = renderGraph(graph, 'svg')
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/)
    expect(svg.match(/<rect /g)).toHaveLength(graph.packages.length)
    expect(svg.match(/<path d="M [\d.]+ [\d.]+ C/g)).toHaveLength(graph.edges.length)
    expect(svg.trim().endsWith('</svg>')).toBe(true)
    expect(JSON.parse(renderGraph(graph, 'json'))).toEqual(graph)
  })

  it('escapes names that would break the formats', async () => {
    const graph: RepoGraph = {
      schema: 'dstack.repo-graph/v1',
      roots: [],
      repos: [{ id: 'r"<x>', root: '/r', canonical: 'local:/r' }],
      packages: [
        {
          id: 'npm:"evil"<script>',
          ecosystem: 'npm',
          name: 'x',
          version: null,
          repo: 'r"<x>',
          dir: '/r',
          manifest: '/r/package.json',
        },
      ],
      edges: [],
      problems: [],
    }
    expect(renderGraph(graph, 'dot')).toContain('"npm:\\"evil\\"<script>"')
    expect(renderGraph(graph, 'svg')).not.toContain('<script>')
    expect(renderGraph(graph, 'mermaid')).toContain('#quot;evil#quot;')
  })
})

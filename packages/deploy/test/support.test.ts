// The fixtures the deploy tests stand on, tested for real: an sshd that strict clients trust, whose log counts
// connections (one per ControlMaster), whose connections can be dropped and which leaves nothing behind; the
// service repository's build and its four modes; Caddy loading a Caddyfile, refusing bad ones, and holding requests
// while the upstream restarts.
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { cleanup, git, tempDir } from '@dstack/git/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Caddy, caddyfileFor, startCaddy } from './support/caddy.ts'
import { alive, exited, freePort, terminate, until } from './support/processes.ts'
import { makeServiceRepo, NODE_BIN, type ServiceRepo } from './support/service.ts'
import { type Sshd, sshOptions, startSshd } from './support/sshd.ts'

interface Run {
  code: number
  stdout: string
  stderr: string
}

/** Runs a command to completion; never throws on a non-zero exit. */
function run(file: string, args: string[], options: { cwd?: string } = {}): Promise<Run> {
  return new Promise((done) => {
    execFile(file, args, { ...options, encoding: 'utf8', timeout: 20_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 255
      done({ code, stdout, stderr })
    })
  })
}

afterAll(() => cleanup())

describe('sshd fixture', () => {
  let sshd: Sshd
  let clientDir: string
  const master = () => [
    ...sshOptions(sshd),
    '-o',
    'ControlMaster=auto',
    '-o',
    `ControlPath=${clientDir}/cm-%C`,
    '-o',
    'ControlPersist=30',
  ]
  const destination = () => `${sshd.user}@${sshd.host}`

  beforeAll(async () => {
    sshd = await startSshd()
    clientDir = tempDir('dstack-ssh-client-')
  })

  afterAll(async () => {
    // The ControlMaster exits on its own once the server is gone; ask first so it does not wait for that.
    if (sshd === undefined) return
    await run('ssh', [...master(), '-O', 'exit', destination()])
    await sshd.stop()
  })

  it('lets a strict client in with the generated key and host key', async () => {
    const before = sshd.sessions()
    const result = await run('ssh', [...sshOptions(sshd), 'root@127.0.0.1', '--', 'echo hi'])
    expect(result).toMatchObject({ code: 0, stdout: 'hi\n' })
    expect(sshd.sessions()).toBe(before + 1)
    expect(readFileSync(sshd.knownHostsFile, 'utf8')).toMatch(
      new RegExp(`^\\[127\\.0\\.0\\.1\\]:${sshd.port} ssh-ed25519 `),
    )
  })

  it('is refused by a strict client that expects another host key', async () => {
    const wrong = join(clientDir, 'wrong_known_hosts')
    writeFileSync(wrong, `[127.0.0.1]:${sshd.port} ${readFileSync(`${sshd.identityFile}.pub`, 'utf8')}`)
    // ssh keeps the first value it is given for an option: the override goes before sshOptions.
    const result = await run('ssh', [
      '-o',
      `UserKnownHostsFile=${wrong}`,
      ...sshOptions(sshd),
      destination(),
      'true',
    ])
    expect(result.code).toBe(255)
    expect(result.stderr).toContain('Host key verification failed')
  })

  it('gives sessions the tools a deploy runs, and node at NODE_BIN', async () => {
    const tools = 'sh tar curl psql ln mv mkdir cat kill readlink date'
    const result = await run('ssh', [
      ...sshOptions(sshd),
      destination(),
      '--',
      `for t in ${tools}; do command -v $t >/dev/null || echo missing $t; done; ${NODE_BIN} -e 'console.log(process.versions.node)'`,
    ])
    expect(result.stderr).toBe('')
    expect(result.stdout).toMatch(/^\d+\.\d+\.\d+\n$/)
  })

  it('counts the commands of one ControlMaster connection as one session', async () => {
    const before = sshd.sessions()
    expect((await run('ssh', [...master(), destination(), '--', 'echo one'])).stdout).toBe('one\n')
    expect((await run('ssh', [...master(), destination(), '--', 'echo two'])).stdout).toBe('two\n')
    expect((await run('ssh', [...master(), '-O', 'check', destination()])).code).toBe(0)
    expect(sshd.sessions()).toBe(before + 1)
  })

  it('drops live connections, so the ControlMaster dies, and keeps listening', async () => {
    await run('ssh', [...master(), destination(), '--', 'true'])
    expect((await run('ssh', [...master(), '-O', 'check', destination()])).code).toBe(0)
    await sshd.dropConnections()
    await until(
      async () =>
        (await run('ssh', [...master(), '-O', 'check', destination()])).code !== 0 ? true : undefined,
      'the ControlMaster to exit',
    )
    const before = sshd.sessions()
    expect((await run('ssh', [...master(), destination(), '--', 'echo back'])).stdout).toBe('back\n')
    expect(sshd.sessions()).toBe(before + 1)
  })

  it('stop() ends the server and whatever its sessions left running', async () => {
    const other = await startSshd({ dir: join(tempDir('dstack-sshd-own-'), 'server') })
    const opts = [...sshOptions(other), `${other.user}@${other.host}`, '--']
    // A daemonised process (its own session, parent gone) and one orphaned by a dropped connection.
    const daemon = await run('ssh', [...opts, 'setsid sleep 300 </dev/null >/dev/null 2>&1 & echo $!'])
    const pids = [Number(daemon.stdout)]
    const hanging = spawn('ssh', [...opts, 'echo $$; exec sleep 300'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    })
    pids.push(
      Number(await new Promise<string>((done) => hanging.stdout?.once('data', (d) => done(String(d))))),
    )
    await other.dropConnections()
    await exited(hanging)
    expect(pids.every(alive)).toBe(true)

    await other.stop()
    expect(pids.filter(alive)).toEqual([])
    expect(existsSync(other.dir)).toBe(true) // a caller's dir is the caller's to remove
    await expect(run('ssh', [...opts, 'true'])).resolves.toMatchObject({ code: 255 })
  })
})

describe('service repository fixture', () => {
  let repo: ServiceRepo
  const running: ChildProcess[] = []

  /** Builds the repo as a deploy would and starts dist/server.mjs on `port`. */
  async function buildAndStart(port: number, env: Record<string, string> = {}): Promise<ChildProcess> {
    expect((await run('sh', ['build.sh'], { cwd: repo.root })).code).toBe(0)
    const child = spawn(NODE_BIN, ['server.mjs'], {
      cwd: join(repo.root, 'dist'),
      env: { ...process.env, PORT: String(port), ...env },
      stdio: 'ignore',
    })
    running.push(child)
    return child
  }

  async function listening(child: ChildProcess, port: number): Promise<void> {
    await until(() => {
      if (child.exitCode !== null) throw new Error(`service exited with ${child.exitCode}`)
      return new Promise<true | undefined>((done) => {
        fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) }).then(
          () => done(true),
          () => done(undefined),
        )
      })
    }, `the service on ${port}`)
  }

  beforeAll(async () => {
    repo = await makeServiceRepo(tempDir('dstack-service-'))
  })

  afterAll(async () => {
    await terminate(running.flatMap((child) => (child.pid === undefined ? [] : [child.pid])))
  })

  it('is a git repository whose build makes dist/ and stays clean', async () => {
    expect(git(repo.root, 'rev-parse', 'HEAD')).toBe(repo.firstCommit)
    const built = await run('sh', ['build.sh'], { cwd: repo.root })
    expect(built.stdout).toBe('built 1.0.0 into dist/\n')
    expect(readFileSync(join(repo.root, 'dist', 'version.txt'), 'utf8')).toBe('1.0.0\n')
    expect(git(repo.root, 'status', '--porcelain')).toBe('')

    const sha = await repo.addMigration('001_init.sql', 'create table t (id int);\n')
    expect(git(repo.root, 'rev-parse', 'HEAD')).toBe(sha)
    await run('sh', ['build.sh'], { cwd: repo.root })
    expect(readFileSync(join(repo.root, 'dist', 'migrations', '001_init.sql'), 'utf8')).toContain(
      'create table',
    )
    // The same version again still makes a commit: every call has a sha to deploy.
    expect(await repo.setVersion('1.0.0')).not.toBe(sha)
  })

  it('answers health and / and drains in-flight requests on SIGTERM', async () => {
    await repo.setVersion('1.1.0')
    const port = await freePort()
    const child = await buildAndStart(port, { DELAY_MS: '400' })
    await listening(child, port)
    const health = await fetch(`http://127.0.0.1:${port}/health`)
    expect([health.status, await health.text()]).toEqual([200, 'ok 1.1.0\n'])

    const slow = fetch(`http://127.0.0.1:${port}/`).then((r) => r.text())
    await sleep(100)
    child.kill('SIGTERM')
    expect(await slow).toBe('hello from 1.1.0\n')
    expect(await exited(child)).toBe(0)
  })

  it('crashes at boot in crash mode', async () => {
    await repo.setVersion('2.0.0', 'crash')
    expect(await exited(await buildAndStart(await freePort()))).toBe(1)
  })

  it('fails its health check in unhealthy mode', async () => {
    await repo.setVersion('2.0.1', 'unhealthy')
    const port = await freePort()
    const child = await buildAndStart(port)
    await listening(child, port)
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(500)
    child.kill('SIGTERM')
    expect(await exited(child)).toBe(0)
  })

  it('never answers its health check in hang mode, yet stops on SIGTERM', async () => {
    await repo.setVersion('2.0.2', 'hang')
    const port = await freePort()
    const child = await buildAndStart(port)
    await listening(child, port)
    await expect(
      fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(500) }),
    ).rejects.toThrow()
    const pending = fetch(`http://127.0.0.1:${port}/health`).catch(() => 'dropped')
    await sleep(50)
    child.kill('SIGTERM')
    expect(await exited(child)).toBe(0)
    expect(await pending).toBe('dropped')
  })
})

describe('caddy fixture', () => {
  let caddy: Caddy
  let repo: ServiceRepo
  let upstreamPort: number
  const services: ChildProcess[] = []

  /** Starts the repo's current build on the upstream port and waits for /health. */
  async function startService(): Promise<ChildProcess> {
    const child = spawn(NODE_BIN, ['server.mjs'], {
      cwd: join(repo.root, 'dist'),
      env: { ...process.env, PORT: String(upstreamPort) },
      stdio: 'ignore',
    })
    services.push(child)
    await until(
      () =>
        fetch(`http://127.0.0.1:${upstreamPort}/health`).then(
          (r) => (r.ok ? true : undefined),
          () => undefined,
        ),
      'the upstream service',
    )
    return child
  }

  const load = (body: string) =>
    fetch(`${caddy.adminUrl}/load`, { method: 'POST', headers: { 'content-type': 'text/caddyfile' }, body })
  const site = () => fetch(`http://127.0.0.1:${caddy.httpPort}/`).then((r) => r.text())

  beforeAll(async () => {
    caddy = await startCaddy()
    repo = await makeServiceRepo(tempDir('dstack-caddy-service-'))
    upstreamPort = await freePort()
    await run('sh', ['build.sh'], { cwd: repo.root })
    await startService()
  })

  afterAll(async () => {
    await terminate(services.flatMap((child) => (child.pid === undefined ? [] : [child.pid])))
    await caddy?.stop()
  })

  it('starts with only its admin endpoint', async () => {
    expect(await caddy.config()).toEqual({
      admin: { listen: `127.0.0.1:${caddy.adminPort}`, config: { persist: false } },
    })
  })

  it('loads caddyfileFor and proxies to the service', async () => {
    const response = await load(caddyfileFor(caddy.httpPort, upstreamPort, caddy.adminPort))
    expect(response.status).toBe(200)
    expect(await site()).toBe('hello from 1.0.0\n')
    expect(await caddy.config()).toMatchObject({ admin: { listen: `127.0.0.1:${caddy.adminPort}` } })
  })

  it('rejects a Caddyfile that does not adapt and keeps the old config', async () => {
    const before = await caddy.config()
    const response = await load(`http://127.0.0.1:${caddy.httpPort} {\n\tno_such_directive\n}\n`)
    expect(response.status).toBe(400)
    expect(await response.text()).toContain('no_such_directive')
    expect(await caddy.config()).toEqual(before)
    expect(await site()).toBe('hello from 1.0.0\n')
  })

  it('rejects a config that adapts but cannot start and keeps the old one', async () => {
    const busy: Server = createServer()
    await new Promise<void>((done) => busy.listen(0, '127.0.0.1', done))
    const busyPort = (busy.address() as { port: number }).port
    try {
      const before = await caddy.config()
      const response = await load(caddyfileFor(busyPort, upstreamPort, caddy.adminPort))
      expect(response.status).toBe(400)
      expect(await response.text()).toContain('address already in use')
      expect(await caddy.config()).toEqual(before)
      expect(await site()).toBe('hello from 1.0.0\n')
    } finally {
      busy.close()
    }
  })

  it('holds requests while the upstream restarts', async () => {
    const old = services.at(-1)!
    old.kill('SIGTERM')
    expect(await exited(old)).toBe(0)
    await repo.setVersion('2.0.0')
    await run('sh', ['build.sh'], { cwd: repo.root })
    const during = site()
    await sleep(500)
    await startService()
    expect(await during).toBe('hello from 2.0.0\n')
  })
})

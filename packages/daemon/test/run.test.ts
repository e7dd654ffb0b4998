import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runCommand } from '../src/run.ts'

const dir = mkdtempSync(join(tmpdir(), 'dstack-run-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Running (a killed process that nobody has reaped yet is a zombie: dead, not running). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}

/** Signals are delivered asynchronously: give the kernel a moment (up to 5 s on a loaded CI machine). */
async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 250 && alive(pid); i++) await new Promise((r) => setTimeout(r, 20))
  return !alive(pid)
}

describe('runCommand', () => {
  it('returns exit code, output and input round trip', async () => {
    const r = await runCommand(['sh', '-c', 'cat; echo err >&2; exit 3'], { input: 'hello' })
    expect(r).toMatchObject({
      exitCode: 3,
      stdout: 'hello',
      stderr: 'err\n',
      timedOut: false,
      startError: null,
    })
  })

  it('passes arguments without a shell: metacharacters stay literal', async () => {
    const r = await runCommand(['printf', '%s', '$(touch pwned); `id`'], { cwd: dir })
    expect(r.stdout).toBe('$(touch pwned); `id`')
    expect(existsSync(join(dir, 'pwned'))).toBe(false)
  })

  it('reports a command that cannot start instead of throwing', async () => {
    const r = await runCommand(['/nonexistent/tool', '--x'])
    expect(r.exitCode).toBeNull()
    expect(r.startError).toBe('/nonexistent/tool is not installed or not on PATH')
  })

  it('kills the whole process group on timeout: no grandchild survives', async () => {
    const pidFile = join(dir, 'grandchild.pid')
    const r = await runCommand(['sh', '-c', `sleep 30 & echo $! > ${pidFile}; wait`], { timeoutMs: 300 })
    expect(r.timedOut).toBe(true)
    const pid = Number(readFileSync(pidFile, 'utf8'))
    expect(await gone(pid)).toBe(true)
  })

  it('does not wait for a background process holding stdout; kills it unless told to keep it', async () => {
    const killed = await runCommand(['sh', '-c', 'sleep 30 & echo $!'])
    expect(killed.exitCode).toBe(0)
    const pid1 = Number(killed.stdout.trim())
    expect(await gone(pid1)).toBe(true)

    const kept = await runCommand(['sh', '-c', 'sleep 30 >/dev/null 2>&1 & echo $!'], {
      killLeftovers: false,
    })
    const pid2 = Number(kept.stdout.trim())
    expect(alive(pid2)).toBe(true)
    process.kill(pid2, 'SIGKILL')
  })

  it('stops the group when the signal aborts', async () => {
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 100)
    const r = await runCommand(['sh', '-c', 'sleep 30'], { signal: controller.signal })
    expect(r).toMatchObject({ aborted: true, timedOut: false, exitCode: null, signal: 'SIGTERM' })
  })

  it('Ctrl-C on the caller kills its commands too, and the caller still dies of the signal', async () => {
    const pidFile = join(dir, 'sigint.pid')
    const script = `import { runCommand } from ${JSON.stringify(join(import.meta.dirname, '..', 'src', 'run.ts'))}
await runCommand(['sh', '-c', 'sleep 30 & echo $! > ${pidFile}; wait'])`
    const { spawn } = await import('node:child_process')
    const caller = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'ignore' })
    const readPid = () => (existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : 0)
    for (let i = 0; i < 200 && !(readPid() > 0); i++) await new Promise((r) => setTimeout(r, 25))
    const grandchild = readPid()
    expect(alive(grandchild)).toBe(true)
    const exited = new Promise<NodeJS.Signals | null>((done) =>
      caller.once('exit', (_code, signal) => done(signal)),
    )
    caller.kill('SIGINT')
    expect(await exited).toBe('SIGINT')
    expect(await gone(grandchild)).toBe(true)
  })

  it('pipes a stream into stdin, larger than a pipe buffer', async () => {
    const { Readable } = await import('node:stream')
    const chunks = Array.from({ length: 64 }, (_, i) => `${String(i).padStart(4, '0')}${'x'.repeat(4092)}`)
    const r = await runCommand(['sh', '-c', 'wc -c; echo done'], { input: Readable.from(chunks) })
    expect(r.exitCode).toBe(0)
    expect(r.stdout.trim().split(/\s+/)).toEqual([String(64 * 4096), 'done'])
  })

  it('keeps only the end of a huge output', async () => {
    const r = await runCommand(['sh', '-c', 'head -c 3000000 /dev/zero | tr "\\0" a; echo END'], {
      maxOutput: 1000,
    })
    expect(r.stdout.length).toBe(1000)
    expect(r.stdout.endsWith('END\n')).toBe(true)
  })
})

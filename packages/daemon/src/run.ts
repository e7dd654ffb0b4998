import type { ChildProcess } from 'node:child_process'

export interface RunCommandOptions {
  cwd?: string
  env?: NodeJS.ProcessEnv
  /** Written (or piped, for a stream) to stdin, which is then closed; without it stdin is closed at once. */
  input?: string | NodeJS.ReadableStream
  /** SIGTERM to the whole process group after this long, SIGKILL `killGraceMs` later; default: no limit. */
  timeoutMs?: number
  /** Between SIGTERM and SIGKILL; default 2000. */
  killGraceMs?: number
  /** Aborting stops the command like a timeout does (`aborted` is set). */
  signal?: AbortSignal
  /** Keep at most this many characters of stdout and of stderr (the end, where results and errors are); default 16 MB. */
  maxOutput?: number
  /** Kill what the command left running in its process group when it exits; default true. A step that starts a
   *  service in the background (`nohup ./server &`) passes false. */
  killLeftovers?: boolean
  /** Kill it when this process gets SIGINT/SIGTERM/SIGHUP or exits; default true. False for work that must finish
   *  once started (a deploy's rollback): a timeout or `signal` still stops it. */
  killOnSignal?: boolean
  /** Called with each chunk of output as it arrives (progress, logs). */
  onOutput?: (chunk: string, stream: 'stdout' | 'stderr') => void
}

export interface CommandResult {
  /** Null when the process was killed by a signal or could not start. */
  exitCode: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  timedOut: boolean
  aborted: boolean
  durationMs: number
  /** Why the process could not start (`sh is not installed or not on PATH`), else null. */
  startError: string | null
}

// Process groups still running, killed if this process exits first: detached groups do not get the terminal's Ctrl-C.
const live = new Set<number>()
let exitHookInstalled = false

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal)
  } catch {
    // ESRCH: already gone
  }
}

/**
 * Kills every live group when this process exits, or is told to by SIGINT, SIGTERM or SIGHUP (a detached group does
 * not get the terminal's Ctrl-C, and 'exit' does not run on a signal). After a signal, when nobody else listens for
 * it, the signal is raised again so the process still dies of it, as it would have without this hook.
 */
function installExitHooks(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  const killAll = () => {
    for (const pid of live) killGroup(pid, 'SIGKILL')
  }
  process.once('exit', killAll)
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      killAll()
      if (process.listenerCount(signal) === 1) {
        process.off(signal, onSignal)
        process.kill(process.pid, signal)
      }
    }
    process.on(signal, onSignal)
  }
}

/**
 * Runs `argv` (never through a shell unless argv says `sh -c`) in its own process group and resolves when it has
 * exited: on timeout or abort the whole group gets SIGTERM, then SIGKILL, and what it left running in the background
 * is killed when it exits (unless `killLeftovers` is false), so no grandchild outlives the call. A background
 * process that keeps the pipes open does not hold the call up. Never rejects; failures are in the result.
 *
 * @example
 * const r = await runCommand(['cargo', 'build', '--release'], { cwd: '/opt/ares', timeoutMs: 600_000 })
 * if (r.exitCode !== 0) console.error(r.stderr)
 */
export function runCommand(argv: readonly string[], options: RunCommandOptions = {}): Promise<CommandResult> {
  const max = options.maxOutput ?? 16 * 1024 * 1024
  const grace = options.killGraceMs ?? 2000
  const started = performance.now()
  const { spawn } = process.getBuiltinModule('node:child_process')
  return new Promise((resolve) => {
    const out = { stdout: '', stderr: '' }
    let timedOut = false
    let aborted = false
    let startError: string | null = null
    let exit: { code: number | null; signal: NodeJS.Signals | null } = { code: null, signal: null }
    const timers: NodeJS.Timeout[] = []
    let settled = false
    let child: ChildProcess

    const finish = () => {
      if (settled) return
      settled = true
      for (const timer of timers) clearTimeout(timer)
      options.signal?.removeEventListener('abort', onAbort)
      if (child?.pid !== undefined) live.delete(child.pid)
      child?.stdout?.destroy()
      child?.stderr?.destroy()
      resolve({
        exitCode: exit.code,
        signal: exit.signal,
        ...out,
        timedOut,
        aborted,
        durationMs: performance.now() - started,
        startError,
      })
    }
    const stop = () => {
      if (child.pid === undefined) return
      const pid = child.pid
      killGroup(pid, 'SIGTERM')
      timers.push(setTimeout(() => killGroup(pid, 'SIGKILL'), grace).unref())
    }
    const onAbort = () => {
      aborted = true
      stop()
    }

    // Before the spawn: a signal that lands while the child starts must already find the hook (it runs on the next
    // turn of the loop, after the group below is in `live`).
    installExitHooks()
    try {
      child = spawn(argv[0]!, argv.slice(1), {
        cwd: options.cwd,
        env: options.env ?? process.env,
        detached: true, // its own process group, so a timeout can kill the grandchildren too
        stdio: ['pipe', 'pipe', 'pipe'],
        windowsHide: true,
      })
    } catch (error) {
      startError = (error as Error).message
      return finish()
    }
    if (child.pid !== undefined && options.killOnSignal !== false) live.add(child.pid)
    for (const stream of ['stdout', 'stderr'] as const) {
      child[stream]!.setEncoding('utf8').on('data', (chunk: string) => {
        out[stream] = (out[stream] + chunk).slice(-max)
        options.onOutput?.(chunk, stream)
      })
    }
    child.stdin!.on('error', () => {}) // a command that never reads stdin closes it early: not an error
    if (typeof options.input === 'object') options.input.pipe(child.stdin!)
    else child.stdin!.end(options.input ?? '')
    child.once('error', (error: NodeJS.ErrnoException) => {
      startError =
        error.code === 'ENOENT'
          ? `${argv[0]} is not installed or not on PATH`
          : `${argv[0]}: ${error.message}`
      finish()
    })
    // 'exit', then 'close' once the pipes drain; a background process holding them open gets `grace` at most.
    child.once('exit', (code, signal) => {
      exit = { code, signal }
      if (options.killLeftovers !== false && child.pid !== undefined) killGroup(child.pid, 'SIGKILL')
      timers.push(setTimeout(finish, options.killLeftovers === false ? 100 : grace).unref())
    })
    child.once('close', finish)

    if (options.timeoutMs !== undefined)
      timers.push(
        setTimeout(() => {
          timedOut = true
          stop()
        }, options.timeoutMs),
      )
    if (options.signal?.aborted) onAbort()
    else options.signal?.addEventListener('abort', onAbort, { once: true })
  })
}

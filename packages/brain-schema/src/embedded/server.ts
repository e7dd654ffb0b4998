import { chmodSync, mkdirSync, rmSync } from 'node:fs'
import { createServer, type Server, type Socket } from 'node:net'
import { dirname } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { PGlite } from '@electric-sql/pglite'
import {
  CANCEL_REQUEST,
  errorResponse,
  Frontend,
  GSSENC_REQUEST,
  listenStatements,
  type Notification,
  PROTOCOL_3_0,
  queryMessage,
  quoteIdent,
  SSL_REQUEST,
  scanBackendOutput,
  sqlText,
  startupPacketLength,
  typedMessageLength,
} from './wire.ts'

export interface EmbeddedServerOptions {
  /** PGlite data directory (created on first start). */
  pgdataDir: string
  /** Unix socket path to listen on; its directory is created 0700 so only this user can connect. */
  socketPath: string
  /**
   * A client may hold the session in an open transaction while others wait, but not idle for longer than this:
   * it is then disconnected and its transaction rolled back. Default 60 s.
   */
  transactionIdleTimeoutMs?: number
  /** Called once with no client connected, so the owner can start its idle countdown. */
  onConnectionsChanged?: (count: number) => void
}

/** Largest unit (messages up to a Sync) one client may send, to bound memory. */
const MAX_UNIT_BYTES = 256 * 1024 * 1024

/** Messages that end a unit: the server then runs the unit's messages back to back. */
const UNIT_ENDS = new Set<number>([
  Frontend.Query,
  Frontend.Sync,
  Frontend.Flush,
  Frontend.CopyDone,
  Frontend.CopyFail,
])

class Session {
  readonly id: number
  readonly socket: Socket
  buffer: Buffer = Buffer.alloc(0)
  started = false
  closed = false
  pending: Buffer[] = []
  pendingBytes = 0
  readonly channels = new Set<string>()

  constructor(id: number, socket: Socket) {
    this.id = id
    this.socket = socket
  }
}

type Work = { session: Session; messages: Buffer[] } | { session: null; run: () => Promise<void> }

/**
 * Owns one PGlite database and serves it to any number of `pg` clients over a unix socket.
 *
 * PGlite is a single Postgres session, so clients are multiplexed onto it in units: everything a client sends up
 * to a Sync (extended protocol) or a Query (simple protocol) runs back to back, so two clients' Parse/Bind/Execute
 * never interleave. A client whose unit leaves a transaction open owns the session until it is idle again; other
 * clients' units wait. LISTEN is tracked per client and notifications go only to the clients listening.
 *
 * Session-level state (SET without LOCAL, named prepared statements, temp tables) is shared by all clients: use
 * SET LOCAL inside transactions and unnamed statements, as kysely and pg do by default.
 */
export class EmbeddedBrainServer {
  readonly socketPath: string
  readonly startedAt = new Date()
  readonly #db: PGlite
  readonly #server: Server
  readonly #startup: Buffer
  readonly #transactionIdleTimeoutMs: number
  readonly #onConnectionsChanged: ((count: number) => void) | undefined
  readonly #sessions = new Set<Session>()
  #queue: Work[] = []
  #owner: Session | null = null
  #running: Session | null = null
  #pumping = false
  #ownerTimer: NodeJS.Timeout | undefined
  #nextId = 1
  #units = 0
  #stopping: Promise<void> | undefined

  private constructor(db: PGlite, server: Server, startup: Buffer, options: EmbeddedServerOptions) {
    this.#db = db
    this.#server = server
    this.#startup = startup
    this.socketPath = options.socketPath
    this.#transactionIdleTimeoutMs = options.transactionIdleTimeoutMs ?? 60_000
    this.#onConnectionsChanged = options.onConnectionsChanged
  }

  /**
   * Opens (or creates) the database and starts listening. The caller must already hold the data directory's lock.
   *
   * @example
   * const server = await EmbeddedBrainServer.start({ pgdataDir: '/home/me/.dstack/brain/pgdata',
   *   socketPath: '/home/me/.dstack/brain/run/.s.PGSQL.5432' })
   */
  static async start(options: EmbeddedServerOptions): Promise<EmbeddedBrainServer> {
    mkdirSync(options.pgdataDir, { recursive: true, mode: 0o700 })
    // 16 MB of shared buffers (Postgres' default is 128 MB) keeps the server ~70 MB smaller; the brain is small.
    const db = await PGlite.create(options.pgdataDir, {
      startParams: [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'],
    })
    // One startup exchange, replayed to every client: authentication is the socket's file permissions.
    const startup = Buffer.from(await db.execProtocolRaw(startupMessage()))
    if (scanBackendOutput(startup).status !== 'I') {
      await db.close()
      throw new Error('PGlite did not accept the startup message')
    }
    const socketDir = dirname(options.socketPath)
    mkdirSync(socketDir, { recursive: true, mode: 0o700 })
    chmodSync(socketDir, 0o700)
    // We hold the data directory lock, so a socket file here can only be a crashed predecessor's.
    rmSync(options.socketPath, { force: true })
    const server = createServer()
    const instance = new EmbeddedBrainServer(db, server, startup, options)
    server.on('connection', (socket) => instance.#accept(socket))
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(options.socketPath, () => {
          server.off('error', reject)
          resolve()
        })
      })
      chmodSync(options.socketPath, 0o600)
    } catch (error) {
      await db.close()
      throw error
    }
    return instance
  }

  /** Connected clients and units served so far. */
  stats(): { connections: number; units: number; startedAt: Date } {
    return { connections: this.#sessions.size, units: this.#units, startedAt: this.startedAt }
  }

  /**
   * Stops accepting clients, lets the unit in flight finish, disconnects everyone (rolling back an open
   * transaction) and closes the database so every committed write is on disk.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#shutdown()
    return this.#stopping
  }

  async #shutdown(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()))
    this.#queue = this.#queue.filter((work) => work.session === null)
    for (let waited = 0; this.#pumping && waited < 10_000; waited += 10) await sleep(10)
    for (const session of [...this.#sessions]) this.#close(session)
    for (let waited = 0; this.#pumping && waited < 10_000; waited += 10) await sleep(10)
    if (this.#db.isInTransaction()) await this.#db.execProtocolRaw(queryMessage('ROLLBACK'))
    this.#clearOwnerTimer()
    await this.#db.close()
    await closed
  }

  #accept(socket: Socket): void {
    if (this.#stopping) {
      socket.destroy()
      return
    }
    const session = new Session(this.#nextId++, socket)
    this.#sessions.add(session)
    this.#onConnectionsChanged?.(this.#sessions.size)
    socket.setNoDelay(true)
    socket.on('data', (chunk) => this.#receive(session, chunk))
    socket.on('error', () => this.#close(session))
    socket.on('close', () => this.#close(session))
  }

  #receive(session: Session, chunk: Buffer): void {
    if (session.closed) return
    session.buffer = session.buffer.length === 0 ? chunk : Buffer.concat([session.buffer, chunk])
    while (session.buffer.length > 0 && !session.closed) {
      const consumed = session.started ? this.#readMessage(session) : this.#readStartup(session)
      if (consumed <= 0) break
      session.buffer = session.buffer.subarray(consumed)
    }
  }

  /** Handles one startup-phase packet; returns bytes consumed, 0 when incomplete. */
  #readStartup(session: Session): number {
    const length = startupPacketLength(session.buffer)
    if (length < 0) {
      this.#fail(session, '08P01', 'invalid startup packet')
      return 0
    }
    if (length === 0) return 0
    const code = session.buffer.readInt32BE(4)
    if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
      session.socket.write('N') // no encryption on a local socket
    } else if (code === CANCEL_REQUEST) {
      this.#close(session) // PGlite cannot cancel a running statement
      return 0
    } else if (code >>> 16 === 3) {
      session.started = true
      session.socket.write(this.#startup)
    } else {
      this.#fail(session, '0A000', `unsupported frontend protocol ${code >>> 16}.${code & 0xffff}`)
      return 0
    }
    return length
  }

  /** Reads one typed message into the session's current unit; returns bytes consumed, 0 when incomplete. */
  #readMessage(session: Session): number {
    const length = typedMessageLength(session.buffer)
    if (length < 0) {
      this.#fail(session, '08P01', 'invalid message length')
      return 0
    }
    if (length === 0) return 0
    const msg = Buffer.from(session.buffer.subarray(0, length))
    const type = msg[0]!
    if (type === Frontend.Terminate) {
      this.#close(session)
      return 0
    }
    session.pending.push(msg)
    session.pendingBytes += length
    if (session.pendingBytes > MAX_UNIT_BYTES) {
      this.#fail(session, '54000', `a request over ${MAX_UNIT_BYTES} bytes is refused`)
      return 0
    }
    if (UNIT_ENDS.has(type)) {
      this.#queue.push({ session, messages: session.pending })
      session.pending = []
      session.pendingBytes = 0
      void this.#pump()
    }
    return length
  }

  /** Runs queued work one unit at a time; while a client owns the session, only its units run. */
  async #pump(): Promise<void> {
    if (this.#pumping) return
    this.#pumping = true
    try {
      for (;;) {
        const owner = this.#owner
        const index = owner ? this.#queue.findIndex((work) => work.session === owner) : 0
        if (index < 0 || this.#queue.length === 0) break
        const [work] = this.#queue.splice(index, 1)
        if (!work) break
        if (work.session === null) await work.run()
        else await this.#execute(work.session, work.messages)
      }
    } finally {
      this.#pumping = false
    }
  }

  async #execute(session: Session, messages: Buffer[]): Promise<void> {
    if (session.closed) return
    this.#clearOwnerTimer()
    this.#running = session
    let unlistened = false
    for (const msg of messages) {
      const sql = sqlText(msg)
      if (sql !== null) unlistened = this.#trackListen(session, sql) || unlistened
    }
    let scanned: ReturnType<typeof scanBackendOutput>
    try {
      // PGlite runs every message of the buffer in one call, as a server reading them off its socket would.
      scanned = scanBackendOutput(
        await this.#db.execProtocolRaw(messages.length === 1 ? messages[0]! : Buffer.concat(messages)),
      )
      if (unlistened) await this.#relisten()
    } catch (error) {
      // PGlite itself failed (not an SQL error, which comes back as output): drop this client, keep serving others.
      this.#running = null
      if (this.#db.isInTransaction()) await this.#db.execProtocolRaw(queryMessage('ROLLBACK'))
      if (this.#owner === session) this.#owner = null
      this.#fail(session, 'XX000', `embedded brain: ${(error as Error).message}`)
      return
    }
    this.#running = null
    this.#units++
    // A unit that did not end idle (open or failed transaction, or a pipeline flushed before its Sync) keeps the
    // session for this client.
    const keepsSession = scanned.status !== 'I'
    if (session.closed) {
      if (keepsSession) await this.#db.execProtocolRaw(queryMessage('ROLLBACK'))
      this.#owner = null
    } else {
      session.socket.write(scanned.output)
      this.#owner = keepsSession ? session : null
      if (keepsSession) this.#armOwnerTimer()
    }
    this.#route(scanned.notifications)
  }

  /** Records LISTEN/UNLISTEN for routing; returns true when something was unlistened. */
  #trackListen(session: Session, sql: string): boolean {
    let unlistened = false
    for (const statement of listenStatements(sql)) {
      if (statement.listen) session.channels.add(statement.channel)
      else {
        unlistened = true
        if (statement.channel === '*') session.channels.clear()
        else session.channels.delete(statement.channel)
      }
    }
    return unlistened
  }

  /** One client's UNLISTEN unsubscribed the shared session: listen again to what other clients still want. */
  async #relisten(): Promise<void> {
    const wanted = new Set<string>()
    for (const session of this.#sessions) for (const channel of session.channels) wanted.add(channel)
    for (const channel of wanted)
      await this.#db.execProtocolRaw(queryMessage(`LISTEN ${quoteIdent(channel)}`))
  }

  #route(notifications: Notification[]): void {
    for (const notification of notifications) {
      for (const session of this.#sessions) {
        if (!session.closed && session.channels.has(notification.channel))
          session.socket.write(notification.raw)
      }
    }
  }

  #armOwnerTimer(): void {
    this.#clearOwnerTimer()
    const owner = this.#owner
    if (!owner) return
    this.#ownerTimer = setTimeout(() => {
      if (this.#owner !== owner || this.#running === owner) return
      this.#fail(
        owner,
        '25P03',
        `idle in transaction for over ${this.#transactionIdleTimeoutMs / 1000} s: the embedded brain runs one ` +
          'transaction at a time, so an idle one blocks every other client',
      )
    }, this.#transactionIdleTimeoutMs)
    this.#ownerTimer.unref()
  }

  #clearOwnerTimer(): void {
    if (this.#ownerTimer) clearTimeout(this.#ownerTimer)
    this.#ownerTimer = undefined
  }

  /** Sends a FATAL error and disconnects. */
  #fail(session: Session, code: string, text: string): void {
    if (!session.closed && session.socket.writable) session.socket.write(errorResponse('FATAL', code, text))
    this.#close(session)
  }

  #close(session: Session): void {
    if (session.closed) return
    session.closed = true
    session.socket.end()
    session.socket.destroySoon()
    this.#sessions.delete(session)
    this.#queue = this.#queue.filter((work) => work.session !== session)
    if (this.#owner === session && this.#running !== session) {
      // It left a transaction open: roll it back before anyone else runs.
      this.#owner = null
      this.#clearOwnerTimer()
      this.#queue.unshift({
        session: null,
        run: async () => {
          if (this.#db.isInTransaction()) await this.#db.execProtocolRaw(queryMessage('ROLLBACK'))
        },
      })
      void this.#pump()
    }
    this.#onConnectionsChanged?.(this.#sessions.size)
  }
}

function startupMessage(): Uint8Array {
  const params = Buffer.from('user\0postgres\0database\0postgres\0\0')
  const packet = Buffer.alloc(8 + params.length)
  packet.writeInt32BE(packet.length, 0)
  packet.writeInt32BE(PROTOCOL_3_0, 4)
  params.copy(packet, 8)
  return packet
}

// Just enough of the Postgres v3 wire protocol to multiplex clients onto one PGlite session: message framing,
// the startup-phase requests, and the few backend messages the server has to read or write itself.
// Reference: https://www.postgresql.org/docs/current/protocol-message-formats.html

export const PROTOCOL_3_0 = 196608
export const SSL_REQUEST = 80877103
export const GSSENC_REQUEST = 80877104
export const CANCEL_REQUEST = 80877102

/** Frontend message types the server reacts to. */
export const Frontend = {
  Query: 0x51, // 'Q'  simple query: a unit of its own
  Parse: 0x50, // 'P'
  Sync: 0x53, // 'S'  ends an extended-protocol unit
  Flush: 0x48, // 'H'  asks for output without ending the unit
  Terminate: 0x58, // 'X'
  CopyDone: 0x63, // 'c'
  CopyFail: 0x66, // 'f'
} as const

/** Backend message types the server reads. */
export const Backend = {
  ReadyForQuery: 0x5a, // 'Z'
  NotificationResponse: 0x41, // 'A'
} as const

/** A startup-phase packet: [int32 length][int32 code][payload]. Returns its length once complete, else 0. */
export function startupPacketLength(buffer: Buffer): number {
  if (buffer.length < 8) return 0
  const length = buffer.readInt32BE(0)
  if (length < 8 || length > 10_000) return -1 // not a Postgres client
  return buffer.length >= length ? length : 0
}

/** A typed message: [byte type][int32 length incl. itself][payload]. Returns its full length once complete, else 0. */
export function typedMessageLength(buffer: Buffer, offset = 0): number {
  if (buffer.length - offset < 5) return 0
  const length = buffer.readInt32BE(offset + 1)
  if (length < 4) return -1
  return buffer.length - offset >= length + 1 ? length + 1 : 0
}

function cstring(value: string): Buffer {
  return Buffer.concat([Buffer.from(value, 'utf8'), Buffer.from([0])])
}

function message(type: number, body: Buffer): Buffer {
  const header = Buffer.alloc(5)
  header[0] = type
  header.writeInt32BE(body.length + 4, 1)
  return Buffer.concat([header, body])
}

/** A simple-protocol Query message. */
export function queryMessage(sql: string): Buffer {
  return message(Frontend.Query, cstring(sql))
}

/** An ErrorResponse ('E') with severity, SQLSTATE and text. */
export function errorResponse(severity: 'ERROR' | 'FATAL', code: string, text: string): Buffer {
  return message(
    0x45,
    Buffer.concat([
      Buffer.from('S'),
      cstring(severity),
      Buffer.from('V'),
      cstring(severity),
      Buffer.from('C'),
      cstring(code),
      Buffer.from('M'),
      cstring(text),
      Buffer.from([0]),
    ]),
  )
}

/** The SQL text of a Query or Parse message (Parse: [name\0][query\0]...). */
export function sqlText(msg: Buffer): string | null {
  const type = msg[0]
  if (type === Frontend.Query) return msg.toString('utf8', 5, msg.length - 1)
  if (type === Frontend.Parse) {
    const nameEnd = msg.indexOf(0, 5)
    const queryEnd = msg.indexOf(0, nameEnd + 1)
    return nameEnd < 0 || queryEnd < 0 ? null : msg.toString('utf8', nameEnd + 1, queryEnd)
  }
  return null
}

/** A notification read out of backend output. */
export interface Notification {
  channel: string
  /** The complete 'A' message, ready to forward. */
  raw: Buffer
}

export interface ScannedOutput {
  /** Output with NotificationResponse messages removed (they are routed to their listeners instead). */
  output: Buffer
  notifications: Notification[]
  /** Transaction status of the last ReadyForQuery: 'I' idle, 'T' in a transaction, 'E' failed transaction. */
  status: 'I' | 'T' | 'E' | null
}

/** Splits backend output into what goes back to the caller and the notifications to route. */
export function scanBackendOutput(data: Uint8Array): ScannedOutput {
  const buffer = Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  const notifications: Notification[] = []
  const kept: Buffer[] = []
  let status: ScannedOutput['status'] = null
  let offset = 0
  let keptFrom = 0
  while (offset < buffer.length) {
    const length = typedMessageLength(buffer, offset)
    if (length <= 0) break
    const type = buffer[offset]
    if (type === Backend.ReadyForQuery) {
      status = String.fromCharCode(buffer[offset + 5] ?? 0x49) as 'I' | 'T' | 'E'
    } else if (type === Backend.NotificationResponse) {
      const channelStart = offset + 9 // type + length + int32 pid
      const channelEnd = buffer.indexOf(0, channelStart)
      notifications.push({
        channel: buffer.toString('utf8', channelStart, channelEnd),
        raw: Buffer.from(buffer.subarray(offset, offset + length)),
      })
      kept.push(buffer.subarray(keptFrom, offset))
      keptFrom = offset + length
    }
    offset += length
  }
  if (notifications.length === 0) return { output: buffer, notifications, status }
  kept.push(buffer.subarray(keptFrom))
  return { output: Buffer.concat(kept), notifications, status }
}

const LISTEN_STATEMENT = /(?:^|;)\s*(LISTEN|UNLISTEN)\s+("(?:[^"]|"")+"|[A-Za-z_][\w$]*|\*)/gi

/** LISTEN / UNLISTEN statements in a piece of SQL, with channel names as Postgres folds them. */
export function listenStatements(sql: string): Array<{ listen: boolean; channel: string }> {
  const found: Array<{ listen: boolean; channel: string }> = []
  for (const match of sql.matchAll(LISTEN_STATEMENT)) {
    const verb = match[1]!.toUpperCase()
    const name = match[2]!
    const channel = name.startsWith('"') ? name.slice(1, -1).replaceAll('""', '"') : name.toLowerCase()
    found.push({ listen: verb === 'LISTEN', channel })
  }
  return found
}

/** Quotes a channel name for a LISTEN statement. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

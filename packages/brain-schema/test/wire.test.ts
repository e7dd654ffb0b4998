import { describe, expect, it } from 'vitest'
import {
  errorResponse,
  listenStatements,
  queryMessage,
  scanBackendOutput,
  sqlText,
  typedMessageLength,
} from '../src/embedded/wire.ts'

function backend(type: string, body: Buffer): Buffer {
  const header = Buffer.alloc(5)
  header.write(type, 0, 'latin1')
  header.writeInt32BE(body.length + 4, 1)
  return Buffer.concat([header, body])
}

const notification = (channel: string, payload: string) =>
  backend('A', Buffer.concat([Buffer.from([0, 0, 0, 1]), Buffer.from(`${channel}\0${payload}\0`)]))

describe('wire helpers', () => {
  it('frames typed messages and reports incomplete or corrupt ones', () => {
    const q = queryMessage('select 1')
    expect(typedMessageLength(q)).toBe(q.length)
    expect(typedMessageLength(q.subarray(0, q.length - 1))).toBe(0)
    expect(typedMessageLength(Buffer.from([0x51, 0, 0, 0, 1]))).toBe(-1)
    expect(sqlText(q)).toBe('select 1')
  })

  it('pulls notifications out of backend output and reads the transaction status', () => {
    const complete = backend('C', Buffer.from('SELECT 1\0'))
    const ready = backend('Z', Buffer.from('T'))
    const scanned = scanBackendOutput(Buffer.concat([complete, notification('ch', 'hi'), ready]))
    expect(scanned.status).toBe('T')
    expect(scanned.notifications.map((n) => n.channel)).toEqual(['ch'])
    expect(scanned.output).toEqual(Buffer.concat([complete, ready]))
  })

  it('finds LISTEN/UNLISTEN statements with Postgres identifier folding', () => {
    expect(listenStatements(`LISTEN Foo; select 1; unlisten "Bar""x"; UNLISTEN *`)).toEqual([
      { listen: true, channel: 'foo' },
      { listen: false, channel: 'Bar"x' },
      { listen: false, channel: '*' },
    ])
    expect(listenStatements(`select 'listen here'`)).toEqual([])
  })

  it('builds an ErrorResponse with severity, code and message', () => {
    const text = errorResponse('FATAL', '08P01', 'bad').toString('latin1')
    expect(text.startsWith('E')).toBe(true)
    expect(text).toContain('SFATAL\0')
    expect(text).toContain('C08P01\0')
    expect(text).toContain('Mbad\0')
  })
})

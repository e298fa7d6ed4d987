// One buffered event on disk: a line `<crc32 as 8 hex digits><event JSON>\n`. JSON never holds a
// raw newline, so a damaged record never hides its neighbours: framing resumes at the next line.
import { crc32 } from 'node:zlib'
import type { SerializedEvent } from '@meterkit/core'

const NEWLINE = 0x0a
const HEX8 = /^[0-9a-f]{8}$/

export function encodeRecord(event: SerializedEvent): Buffer {
  const line = Buffer.allocUnsafe(8 + event.bytes + 1)
  const written = line.write(event.json, 8, 'utf8')
  const payload = line.subarray(8, 8 + written)
  line.write(crc32(payload).toString(16).padStart(8, '0'), 0, 'latin1')
  line[8 + written] = NEWLINE
  return written === event.bytes ? line : line.subarray(0, 8 + written + 1)
}

export interface DecodedRecord extends SerializedEvent {
  /** Bytes of the whole line, newline included. */
  readonly lineBytes: number
}

export interface DecodeResult {
  records: DecodedRecord[]
  /** Bytes consumed: up to and including the last complete line looked at. */
  consumed: number
  /** Complete lines that failed their checksum or did not hold an event. */
  corrupt: number
}

/**
 * Decodes complete lines from `chunk`, stopping after `maxRecords` records or before the record
 * that would take the payload total past `maxBytes` (the first record is taken regardless when
 * `takeFirst`, so that an event larger than the limit still travels).
 */
export function decodeRecords(chunk: Buffer, maxRecords = Infinity, maxBytes = Infinity, takeFirst = true): DecodeResult {
  const records: DecodedRecord[] = []
  let consumed = 0
  let corrupt = 0
  let bytes = 0
  while (records.length < maxRecords) {
    const nl = chunk.indexOf(NEWLINE, consumed)
    if (nl < 0) break
    const record = decodeLine(chunk.subarray(consumed, nl), nl + 1 - consumed)
    if (record === undefined) corrupt++
    else {
      if ((records.length > 0 || !takeFirst) && bytes + record.bytes > maxBytes) break
      bytes += record.bytes
      records.push(record)
    }
    consumed = nl + 1
  }
  return { records, consumed, corrupt }
}

function decodeLine(line: Buffer, lineBytes: number): DecodedRecord | undefined {
  if (line.length < 9) return undefined
  const hex = line.toString('latin1', 0, 8)
  if (!HEX8.test(hex)) return undefined
  const payload = line.subarray(8)
  if (crc32(payload) !== Number.parseInt(hex, 16)) return undefined
  const json = payload.toString('utf8')
  try {
    const event = JSON.parse(json) as { id?: unknown }
    if (typeof event !== 'object' || event === null || typeof event.id !== 'string') return undefined
    return { id: event.id, json, bytes: payload.length, lineBytes }
  } catch {
    return undefined
  }
}

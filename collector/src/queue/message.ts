// The messages of the event stream: one per partition of an accepted batch, holding that part's
// validated events with their tenant, source and receive time, so that a worker stores exactly
// what the collector validated. Version 1, JSON:
//
//   { "v": 1, "t": tenantId, "s": source, "r": receivedAtMs,
//     "e": [ [id, event, customerId, timestampMs, properties, reservationId | null], … ] }
//
// `properties` is embedded as the JSON the collector serialized (no second encoding).
import { createHash } from 'node:crypto'
import type { EventSource, IngestBatch } from '@meterkit/engine'
import type { ValidEvent } from '@meterkit/protocol'

export const MESSAGE_VERSION = 1

const SOURCES = new Set<EventSource>(['server', 'browser', 'import'])

export function encodeBatch(tenantId: number, source: EventSource, receivedAtMs: number, events: readonly ValidEvent[]): string {
  let out = `{"v":${MESSAGE_VERSION},"t":${tenantId},"s":"${source}","r":${receivedAtMs},"e":[`
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!
    out += `${i === 0 ? '' : ','}[${JSON.stringify(e.id)},${JSON.stringify(e.event)},${JSON.stringify(e.customerId)},${e.timestampMs},${e.propertiesJson},${e.reservationId === undefined ? 'null' : JSON.stringify(e.reservationId)}]`
  }
  return `${out}]}`
}

/**
 * The `Nats-Msg-Id` of a message: a digest of its tenant, source and event ids. A batch sent again
 * (a lost answer, a retry) is cut into the same messages with the same ids, and JetStream drops
 * the copies it still remembers; the database's unique key catches the rest.
 */
export function messageId(tenantId: number, source: EventSource, events: readonly ValidEvent[]): string {
  const hash = createHash('sha256').update(`${tenantId}\n${source}`)
  for (const e of events) hash.update(`\n${e.id}`)
  return hash.digest('base64url')
}

export class MessageError extends Error {}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** The batch a message holds; throws a MessageError naming what is wrong with it. */
export function decodeBatch(data: Uint8Array | string): IngestBatch {
  let body: unknown
  try {
    body = JSON.parse(typeof data === 'string' ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'))
  } catch (err) {
    throw new MessageError(`not JSON: ${(err as Error).message}`)
  }
  if (!isObject(body)) throw new MessageError('not a JSON object')
  if (body.v !== MESSAGE_VERSION) throw new MessageError(`v: version ${String(body.v)} is not ${MESSAGE_VERSION}`)
  const { t: tenantId, s: source, r: receivedAtMs, e: rows } = body
  if (!Number.isSafeInteger(tenantId)) throw new MessageError('t: must be a tenant id')
  if (typeof source !== 'string' || !SOURCES.has(source as EventSource)) throw new MessageError('s: must be server, browser or import')
  if (!Number.isSafeInteger(receivedAtMs)) throw new MessageError('r: must be a time in ms')
  if (!Array.isArray(rows) || rows.length === 0) throw new MessageError('e: must hold events')
  const events = rows.map((row: unknown, i): ValidEvent => {
    if (!Array.isArray(row) || row.length !== 6) throw new MessageError(`e[${i}]: must be an event row of 6 fields`)
    const [id, event, customerId, timestampMs, properties, reservationId] = row as unknown[]
    if (typeof id !== 'string' || typeof event !== 'string' || typeof customerId !== 'string' || !Number.isSafeInteger(timestampMs)
      || !isObject(properties) || (reservationId !== null && typeof reservationId !== 'string')) {
      throw new MessageError(`e[${i}]: fields of the wrong types`)
    }
    return {
      id, event, customerId, timestampMs: timestampMs as number,
      properties: properties as ValidEvent['properties'],
      // JSON.stringify of what JSON.parse made of the collector's JSON.stringify is that same text.
      propertiesJson: JSON.stringify(properties),
      reservationId: reservationId ?? undefined,
    }
  })
  return { tenantId: tenantId as number, source: source as EventSource, receivedAtMs: receivedAtMs as number, events }
}

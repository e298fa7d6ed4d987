// The content hash tells a duplicate (same id, same content) from a conflict (same id, other
// content). It covers everything the client sent, in a canonical form: key order and the
// timestamp's offset notation do not change it.
import { createHash } from 'node:crypto'
import type { JsonValue, ValidEvent } from '@meterkit/protocol'

export function canonicalJson(value: JsonValue | undefined): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null'
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  const keys = Object.keys(value).sort()
  let out = '{'
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!
    if (i > 0) out += ','
    out += `${JSON.stringify(key)}:${canonicalJson(value[key])}`
  }
  return `${out}}`
}

/** 16 bytes of SHA-256 over the event's canonical content. */
export function contentHash(event: ValidEvent): Buffer {
  return createHash('sha256')
    .update(event.event)
    .update('\u0000')
    .update(event.customerId)
    .update('\u0000')
    .update(String(event.timestampMs))
    .update('\u0000')
    .update(event.reservationId ?? '')
    .update('\u0000')
    .update(canonicalJson(event.properties))
    .digest()
    .subarray(0, 16)
}

// track()'s input, its cheap synchronous checks, and the event serialized once: the JSON string
// is what sits in the queue, goes into batch bodies and the disk buffer, so the content (and the
// collector's duplicate-vs-conflict verdict) never changes across retries. Full validation is
// the collector's job; here we catch only programmer errors, fast.
import {
  CONTROL_CHARACTERS,
  ID_PATTERN,
  MAX_CUSTOMER_ID_LENGTH,
  MAX_EVENT_BYTES,
  MAX_EVENT_NAME_LENGTH,
  MAX_ID_LENGTH,
  formatTimestamp,
} from '@meterkit/protocol'
import { MeterkitValidationError } from './errors.js'
import { readTimestamp } from './timestamp.js'

export interface TrackInput {
  event: string
  customerId: string
  properties?: Record<string, unknown>
  /** Idempotency key; default a UUIDv7. */
  id?: string
  /** Default now. A Date, epoch milliseconds, or an RFC 3339 string. */
  timestamp?: Date | number | string
  reservationId?: string
}

/** One event as it travels: its id, its serialized JSON and that JSON's UTF-8 size. */
export interface SerializedEvent {
  readonly id: string
  readonly json: string
  readonly bytes: number
}

/** An event in this process's memory, numbered in track() order (flush() waits by number). */
export class QueuedEvent implements SerializedEvent {
  constructor(
    readonly id: string,
    readonly json: string,
    readonly bytes: number,
    readonly seq: number,
  ) {}
}

function checkName(field: string, value: unknown, max: number): void {
  if (typeof value !== 'string') {
    throw new MeterkitValidationError(field, value === undefined ? 'is required' : 'must be a string')
  }
  if (value.length === 0 || value.length > max || !ID_PATTERN.test(value)) {
    throw new MeterkitValidationError(field, `must be 1–${max} characters of A-Za-z0-9._:-`)
  }
}

/** Walks properties for values JSON cannot carry faithfully; answers the first as [path, rule]. */
function findNonJson(value: unknown, path: string, depth: number): [string, string] | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined
    case 'number':
      return Number.isFinite(value) ? undefined : [path, 'must be a finite number']
    case 'object': {
      if (value === null || depth > 32) return undefined // deeper: JSON.stringify finds cycles
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          const bad = findNonJson(value[i], `${path}[${i}]`, depth + 1)
          if (bad !== undefined) return bad
        }
        return undefined
      }
      if (value instanceof Date) return undefined
      const proto = Object.getPrototypeOf(value)
      if (proto !== Object.prototype && proto !== null) return [path, 'must be a plain object, an array or a JSON value']
      for (const key in value) {
        const v = (value as Record<string, unknown>)[key]
        if (v === undefined) continue // dropped by JSON, as users expect
        const bad = findNonJson(v, `${path}.${key}`, depth + 1)
        if (bad !== undefined) return bad
      }
      return undefined
    }
    default:
      return [path, `is not JSON (${typeof value})`]
  }
}

/** The formatted second (`2026-11-25T10:00:00.`) of the last timestamp, reused within that second. */
let cachedSecond = Number.NaN
let cachedPrefix = ''
const MAX_FAST_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999)

function formatFast(ms: number): string {
  if (ms < 0 || ms > MAX_FAST_MS) return formatTimestamp(ms)
  const second = Math.floor(ms / 1000)
  if (second !== cachedSecond) {
    cachedPrefix = formatTimestamp(second * 1000).slice(0, 20)
    cachedSecond = second
  }
  const milli = ms - second * 1000
  return cachedPrefix + (milli < 10 ? '00' : milli < 100 ? '0' : '') + milli + 'Z'
}

const scratch = new Uint8Array(MAX_EVENT_BYTES + 4)
const encoder = new TextEncoder()

/** UTF-8 size of `json`, exact up to MAX_EVENT_BYTES; anything larger answers MAX_EVENT_BYTES + 1 or more. */
function eventBytes(json: string): number {
  if (json.length > MAX_EVENT_BYTES) return json.length
  const { read, written } = encoder.encodeInto(json, scratch)
  return read < json.length ? MAX_EVENT_BYTES + 1 : written
}

function timestampOf(input: TrackInput['timestamp'], nowMs: number): string {
  let ms: number
  if (input === undefined) ms = nowMs
  else if (input instanceof Date) ms = input.getTime()
  else if (typeof input === 'number') ms = input
  else if (typeof input === 'string') ms = readTimestamp(input) ?? Number.NaN
  else throw new MeterkitValidationError('timestamp', 'must be a Date, epoch milliseconds or an RFC 3339 string')
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) {
    throw new MeterkitValidationError('timestamp', 'must be a valid date (RFC 3339, e.g. 2026-11-25T10:00:00.000Z)')
  }
  return formatFast(Math.trunc(ms))
}

/**
 * Checks the event's shape and serializes it. Throws MeterkitValidationError for programmer
 * errors only: missing or malformed `event`/`customerId`/`id`, non-JSON properties, an event
 * over MAX_EVENT_BYTES.
 */
export function serializeEvent(input: TrackInput, nowMs: number, newId: (nowMs: number) => string, seq: number): QueuedEvent {
  if (typeof input !== 'object' || input === null) {
    throw new MeterkitValidationError('event', 'track() takes an object { event, customerId, … }')
  }
  checkName('event', input.event, MAX_EVENT_NAME_LENGTH)
  const customerId = input.customerId
  if (typeof customerId !== 'string') {
    throw new MeterkitValidationError('customerId', customerId === undefined ? 'is required' : 'must be a string')
  }
  if (customerId.length === 0 || customerId.length > MAX_CUSTOMER_ID_LENGTH || CONTROL_CHARACTERS.test(customerId)) {
    throw new MeterkitValidationError('customerId', `must be 1–${MAX_CUSTOMER_ID_LENGTH} characters, no control characters`)
  }
  let id = input.id
  if (id === undefined) id = newId(nowMs)
  else checkName('id', id, MAX_ID_LENGTH)
  if (input.reservationId !== undefined) checkName('reservationId', input.reservationId, MAX_ID_LENGTH)
  const properties = input.properties
  if (properties !== undefined) {
    if (typeof properties !== 'object' || properties === null || Array.isArray(properties)) {
      throw new MeterkitValidationError('properties', 'must be a plain JSON object')
    }
    const bad = findNonJson(properties, 'properties', 1)
    if (bad !== undefined) throw new MeterkitValidationError(bad[0], bad[1])
  }
  const wire = {
    id,
    event: input.event,
    customerId,
    timestamp: timestampOf(input.timestamp, nowMs),
    properties,
    reservationId: input.reservationId,
  }
  let json: string
  try {
    json = JSON.stringify(wire)
  } catch (err) {
    throw new MeterkitValidationError('properties', `cannot be serialized as JSON (${(err as Error).message})`)
  }
  const bytes = eventBytes(json)
  if (bytes > MAX_EVENT_BYTES) {
    throw new MeterkitValidationError('event', `serialized size ${bytes} bytes is over the ${MAX_EVENT_BYTES}-byte limit`)
  }
  return new QueuedEvent(id, json, bytes, seq)
}

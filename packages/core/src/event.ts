// track()'s input, its cheap synchronous checks, and the queued event. serializeEvent checks the
// event and writes its JSON at once, the compact path of browsers and edge runtimes; Node's
// track() takes captureEvent (capture-event.ts), which writes it later. Either way the content
// (and the collector's duplicate-vs-conflict verdict) never changes across retries. Full
// validation is the collector's job; here we catch only programmer errors.
import {
  CONTROL_CHARACTERS,
  ID_PATTERN,
  MAX_CUSTOMER_ID_LENGTH,
  MAX_EVENT_BYTES,
  MAX_EVENT_NAME_LENGTH,
  MAX_ID_LENGTH,
} from '@meterkit/protocol'
import { MeterkitValidationError } from './errors.js'
import { formatTimestamp } from '@meterkit/protocol'
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

/**
 * Where a queued event stands with the disk buffer in durability 'track' (mirror.ts): `none`
 * (not mirrored: durability 'flush', or its write was refused or failed), `pending` (waiting for
 * the next group append), `writing` (in one under way), `on_disk` (its claimed copy is on disk,
 * under `token`), `released` (settled by the memory path: nothing more to write or acknowledge).
 */
export type DiskState = 'none' | 'pending' | 'writing' | 'on_disk' | 'released'

/**
 * An event in this process's memory, numbered in track() order (flush() waits by number), with
 * its JSON written at track() (serializeEvent) or, for a CapturedEvent (capture-event.ts, Node),
 * when it joins a batch. `render()` answers the JSON without keeping it, for a copy on disk of an
 * event still queued. `sizeBound` (exact once written) is what the queue counts, so its running
 * total never changes under it.
 */
export class QueuedEvent implements SerializedEvent {
  /** The disk buffer's token for this event's claimed copy (durability 'track'). */
  token = 0
  disk: DiskState = 'none'
  /** The JSON (empty while a CapturedEvent's is not written yet). */
  protected text: string
  /** Its UTF-8 size (-1 while not written). */
  protected size: number

  constructor(readonly id: string, readonly seq: number, readonly sizeBound: number, json: string, bytes: number) {
    this.text = json
    this.size = bytes
  }

  /** An event whose JSON is already written (read back, or serialized at track()). */
  static serialized(id: string, json: string, bytes: number, seq: number): QueuedEvent {
    return new QueuedEvent(id, seq, bytes, json, bytes)
  }

  get json(): string {
    return this.text
  }

  get bytes(): number {
    return this.size
  }

  /** The event's JSON, always the same text. */
  render(): string {
    return this.text
  }
}

/** The last event name that passed its check: most calls repeat it, and the test is a regex. */
let checkedName: string | undefined

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
        // Every element takes at least one byte and a comma: this many cannot fit in an event.
        if (value.length >= MAX_EVENT_BYTES / 2) {
          throw new MeterkitValidationError('event', `serialized size is over the ${MAX_EVENT_BYTES}-byte limit (${path} is an array of ${value.length} elements)`)
        }
        for (let i = 0; i < value.length; i++) {
          if (value[i] === undefined) continue // JSON writes holes and undefined as null
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

const scratch = new Uint8Array(MAX_EVENT_BYTES + 4)
const encoder = new TextEncoder()

/** UTF-8 size of `json`, without allocating up to MAX_EVENT_BYTES. */
export function eventBytes(json: string): number {
  if (json.length <= MAX_EVENT_BYTES) {
    const { read, written } = encoder.encodeInto(json, scratch)
    if (read === json.length) return written
  }
  return encoder.encode(json).length // too large: only for the error message
}

function timestampOf(input: TrackInput['timestamp'], nowMs: number): number {
  let ms: number
  if (input === undefined) return nowMs
  else if (input instanceof Date) ms = input.getTime()
  else if (typeof input === 'number') ms = input
  else if (typeof input === 'string') ms = readTimestamp(input) ?? Number.NaN
  else throw new MeterkitValidationError('timestamp', 'must be a Date, epoch milliseconds or an RFC 3339 string')
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) {
    throw new MeterkitValidationError('timestamp', 'must be a valid date (RFC 3339, e.g. 2026-11-25T10:00:00.000Z)')
  }
  return Math.trunc(ms)
}

export function tooLarge(bytes: number | string): MeterkitValidationError {
  return new MeterkitValidationError('event', `serialized size ${bytes} bytes is over the ${MAX_EVENT_BYTES}-byte limit`)
}

/**
 * The checks every path makes before the properties: `event`, `customerId`, `reservationId`,
 * `id` and `properties` well-formed; answers the event's time in epoch milliseconds.
 */
export function checkInput(input: TrackInput, nowMs: number): number {
  if (typeof input !== 'object' || input === null) {
    throw new MeterkitValidationError('event', 'track() takes an object { event, customerId, … }')
  }
  const name = input.event
  if (name !== checkedName) {
    checkName('event', name, MAX_EVENT_NAME_LENGTH)
    checkedName = name
  }
  const customerId = input.customerId
  if (typeof customerId !== 'string') {
    throw new MeterkitValidationError('customerId', customerId === undefined ? 'is required' : 'must be a string')
  }
  if (customerId.length === 0 || customerId.length > MAX_CUSTOMER_ID_LENGTH || CONTROL_CHARACTERS.test(customerId)) {
    throw new MeterkitValidationError('customerId', `must be 1–${MAX_CUSTOMER_ID_LENGTH} characters, no control characters`)
  }
  const reservationId = input.reservationId
  if (reservationId !== undefined) checkName('reservationId', reservationId, MAX_ID_LENGTH)
  if (input.id !== undefined) checkName('id', input.id, MAX_ID_LENGTH)
  const given: unknown = input.properties
  if (given !== undefined && (typeof given !== 'object' || given === null || Array.isArray(given))) {
    throw new MeterkitValidationError('properties', 'must be a plain JSON object')
  }
  return timestampOf(input.timestamp, nowMs)
}

/**
 * Checks and serializes an event at once, as a whole (serializeEvent, and captureEvent for
 * properties nested too deep to copy).
 */
export function serializeNow(input: TrackInput, id: string, timestampMs: number, seq: number): QueuedEvent {
  let bad: [string, string] | undefined
  let json = ''
  try {
    if (input.properties !== undefined) bad = findNonJson(input.properties, 'properties', 1)
    if (bad === undefined) json = JSON.stringify({
      id,
      event: input.event,
      customerId: input.customerId,
      timestamp: formatTimestamp(timestampMs),
      properties: input.properties,
      reservationId: input.reservationId,
    })
  } catch (err) {
    if (err instanceof MeterkitValidationError) throw err
    throw new MeterkitValidationError('properties', `cannot be serialized as JSON (${(err as Error)?.message ?? String(err)})`)
  }
  if (bad !== undefined) throw new MeterkitValidationError(bad[0], bad[1])
  const bytes = eventBytes(json)
  if (bytes > MAX_EVENT_BYTES) throw tooLarge(bytes)
  return QueuedEvent.serialized(id, json, bytes, seq)
}

/**
 * Checks an event and serializes it at once, as a whole: the exact path, and the default of
 * MeterkitCoreOptions.capture. Smaller than captureEvent (capture-event.ts: no copy, no bound);
 * captureEvent is faster, and Node passes it.
 */
export function serializeEvent(input: TrackInput, nowMs: number, newId: (nowMs: number) => string, seq: number): QueuedEvent {
  const timestampMs = checkInput(input, nowMs)
  if (input.properties instanceof Date) throw new MeterkitValidationError('properties', 'must be a plain JSON object')
  return serializeNow(input, input.id ?? newId(nowMs), timestampMs, seq)
}

// track()'s input, its cheap synchronous checks, and the queued event. track() captures the event
// (a private copy of its properties, its id and time fixed) and proves it under the size limit;
// the JSON is written once, later, when the event first joins a batch body or the disk buffer,
// and then kept: the content (and the collector's duplicate-vs-conflict verdict) never changes
// across retries. Full validation is the collector's job; here we catch only programmer errors.
import {
  CONTROL_CHARACTERS,
  ID_PATTERN,
  MAX_CUSTOMER_ID_LENGTH,
  MAX_EVENT_BYTES,
  MAX_EVENT_NAME_LENGTH,
  MAX_ID_LENGTH,
  utf8ByteLength,
} from '@meterkit/protocol'
import { CaptureError, UNIT_BOUND, captureProperties, capturedBound } from './capture.js'
import { MeterkitValidationError } from './errors.js'
import { formatTimestampFast, readTimestamp } from './timestamp.js'

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
 * An event in this process's memory, numbered in track() order (flush() waits by number). Its
 * JSON is written on first use of `json` or `bytes`; `sizeBound` (exact once written at track())
 * is what the queue counts, so its running total never changes under it.
 */
export class QueuedEvent implements SerializedEvent {
  /** The disk buffer's token for this event's claimed copy (durability 'track'). */
  token = 0
  disk: DiskState = 'none'
  #json: string | undefined
  #bytes: number
  #event: string
  #customerId: string
  #timestampMs: number
  #properties: Record<string, unknown> | undefined
  #reservationId: string | undefined

  constructor(
    readonly id: string,
    readonly seq: number,
    readonly sizeBound: number,
    event: string,
    customerId: string,
    timestampMs: number,
    properties: Record<string, unknown> | undefined,
    reservationId: string | undefined,
  ) {
    this.#json = undefined
    this.#bytes = 0
    this.#event = event
    this.#customerId = customerId
    this.#timestampMs = timestampMs
    this.#properties = properties
    this.#reservationId = reservationId
  }

  /** An event whose JSON is already written (read back, or serialized at track()). */
  static serialized(id: string, json: string, bytes: number, seq: number): QueuedEvent {
    const event = new QueuedEvent(id, seq, bytes, '', '', 0, undefined, undefined)
    event.#json = json
    event.#bytes = bytes
    return event
  }

  get json(): string {
    if (this.#json === undefined) this.#write()
    return this.#json!
  }

  get bytes(): number {
    if (this.#json === undefined) this.#write()
    return this.#bytes
  }

  #write(): void {
    // The captured copy holds JSON values only: this cannot throw.
    const json = JSON.stringify({
      id: this.id,
      event: this.#event,
      customerId: this.#customerId,
      timestamp: formatTimestampFast(this.#timestampMs),
      properties: this.#properties,
      reservationId: this.#reservationId,
    })
    this.#json = json
    this.#bytes = eventBytes(json)
    this.#properties = undefined // the JSON holds it now
  }
}

/** The last event name that passed its check: most calls repeat it, and the test is a regex. */
let checkedName = ''

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

const scratch = new Uint8Array(MAX_EVENT_BYTES + 4)
const encoder = new TextEncoder()

/** UTF-8 size of `json`, without allocating up to MAX_EVENT_BYTES. */
function eventBytes(json: string): number {
  if (json.length <= MAX_EVENT_BYTES) {
    const { read, written } = encoder.encodeInto(json, scratch)
    if (read === json.length) return written
  }
  return utf8ByteLength(json) // too large: only for the error message
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

/**
 * The JSON envelope around the fields, at most: `{"id":"","event":"","customerId":"",
 * "timestamp":"","properties":,"reservationId":""}` is 84 characters, a timestamp at most 27.
 */
const ENVELOPE_BOUND = 128

function tooLarge(bytes: number | string): MeterkitValidationError {
  return new MeterkitValidationError('event', `serialized size ${bytes} bytes is over the ${MAX_EVENT_BYTES}-byte limit`)
}

/**
 * Checks the event's shape and queues it: its id and timestamp are fixed and its properties
 * copied now. Throws MeterkitValidationError for programmer errors only: missing or malformed
 * `event`/`customerId`/`id`, non-JSON properties, an event over MAX_EVENT_BYTES serialized.
 */
export function captureEvent(input: TrackInput, nowMs: number, newId: (nowMs: number) => string, seq: number): QueuedEvent {
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
  const timestampMs = timestampOf(input.timestamp, nowMs)
  let properties: Record<string, unknown> | undefined
  let bound = ENVELOPE_BOUND + name.length + UNIT_BOUND * customerId.length + (reservationId?.length ?? 0)
  if (input.properties !== undefined) {
    const given: unknown = input.properties
    if (typeof given !== 'object' || given === null || Array.isArray(given)) {
      throw new MeterkitValidationError('properties', 'must be a plain JSON object')
    }
    try {
      properties = captureProperties(given)
    } catch (err) {
      if (!(err instanceof CaptureError)) {
        throw new MeterkitValidationError('properties', `cannot be read (${(err as Error)?.message ?? String(err)})`)
      }
      if (err.kind === 'not_json') throw new MeterkitValidationError(err.path('properties'), err.rule)
      if (err.kind === 'too_large') {
        throw new MeterkitValidationError('event', `serialized size is over the ${MAX_EVENT_BYTES}-byte limit (${err.path('properties')} is ${err.rule})`)
      }
      return serializeNow(input, input.id ?? newId(nowMs), timestampMs, seq) // too deep to copy
    }
    bound += capturedBound()
  }
  const id = input.id ?? newId(nowMs)
  const event = new QueuedEvent(id, seq, bound + id.length, name, customerId, timestampMs, properties, reservationId)
  if (bound + id.length > MAX_EVENT_BYTES) {
    // Near the limit: the exact size decides, and the JSON written for it is kept.
    const bytes = event.bytes
    if (bytes > MAX_EVENT_BYTES) throw tooLarge(bytes)
    return QueuedEvent.serialized(id, event.json, bytes, seq)
  }
  return event
}

/** The path for properties nested too deep to copy: checked and serialized at once, as a whole. */
function serializeNow(input: TrackInput, id: string, timestampMs: number, seq: number): QueuedEvent {
  const bad = findNonJson(input.properties, 'properties', 1)
  if (bad !== undefined) throw new MeterkitValidationError(bad[0], bad[1])
  let json: string
  try {
    json = JSON.stringify({
      id,
      event: input.event,
      customerId: input.customerId,
      timestamp: formatTimestampFast(timestampMs),
      properties: input.properties,
      reservationId: input.reservationId,
    })
  } catch (err) {
    throw new MeterkitValidationError('properties', `cannot be serialized as JSON (${(err as Error).message})`)
  }
  const bytes = eventBytes(json)
  if (bytes > MAX_EVENT_BYTES) throw tooLarge(bytes)
  return QueuedEvent.serialized(id, json, bytes, seq)
}

/** Checks and serializes an event at once (captureEvent, then its JSON). */
export function serializeEvent(input: TrackInput, nowMs: number, newId: (nowMs: number) => string, seq: number): QueuedEvent {
  const event = captureEvent(input, nowMs, newId, seq)
  void event.json
  return event
}

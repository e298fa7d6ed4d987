// Node's track(): captures the event (a private copy of its properties, its id and time fixed)
// and proves it under the size limit with a bound of its JSON size, without serializing it; the
// JSON is written once, later, when the event first joins a batch body or the disk buffer, and
// then kept. Faster than serializeEvent (event.ts), and larger: browser and edge bundles, which
// take serializeEvent, leave this module out.
import { MAX_EVENT_BYTES } from '@meterkit/protocol'
import { CaptureError, UNIT_BOUND, captureProperties, capturedBound } from './capture.js'
import { MeterkitValidationError } from './errors.js'
import { QueuedEvent, checkInput, eventBytes, serializeNow, tooLarge, type TrackInput } from './event.js'
import { formatTimestampFast } from './timestamp.js'

/**
 * A captured event: its JSON is written when the event joins a batch (first use of `json` or
 * `bytes`) and kept from then on, while the captured fields are let go; `render()` writes it
 * without keeping it, for a copy on disk of an event still queued.
 */
export class CapturedEvent extends QueuedEvent {
  #event: string
  #customerId: string
  #timestampMs: number
  #properties: Record<string, unknown> | undefined
  #reservationId: string | undefined

  constructor(
    id: string,
    seq: number,
    sizeBound: number,
    event: string,
    customerId: string,
    timestampMs: number,
    properties: Record<string, unknown> | undefined,
    reservationId: string | undefined,
  ) {
    super(id, seq, sizeBound, '', -1)
    this.#event = event
    this.#customerId = customerId
    this.#timestampMs = timestampMs
    this.#properties = properties
    this.#reservationId = reservationId
  }

  override get json(): string {
    let json = this.text
    if (json === '') {
      json = this.text = this.render()
      // The JSON holds them now.
      this.#event = this.#customerId = ''
      this.#properties = this.#reservationId = undefined
    }
    return json
  }

  override get bytes(): number {
    if (this.size < 0) void this.json
    return this.size
  }

  /** The event's JSON, always the same text; kept only if `json` was asked for before. */
  override render(): string {
    if (this.text !== '') return this.text
    // The captured copy holds JSON values only: this cannot throw.
    const json = JSON.stringify({
      id: this.id,
      event: this.#event,
      customerId: this.#customerId,
      timestamp: formatTimestampFast(this.#timestampMs),
      properties: this.#properties,
      reservationId: this.#reservationId,
    })
    this.size = eventBytes(json)
    return json
  }
}

/**
 * The JSON envelope around the fields, at most: `{"id":"","event":"","customerId":"",
 * "timestamp":"","properties":,"reservationId":""}` is 84 characters, a timestamp at most 27.
 */
const ENVELOPE_BOUND = 128

/**
 * Checks the event's shape and queues it: its id and timestamp are fixed and its properties
 * copied now. Throws MeterkitValidationError for programmer errors only: missing or malformed
 * `event`/`customerId`/`id`, non-JSON properties, an event over MAX_EVENT_BYTES serialized.
 */
export function captureEvent(input: TrackInput, nowMs: number, newId: (nowMs: number) => string, seq: number): QueuedEvent {
  const timestampMs = checkInput(input, nowMs)
  const name = input.event
  const customerId = input.customerId
  const reservationId = input.reservationId
  let properties: Record<string, unknown> | undefined
  let bound = ENVELOPE_BOUND + name.length + UNIT_BOUND * customerId.length + (reservationId?.length ?? 0)
  if (input.properties !== undefined) {
    const given: object = input.properties
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
  const event = new CapturedEvent(id, seq, bound + id.length, name, customerId, timestampMs, properties, reservationId)
  if (bound + id.length > MAX_EVENT_BYTES) {
    // Near the limit: the exact size decides, and the JSON written for it is kept.
    const bytes = event.bytes
    if (bytes > MAX_EVENT_BYTES) throw tooLarge(bytes)
    return QueuedEvent.serialized(id, event.json, bytes, seq)
  }
  return event
}

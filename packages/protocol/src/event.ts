// The usage event on the wire (CONTRACT §3) and its validation, shared by the SDKs and the collector.
import { z } from 'zod'
import type { EventErrorCode } from './errors.js'
import {
  CONTROL_CHARACTERS,
  ID_PATTERN,
  MAX_CUSTOMER_ID_LENGTH,
  MAX_EVENT_BYTES,
  MAX_EVENT_NAME_LENGTH,
  MAX_ID_LENGTH,
  MAX_PROPERTY_DEPTH,
  MAX_PROPERTY_KEYS,
  MAX_PROPERTY_STRING_LENGTH,
} from './limits.js'
import { parseRfc3339 } from './timestamp.js'
import { utf8ByteLength } from './utf8.js'

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }
export type Properties = { [key: string]: JsonValue }

/**
 * Checks `properties` against the limits of CONTRACT §3 and answers the first problem found as
 * `path: rule`, or `undefined` when the value is valid.
 */
export function checkProperties(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return 'properties: must be a JSON object'
  }
  if (Object.keys(value).length > MAX_PROPERTY_KEYS) {
    return `properties: at most ${MAX_PROPERTY_KEYS} keys at the top level`
  }
  return checkValue(value, 'properties', 1)
}

function checkValue(value: unknown, path: string, depth: number): string | undefined {
  switch (typeof value) {
    case 'string':
      return value.length > MAX_PROPERTY_STRING_LENGTH
        ? `${path}: strings are at most ${MAX_PROPERTY_STRING_LENGTH} characters`
        : undefined
    case 'number':
      return Number.isFinite(value) ? undefined : `${path}: numbers must be finite`
    case 'boolean':
      return undefined
    case 'object': {
      if (value === null) return undefined
      if (depth > MAX_PROPERTY_DEPTH) return `${path}: nesting is at most ${MAX_PROPERTY_DEPTH} levels deep`
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          const problem = checkValue(value[i], `${path}[${i}]`, depth + 1)
          if (problem !== undefined) return problem
        }
        return undefined
      }
      const proto = Object.getPrototypeOf(value)
      if (proto !== Object.prototype && proto !== null) return `${path}: must be plain JSON`
      for (const key in value) {
        const problem = checkValue((value as Record<string, unknown>)[key], `${path}.${key}`, depth + 1)
        if (problem !== undefined) return problem
      }
      return undefined
    }
    default:
      return `${path}: must be JSON (got ${typeof value})`
  }
}

const idRule = `1–${MAX_ID_LENGTH} characters of A-Za-z0-9._:-`

export const eventIdSchema = z
  .string({ error: `must be a string of ${idRule}` })
  .min(1, `must be ${idRule}`)
  .max(MAX_ID_LENGTH, `must be ${idRule}`)
  .regex(ID_PATTERN, `must be ${idRule}`)

export const eventNameSchema = z
  .string({ error: 'must be a string' })
  .min(1, `must be 1–${MAX_EVENT_NAME_LENGTH} characters of A-Za-z0-9._:-`)
  .max(MAX_EVENT_NAME_LENGTH, `must be 1–${MAX_EVENT_NAME_LENGTH} characters of A-Za-z0-9._:-`)
  .regex(ID_PATTERN, `must be 1–${MAX_EVENT_NAME_LENGTH} characters of A-Za-z0-9._:-`)

export const customerIdSchema = z
  .string({ error: 'must be a string' })
  .min(1, `must be 1–${MAX_CUSTOMER_ID_LENGTH} characters`)
  .max(MAX_CUSTOMER_ID_LENGTH, `must be 1–${MAX_CUSTOMER_ID_LENGTH} characters`)
  .refine((s) => !CONTROL_CHARACTERS.test(s), 'must not contain control characters')

export const timestampSchema = z
  .string({ error: 'must be an RFC 3339 string' })
  .refine((s) => parseRfc3339(s) !== undefined, 'must be an RFC 3339 date-time, e.g. 2026-11-25T10:00:00.000Z')

export const propertiesSchema = z.unknown().superRefine((value, ctx) => {
  const problem = checkProperties(value)
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem.slice(problem.indexOf(': ') + 2), path: [] })
})

/** One usage event as sent by a client. Unknown top-level keys are ignored. */
export const wireEventSchema = z.object({
  id: eventIdSchema,
  event: eventNameSchema,
  customerId: customerIdSchema,
  timestamp: timestampSchema,
  properties: propertiesSchema.optional(),
  reservationId: eventIdSchema.optional(),
})

export interface WireEvent {
  id: string
  event: string
  customerId: string
  timestamp: string
  properties?: Properties
  reservationId?: string
}

/** An event that passed validation, with its timestamp parsed. */
export interface ValidEvent {
  id: string
  event: string
  customerId: string
  timestampMs: number
  properties: Properties
  /** `properties` serialized once, as stored. */
  propertiesJson: string
  reservationId: string | undefined
}

export type EventCheck =
  | { ok: true; event: ValidEvent }
  | { ok: false; id: string | null; code: EventErrorCode; message: string }

const FIELD_CODES: Record<string, EventErrorCode> = {
  id: 'invalid_id',
  event: 'invalid_event',
  customerId: 'invalid_customer',
  timestamp: 'invalid_timestamp',
  properties: 'invalid_properties',
  reservationId: 'invalid_reservation',
}

function rejection(raw: unknown, parsedError: z.ZodError): EventCheck & { ok: false } {
  const rawId = typeof raw === 'object' && raw !== null && typeof (raw as { id?: unknown }).id === 'string'
    ? (raw as { id: string }).id
    : null
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, id: null, code: 'invalid_event_object', message: 'event: must be a JSON object' }
  }
  const issue = parsedError.issues[0]!
  const field = String(issue.path[0] ?? 'event')
  const message = field === 'properties' && issue.code === 'custom'
    ? (checkProperties((raw as { properties?: unknown }).properties) ?? `properties: ${issue.message}`)
    : issue.code === 'invalid_type' && issue.input === undefined
      ? `${field}: is required`
      : `${field}: ${issue.message}`
  return { ok: false, id: rawId, code: FIELD_CODES[field] ?? 'invalid_event_object', message }
}

function isEventId(value: unknown): value is string {
  return typeof value === 'string' && value.length >= 1 && value.length <= MAX_ID_LENGTH && ID_PATTERN.test(value)
}

/**
 * The hot-path check: the same rules as `wireEventSchema`, without building issues. It only
 * says yes or no; a "no" is explained by the zod schema. A property test holds the two equal.
 */
export function isWellFormedEvent(raw: unknown): boolean {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return false
  const e = raw as Record<string, unknown>
  if (!isEventId(e.id)) return false
  const name = e.event
  if (typeof name !== 'string' || name.length < 1 || name.length > MAX_EVENT_NAME_LENGTH || !ID_PATTERN.test(name)) return false
  const customer = e.customerId
  if (typeof customer !== 'string' || customer.length < 1 || customer.length > MAX_CUSTOMER_ID_LENGTH || CONTROL_CHARACTERS.test(customer)) return false
  if (typeof e.timestamp !== 'string' || parseRfc3339(e.timestamp) === undefined) return false
  if (e.properties !== undefined && checkProperties(e.properties) !== undefined) return false
  if (e.reservationId !== undefined && !isEventId(e.reservationId)) return false
  return true
}

/** Serialized size of an event's fields, in UTF-8 bytes, given its properties' JSON. */
function eventBytes(e: ValidEvent, timestamp: string, propertiesJson: string): number {
  // Cheap bound first: ids, names and timestamps add at most ~3 KiB even fully escaped.
  const propertyBytes = utf8ByteLength(propertiesJson)
  if (propertyBytes + 3072 <= MAX_EVENT_BYTES) return propertyBytes
  return utf8ByteLength(JSON.stringify({
    id: e.id, event: e.event, customerId: e.customerId, timestamp,
    properties: e.properties, ...(e.reservationId === undefined ? {} : { reservationId: e.reservationId }),
  }))
}

/**
 * Validates one event of a batch: shape and field rules, then serialized size. Time rules
 * (future skew, lateness) depend on the receiver's clock and are checked by the receiver.
 * Valid events come with their properties serialized, ready to store.
 */
export function validateEvent(raw: unknown): EventCheck {
  if (!isWellFormedEvent(raw)) {
    const parsed = wireEventSchema.safeParse(raw)
    if (!parsed.success) return rejection(raw, parsed.error)
  }
  const r = raw as WireEvent
  const properties = r.properties ?? {}
  const event: ValidEvent = {
    id: r.id,
    event: r.event,
    customerId: r.customerId,
    timestampMs: parseRfc3339(r.timestamp)!,
    properties,
    propertiesJson: JSON.stringify(properties),
    reservationId: r.reservationId,
  }
  const bytes = eventBytes(event, r.timestamp, event.propertiesJson)
  if (bytes > MAX_EVENT_BYTES) {
    return {
      ok: false,
      id: event.id,
      code: 'event_too_large',
      message: `event: serialized size ${bytes} bytes is over the ${MAX_EVENT_BYTES}-byte limit`,
    }
  }
  return { ok: true, event }
}

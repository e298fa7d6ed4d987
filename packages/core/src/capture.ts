// track()'s properties, taken over at the call: a private copy holding only what JSON carries
// (strings, finite numbers, booleans, null, plain objects and arrays, Dates as their ISO string),
// so later changes to the caller's objects never reach the event and its serialization, done
// later by the batcher, cannot fail. While copying, it adds up an upper bound of the copy's JSON
// size in UTF-8 bytes, which proves most events under the size limit without serializing them.
import { MAX_EVENT_BYTES } from '@meterkit/protocol'

/** Bytes of JSON one UTF-16 unit can take at most: 6 (`\u001f`, or a lone surrogate `\ud800`). */
export const UNIT_BOUND = 6
/** Characters of a finite number's JSON at most: `-1.2345678901234567e-308`, `-0.0000012345678901234567`. */
export const NUMBER_BOUND = 25
/** Nesting past this is not copied: the event is serialized at once instead (JSON.stringify finds cycles). */
export const MAX_CAPTURE_DEPTH = 32

/** Why a value cannot be captured; `keys` is filled in while the error unwinds, innermost first. */
export class CaptureError {
  readonly keys: (string | number)[] = []
  constructor(
    readonly kind: 'not_json' | 'too_large' | 'too_deep',
    readonly rule: string,
  ) {}

  /** The failing value's path, e.g. `properties.frames[2]`. */
  path(root: string): string {
    let path = root
    for (let i = this.keys.length - 1; i >= 0; i--) {
      const key = this.keys[i]!
      path += typeof key === 'number' ? `[${key}]` : `.${key}`
    }
    return path
  }
}

/** The upper bound of the last capture's JSON size (a module variable: no tuple per call). */
let bound = 0

/** The bound of the JSON size of the last value given to captureProperties. */
export function capturedBound(): number {
  return bound
}

/**
 * Copies a plain object of JSON values; throws CaptureError for anything JSON cannot carry
 * faithfully (functions, symbols, bigints, non-finite numbers, class instances other than Date),
 * and past MAX_CAPTURE_DEPTH. Afterwards capturedBound() answers a bound of the copy's JSON size.
 */
export function captureProperties(value: object): Record<string, unknown> {
  bound = 0
  return captureObject(value, 1)
}

function captureObject(value: object, depth: number): Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) throw new CaptureError('not_json', 'must be a plain object, an array or a JSON value')
  // Spreading reads each own enumerable property once (getters and proxies included), shallowly.
  const copy: Record<string, unknown> = { ...value }
  bound += 2
  let key = ''
  try {
    for (key in copy) {
      const v = copy[key]
      if (v === undefined) continue // dropped by JSON, as users expect
      bound += UNIT_BOUND * key.length + 4 // quotes, colon, comma
      // An own data property: assigning never reaches a setter, not even for `__proto__`.
      if (typeof v === 'object' && v !== null) copy[key] = captureNested(v, depth + 1)
      else addPrimitive(v)
    }
  } catch (err) {
    if (err instanceof CaptureError) err.keys.push(key)
    throw err
  }
  return copy
}

function captureArray(value: readonly unknown[], depth: number): unknown[] {
  const length = value.length
  // Every element takes at least one byte and a comma: this many cannot fit in an event.
  if (length >= MAX_EVENT_BYTES / 2) throw new CaptureError('too_large', `an array of ${length} elements`)
  const copy = new Array<unknown>(length)
  bound += 2 + length
  let i = 0
  try {
    for (; i < length; i++) {
      const v = value[i]
      if (typeof v === 'object' && v !== null) copy[i] = captureNested(v, depth + 1)
      else if (v === undefined) {
        copy[i] = null // JSON writes holes and undefined as null
        bound += 4
      } else {
        copy[i] = v
        addPrimitive(v)
      }
    }
  } catch (err) {
    if (err instanceof CaptureError) err.keys.push(i)
    throw err
  }
  return copy
}

function captureNested(v: object, depth: number): unknown {
  if (depth > MAX_CAPTURE_DEPTH) throw new CaptureError('too_deep', `nesting deeper than ${MAX_CAPTURE_DEPTH}`)
  if (Array.isArray(v)) return captureArray(v, depth)
  if (v instanceof Date) {
    // What JSON.stringify writes for a Date (toJSON), fixed now: Dates are mutable.
    const ms = v.getTime()
    if (Number.isNaN(ms)) {
      bound += 4
      return null
    }
    const iso = v.toISOString()
    bound += iso.length + 2
    return iso
  }
  return captureObject(v, depth)
}

function addPrimitive(v: unknown): void {
  switch (typeof v) {
    case 'string':
      if (v.length > MAX_EVENT_BYTES) throw new CaptureError('too_large', `a string of ${v.length} characters`)
      bound += UNIT_BOUND * v.length + 2
      return
    case 'number':
      if (!Number.isFinite(v)) throw new CaptureError('not_json', 'must be a finite number')
      bound += NUMBER_BOUND
      return
    case 'boolean':
      bound += 5
      return
    case 'object': // null
      bound += 4
      return
    default:
      throw new CaptureError('not_json', `is not JSON (${typeof v})`)
  }
}

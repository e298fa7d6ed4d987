import fc from 'fast-check'
import { CONTROL_CHARACTERS, MAX_EVENT_BYTES, validateEvent } from '@meterkit/protocol'
import { describe, expect, it } from 'vitest'
import { NUMBER_BOUND, captureProperties, capturedBound } from './capture.js'
import { MeterkitValidationError } from './errors.js'
import { captureEvent, serializeEvent, type TrackInput } from './event.js'

const NOW = Date.UTC(2026, 10, 25, 10, 0, 0, 7)
const ser = (input: TrackInput) => serializeEvent(input, NOW, () => '0193-fixed-id', 1)

describe('serializeEvent', () => {
  it('serializes once with a default id and a UTC millisecond timestamp', () => {
    const e = ser({ event: 'render.completed', customerId: 'cus_42', properties: { gpuSeconds: 12.5, resolution: '4k' } })
    expect(e.id).toBe('0193-fixed-id')
    expect(JSON.parse(e.json)).toEqual({
      id: '0193-fixed-id',
      event: 'render.completed',
      customerId: 'cus_42',
      timestamp: '2026-11-25T10:00:00.007Z',
      properties: { gpuSeconds: 12.5, resolution: '4k' },
    })
    expect(e.bytes).toBe(new TextEncoder().encode(e.json).length)
    expect(validateEvent(JSON.parse(e.json)).ok).toBe(true)
  })

  it('keeps a user id, normalizes given timestamps and counts UTF-8 bytes', () => {
    const e = ser({ event: 'e', customerId: 'c', id: 'job-981:render', timestamp: '2026-11-25T11:00:00+01:00', properties: { s: 'é€😀' } })
    expect(e.id).toBe('job-981:render')
    expect(JSON.parse(e.json).timestamp).toBe('2026-11-25T10:00:00.000Z')
    expect(e.bytes).toBe(new TextEncoder().encode(e.json).length)
    expect(JSON.parse(ser({ event: 'e', customerId: 'c', timestamp: new Date(0) }).json).timestamp).toBe('1970-01-01T00:00:00.000Z')
  })

  it.each([
    ['event', { customerId: 'c' }],
    ['event', { event: '', customerId: 'c' }],
    ['event', { event: 'has space', customerId: 'c' }],
    ['customerId', { event: 'e' }],
    ['customerId', { event: 'e', customerId: '' }],
    ['customerId', { event: 'e', customerId: 'a\nb' }],
    ['id', { event: 'e', customerId: 'c', id: 'bad id' }],
    ['timestamp', { event: 'e', customerId: 'c', timestamp: new Date(Number.NaN) }],
    ['timestamp', { event: 'e', customerId: 'c', timestamp: 'yesterday' }],
    ['properties', { event: 'e', customerId: 'c', properties: [] }],
    ['properties.f', { event: 'e', customerId: 'c', properties: { f: () => 1 } }],
    ['properties.n', { event: 'e', customerId: 'c', properties: { n: 10n } }],
    ['properties.x[1]', { event: 'e', customerId: 'c', properties: { x: [1, Number.NaN] } }],
    ['properties.m', { event: 'e', customerId: 'c', properties: { m: new Map() } }],
    ['properties.a.b[2].c', { event: 'e', customerId: 'c', properties: { a: { b: [1, 2, { c: Symbol('s') }] } } }],
    ['properties', { event: 'e', customerId: 'c', properties: new Date(0) }],
    ['properties', { event: 'e', customerId: 'c', properties: { get x() { throw new Error('no') } } }],
  ])('throws MeterkitValidationError naming %s', (field, input) => {
    expect(() => ser(input as TrackInput)).toThrow(MeterkitValidationError)
    try {
      ser(input as TrackInput)
    } catch (err) {
      expect((err as MeterkitValidationError).field).toBe(field)
    }
  })

  it('throws on cycles and on events over 32 KiB', () => {
    const cyclic: Record<string, unknown> = {}
    let node = cyclic
    for (let i = 0; i < 40; i++) node = (node.next = {}) as Record<string, unknown>
    node.back = cyclic
    expect(() => ser({ event: 'e', customerId: 'c', properties: cyclic })).toThrow(MeterkitValidationError)
    expect(() => ser({ event: 'e', customerId: 'c', properties: { s: 'x'.repeat(MAX_EVENT_BYTES) } })).toThrow(/32768-byte limit/)
    expect(() => ser({ event: 'e', customerId: 'c', properties: { s: '€'.repeat(11_000) } })).toThrow(/over the 32768-byte limit/)
  })

  it('throws for arrays and strings too long for any event, without serializing them', () => {
    const sparse: unknown[] = []
    sparse[1e9] = 1
    expect(() => ser({ event: 'e', customerId: 'c', properties: { a: { big: sparse } } })).toThrow(/over the 32768-byte limit \(properties\.a\.big is an array of 1000000001 elements\)/)
    expect(() => ser({ event: 'e', customerId: 'c', properties: { s: 'x'.repeat(MAX_EVENT_BYTES + 1) } })).toThrow(MeterkitValidationError)
  })

  it('serializes properties nested deeper than it copies at once, as before', () => {
    let deep: Record<string, unknown> = { leaf: 1 }
    for (let i = 0; i < 40; i++) deep = { d: deep }
    const e = captureEvent({ event: 'e', customerId: 'c', properties: deep }, NOW, () => 'x', 1)
    expect(JSON.parse(e.json).properties).toEqual(deep)
    expect(e.sizeBound).toBe(e.bytes)
    expect(() => ser({ event: 'e', customerId: 'c', properties: { n: Number.NaN, deep } })).toThrow(/properties\.n: must be a finite number/)
  })

  it('drops undefined property values like JSON does', () => {
    expect(JSON.parse(ser({ event: 'e', customerId: 'c', properties: { a: undefined, b: 1 } }).json).properties).toEqual({ b: 1 })
  })
})

describe('captureEvent', () => {
  it('fixes the event at track(): later changes to the caller’s objects never reach it', () => {
    const when = new Date(NOW)
    const properties = { frames: [1, 2], model: { name: 'sdxl' }, at: when, n: 1 }
    const e = captureEvent({ event: 'render.completed', customerId: 'cus_42', properties }, NOW, () => 'id-1', 1)
    properties.frames.push(3)
    properties.model.name = 'changed'
    properties.n = 2
    when.setTime(0)
    ;(properties as Record<string, unknown>).late = 10n // would make JSON.stringify throw
    expect(JSON.parse(e.json).properties).toEqual({ frames: [1, 2], model: { name: 'sdxl' }, at: new Date(NOW).toISOString(), n: 1 })
  })

  it('reads each property once (getters included) and keeps a `__proto__` key as data', () => {
    let reads = 0
    const properties = JSON.parse('{"__proto__": {"x": 1}, "y": 2}') as Record<string, unknown>
    Object.defineProperty(properties, 'counted', { enumerable: true, get: () => ++reads })
    const e = captureEvent({ event: 'e', customerId: 'c', properties }, NOW, () => 'id-1', 1)
    expect(reads).toBe(1)
    expect(e.json).toBe(serializeEvent({ event: 'e', customerId: 'c', properties: JSON.parse('{"__proto__": {"x": 1}, "y": 2, "counted": 1}') }, NOW, () => 'id-1', 1).json)
    expect(e.json).toContain('"__proto__":{"x":1}')
  })

  it('writes the same JSON as JSON.stringify of the event, and its exact UTF-8 size', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), fc.string({ minLength: 1, maxLength: 20 }), (properties, customerId) => {
        fc.pre(!CONTROL_CHARACTERS.test(customerId) && !Object.hasOwn(properties, '__proto__'))
        const e = captureEvent({ event: 'e', customerId, properties }, NOW, () => 'id-1', 1)
        const expected = JSON.stringify({ id: 'id-1', event: 'e', customerId, timestamp: new Date(NOW).toISOString(), properties })
        expect(e.json).toBe(expected)
        expect(e.bytes).toBe(new TextEncoder().encode(expected).length)
        expect(e.sizeBound).toBeGreaterThanOrEqual(e.bytes)
      }),
      { numRuns: 300 },
    )
  })

  it('bounds the JSON size of any captured value from above', () => {
    const unit = fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: fc.constantFrom('\u0000', '"', '\\', '\ud800', '\udc00', 'é', '€', '😀', 'a') }))
    const value = fc.letrec((tie) => ({
      any: fc.oneof({ depthSize: 'small' }, unit, fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null), fc.array(tie('any')), fc.dictionary(unit, tie('any'))),
    })).any
    fc.assert(
      fc.property(fc.dictionary(unit, value), (properties) => {
        const copy = captureProperties(properties)
        expect(capturedBound()).toBeGreaterThanOrEqual(new TextEncoder().encode(JSON.stringify(copy)).length)
      }),
      { numRuns: 500 },
    )
  })

  it('bounds the JSON of every finite number by NUMBER_BOUND characters', () => {
    fc.assert(fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (n) => {
      expect(JSON.stringify(n).length).toBeLessThanOrEqual(NUMBER_BOUND)
    }), { numRuns: 10_000 })
    for (const n of [-Number.MAX_VALUE, -Number.MIN_VALUE, -2.2250738585072014e-308, -0.0000012345678901234567, -1.2345678901234567e20]) {
      expect(JSON.stringify(n).length).toBeLessThanOrEqual(NUMBER_BOUND)
    }
  })

  it('holds the 32 KiB limit exactly, whatever the characters near it', () => {
    const chars = fc.constantFrom('a', 'é', '€', '😀', '\u0001', '"', '\ud800')
    fc.assert(
      fc.property(chars, fc.integer({ min: -40, max: 40 }), (ch, delta) => {
        const base = { event: 'e', customerId: 'c', properties: { s: '' } }
        const empty = new TextEncoder().encode(JSON.stringify({ id: 'x', ...base, timestamp: new Date(NOW).toISOString() })).length
        const one = new TextEncoder().encode(JSON.stringify(ch)).length - 2
        const count = Math.max(0, Math.floor((MAX_EVENT_BYTES - empty) / one) + delta)
        const input = { ...base, properties: { s: ch.repeat(count / (ch.length)) } }
        const exact = new TextEncoder().encode(JSON.stringify({ id: 'x', event: 'e', customerId: 'c', timestamp: new Date(NOW).toISOString(), properties: input.properties })).length
        if (exact <= MAX_EVENT_BYTES) expect(captureEvent(input, NOW, () => 'x', 1).bytes).toBe(exact)
        else expect(() => captureEvent(input, NOW, () => 'x', 1)).toThrow(`serialized size ${exact} bytes is over the ${MAX_EVENT_BYTES}-byte limit`)
      }),
      { numRuns: 300 },
    )
  })
})

describe('default ids and timestamps', () => {
  it('makes valid, unique, time-ordered UUIDv7 ids', async () => {
    const { newEventId } = await import('./ids.js')
    const ids = Array.from({ length: 10_000 }, (_, i) => newEventId(NOW + (i >> 3)))
    expect(new Set(ids).size).toBe(ids.length)
    for (const id of ids.slice(0, 50)) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect([...ids].sort()).toEqual(ids)
  })

  it('formats timestamps exactly like toISOString', () => {
    for (const ms of [0, 1, 999, 1000, NOW, NOW + 10, NOW + 110, Date.UTC(9999, 0, 1), -1, Date.UTC(10_000, 0, 1)]) {
      expect(JSON.parse(serializeEvent({ event: 'e', customerId: 'c', timestamp: ms }, NOW, () => 'x', 1).json).timestamp).toBe(new Date(ms).toISOString())
    }
  })
})

import { MAX_EVENT_BYTES, validateEvent } from '@meterkit/protocol'
import { describe, expect, it } from 'vitest'
import { MeterkitValidationError } from './errors.js'
import { serializeEvent, type TrackInput } from './event.js'

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

  it('drops undefined property values like JSON does', () => {
    expect(JSON.parse(ser({ event: 'e', customerId: 'c', properties: { a: undefined, b: 1 } }).json).properties).toEqual({ b: 1 })
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

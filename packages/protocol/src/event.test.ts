import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isWellFormedEvent, validateEvent, wireEventSchema } from './event.js'
import { MAX_EVENT_BYTES } from './limits.js'
import { utf8ByteLength } from './utf8.js'

const idChars = fc.constantFrom(...'AZaz09._:-/ é\n'.split(''))
const maybeId = fc.oneof(
  fc.string({ unit: idChars, minLength: 0, maxLength: 130 }),
  fc.constant('a'.repeat(128)),
  fc.constant('a'.repeat(129)),
  fc.integer(),
  fc.constant(undefined),
)
const jsonLeaf = fc.oneof(fc.string({ maxLength: 20 }), fc.double(), fc.boolean(), fc.constant(null), fc.constant(Number.POSITIVE_INFINITY))
const properties = fc.oneof(
  fc.dictionary(fc.string({ maxLength: 8 }).filter((k) => k !== '__proto__'), fc.oneof(jsonLeaf, fc.array(jsonLeaf, { maxLength: 3 })), { maxKeys: 5 }),
  fc.letrec((tie) => ({ node: fc.oneof({ depthSize: 'small' }, jsonLeaf, fc.dictionary(fc.constantFrom('a', 'b'), tie('node'), { maxKeys: 2 })) })).node,
  fc.constant(undefined),
)
const timestamp = fc.oneof(
  fc.date({ min: new Date('1970-01-01'), max: new Date('9999-12-31'), noInvalidDate: true }).map((d) => d.toISOString()),
  fc.constantFrom('2026-02-30T00:00:00Z', '2026-11-25T10:00:00', '2026-11-25T10:00:00+01:00', 'now', ''),
  fc.integer(),
)
const rawEvent = fc.record(
  {
    id: maybeId,
    event: maybeId,
    customerId: fc.oneof(fc.string({ maxLength: 260 }), fc.constant(''), fc.constant('x'.repeat(257)), fc.integer()),
    timestamp,
    properties,
    reservationId: maybeId,
  },
  { requiredKeys: [] },
)

describe('event validation', () => {
  it('the hot-path check agrees with the zod schema on every input', () => {
    fc.assert(
      fc.property(fc.oneof(rawEvent, fc.anything()), (raw) => {
        expect(isWellFormedEvent(raw)).toBe(wireEventSchema.safeParse(raw).success)
      }),
      { numRuns: 2000 },
    )
  })

  it('every rejection names a field and a rule', () => {
    fc.assert(
      fc.property(rawEvent, (raw) => {
        const check = validateEvent(raw)
        if (!check.ok) {
          expect(check.code).toMatch(/^(invalid_|event_too_large)/)
          expect(check.message).toMatch(/^(id|event|customerId|timestamp|properties[^:]*|reservationId): \S/)
        }
      }),
    )
  })

  it('an accepted event serializes to at most 32 KiB', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 40_000 }), fc.constantFrom('x', 'é', '😀', '"'), (n, ch) => {
        const props: Record<string, string> = {}
        for (let i = 0; n > 0 && i < 100; i++, n -= 4000) props[`k${i}`] = ch.repeat(Math.min(4000, n) / ch.length)
        const raw = { id: 'a', event: 'e', customerId: 'c', timestamp: '2026-11-25T10:00:00.000Z', properties: props }
        const check = validateEvent(raw)
        const size = utf8ByteLength(JSON.stringify(raw))
        expect(check.ok).toBe(size <= MAX_EVENT_BYTES)
        if (!check.ok) expect(check.code).toBe('event_too_large')
      }),
      { numRuns: 200 },
    )
  })
})

import fc from 'fast-check'
import { parseRfc3339 } from '@meterkit/protocol'
import { describe, expect, it } from 'vitest'
import { readTimestamp } from './timestamp.js'

const pad = (n: number, width: number) => String(n).padStart(width, '0')

/** Strings near the RFC 3339 grammar: valid ones, and ones broken in one place. */
const candidate = fc.record({
  year: fc.integer({ min: 0, max: 9999 }),
  month: fc.integer({ min: 0, max: 13 }),
  day: fc.integer({ min: 0, max: 32 }),
  hour: fc.integer({ min: 0, max: 25 }),
  minute: fc.integer({ min: 0, max: 61 }),
  second: fc.integer({ min: 0, max: 61 }),
  t: fc.constantFrom('T', 't', ' ', 'x'),
  fraction: fc.option(fc.stringMatching(/^[0-9]{0,9}$/), { nil: undefined }),
  zone: fc.oneof(fc.constantFrom('Z', 'z', '', 'UTC'), fc.tuple(fc.constantFrom('+', '-'), fc.integer({ min: 0, max: 25 }), fc.integer({ min: 0, max: 61 }))
    .map(([s, h, m]) => `${s}${pad(h, 2)}:${pad(m, 2)}`)),
}).map((c) => `${pad(c.year, 4)}-${pad(c.month, 2)}-${pad(c.day, 2)}${c.t}${pad(c.hour, 2)}:${pad(c.minute, 2)}:${pad(c.second, 2)}${c.fraction === undefined ? '' : `.${c.fraction}`}${c.zone}`)

describe('readTimestamp', () => {
  it('answers what protocol’s parseRfc3339 answers', () => {
    fc.assert(fc.property(fc.oneof(candidate, fc.string()), (text) => {
      expect(readTimestamp(text)).toBe(parseRfc3339(text))
    }), { numRuns: 5000 })
    for (const text of ['2026-11-25T10:00:00.123456+01:30', '2024-02-29T23:59:60Z', '2026-02-29T00:00:00Z', '0000-02-29T00:00:00Z', '2026-11-25T10:00:00']) {
      expect(readTimestamp(text), text).toBe(parseRfc3339(text))
    }
  })
})

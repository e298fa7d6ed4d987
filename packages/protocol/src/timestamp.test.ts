import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { formatTimestamp, parseRfc3339 } from './timestamp.js'

describe('parseRfc3339', () => {
  it.each([
    ['2026-11-25T10:00:00.000Z', Date.UTC(2026, 10, 25, 10)],
    ['2026-11-25T10:00:00Z', Date.UTC(2026, 10, 25, 10)],
    ['2026-11-25t10:00:00z', Date.UTC(2026, 10, 25, 10)],
    ['2026-11-25T11:30:00+01:30', Date.UTC(2026, 10, 25, 10)],
    ['2026-11-25T05:00:00-05:00', Date.UTC(2026, 10, 25, 10)],
    ['2026-11-25T10:00:00.1Z', Date.UTC(2026, 10, 25, 10, 0, 0, 100)],
    ['2026-11-25T10:00:00.123456789Z', Date.UTC(2026, 10, 25, 10, 0, 0, 123)],
    ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29)],
    ['2016-12-31T23:59:60Z', Date.UTC(2017, 0, 1)],
  ])('%s', (text, ms) => {
    expect(parseRfc3339(text)).toBe(ms)
  })

  it.each([
    '2026-11-25T10:00:00', '2026-11-25 10:00:00Z', '2026-02-29T00:00:00Z', '2026-02-30T00:00:00Z',
    '2026-13-01T00:00:00Z', '2026-00-10T00:00:00Z', '2026-11-25T24:00:00Z', '2026-11-25T10:60:00Z',
    '2026-11-25T10:00:61Z', '2026-11-25T10:00:00.Z', '2026-11-25T10:00:00+0100', '2026-11-25T10:00:00+24:00',
    '2026-11-25T10:00:00Zjunk', '26-11-25T10:00:00Z', '2026-11-25', '', 'yesterday', '2026-1-25T10:00:00Z',
  ])('rejects %s', (text) => {
    expect(parseRfc3339(text)).toBeUndefined()
  })

  it('agrees with Date on every instant it formats (round trip)', () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(1970, 0, 1), max: Date.UTC(9999, 11, 31) }), (ms) => {
        expect(parseRfc3339(formatTimestamp(ms))).toBe(ms)
      }),
    )
  })

  it('agrees with Date.parse on valid offsets', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(1970, 0, 1), max: Date.UTC(2100, 0, 1) }),
        fc.integer({ min: -23 * 60 - 59, max: 23 * 60 + 59 }),
        (ms, offset) => {
          const local = new Date(ms + offset * 60_000).toISOString().slice(0, 23)
          const sign = offset < 0 ? '-' : '+'
          const abs = Math.abs(offset)
          const text = `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`
          expect(parseRfc3339(text)).toBe(Date.parse(text))
          expect(parseRfc3339(text)).toBe(ms)
        },
      ),
    )
  })
})

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { instantOfWallClock, splitRange, startOf, wallClockMs } from './timezone.js'

const iso = (ms: number) => new Date(ms).toISOString()
const t = (s: string) => Date.parse(s)

describe('calendar boundaries in a time zone', () => {
  it('Los Angeles days across the spring DST change are 24, 23, 24 hours', () => {
    const edges = splitRange(t('2026-03-07T08:00:00Z'), t('2026-03-10T07:00:00Z'), 'day', 'America/Los_Angeles')
    expect(edges.map(iso)).toEqual([
      '2026-03-07T08:00:00.000Z', '2026-03-08T08:00:00.000Z', '2026-03-09T07:00:00.000Z', '2026-03-10T07:00:00.000Z',
    ])
  })

  it('Los Angeles day across the autumn DST change is 25 hours', () => {
    const edges = splitRange(t('2026-10-31T07:00:00Z'), t('2026-11-03T08:00:00Z'), 'day', 'America/Los_Angeles')
    expect(edges.map(iso)).toEqual([
      '2026-10-31T07:00:00.000Z', '2026-11-01T07:00:00.000Z', '2026-11-02T08:00:00.000Z', '2026-11-03T08:00:00.000Z',
    ])
  })

  it('Kolkata days and hours start at :30 UTC', () => {
    expect(iso(startOf(t('2026-11-25T10:00:00Z'), 'day', 'Asia/Kolkata'))).toBe('2026-11-24T18:30:00.000Z')
    expect(iso(startOf(t('2026-11-25T10:00:00Z'), 'hour', 'Asia/Kolkata'))).toBe('2026-11-25T09:30:00.000Z')
    const hours = splitRange(t('2026-11-25T10:00:00Z'), t('2026-11-25T12:00:00Z'), 'hour', 'Asia/Kolkata')
    expect(hours.map(iso)).toEqual(['2026-11-25T10:00:00.000Z', '2026-11-25T10:30:00.000Z', '2026-11-25T11:30:00.000Z', '2026-11-25T12:00:00.000Z'])
  })

  it('months in a zone, weeks from Monday', () => {
    const months = splitRange(t('2026-01-15T00:00:00Z'), t('2026-04-01T00:00:00Z'), 'month', 'America/Los_Angeles')
    expect(months.map(iso)).toEqual([
      '2026-01-15T00:00:00.000Z', '2026-02-01T08:00:00.000Z', '2026-03-01T08:00:00.000Z', '2026-04-01T00:00:00.000Z',
    ])
    expect(iso(startOf(t('2026-11-25T10:00:00Z'), 'week', 'UTC'))).toBe('2026-11-23T00:00:00.000Z')
  })
})

describe('wall-clock times and the instants they name', () => {
  const wall = (s: string) => Date.parse(`${s}Z`) // a local wall-clock time, written as UTC fields

  it('reads the wall clock with its seconds and milliseconds', () => {
    // 2026-11-25T10:00:01.250Z is 02:00:01.250 PST (−8 h) and 15:30:01.250 in Kolkata (+5:30).
    expect(iso(wallClockMs(t('2026-11-25T10:00:01.250Z'), 'America/Los_Angeles'))).toBe('2026-11-25T02:00:01.250Z')
    expect(iso(wallClockMs(t('2026-11-25T10:00:01.250Z'), 'Asia/Kolkata'))).toBe('2026-11-25T15:30:01.250Z')
  })

  it('maps an ordinary wall time back to its instant', () => {
    expect(iso(instantOfWallClock(wall('2026-07-01T15:30:00.500'), 'Europe/Berlin'))).toBe('2026-07-01T13:30:00.500Z')
    expect(iso(instantOfWallClock(wall('2026-12-01T00:00:00'), 'Asia/Kolkata'))).toBe('2026-11-30T18:30:00.000Z')
  })

  it('a time shown twice is its earlier instant', () => {
    // Berlin, 2026-10-25: 03:00 CEST becomes 02:00 CET at 01:00Z, so 02:30 is 00:30Z and 01:30Z.
    expect(iso(instantOfWallClock(wall('2026-10-25T02:30:00'), 'Europe/Berlin'))).toBe('2026-10-25T00:30:00.000Z')
    // Los Angeles, 2026-11-01: 01:30 is 08:30Z (PDT) and 09:30Z (PST).
    expect(iso(instantOfWallClock(wall('2026-11-01T01:30:00'), 'America/Los_Angeles'))).toBe('2026-11-01T08:30:00.000Z')
  })

  it('a time skipped by a gap is the first instant after the gap', () => {
    // Los Angeles, 2026-03-08: 02:00 PST jumps to 03:00 PDT at 10:00Z; 02:00–02:59 never shows.
    expect(iso(instantOfWallClock(wall('2026-03-08T02:30:00'), 'America/Los_Angeles'))).toBe('2026-03-08T10:00:00.000Z')
    expect(iso(instantOfWallClock(wall('2026-03-08T02:00:00'), 'America/Los_Angeles'))).toBe('2026-03-08T10:00:00.000Z')
    expect(iso(instantOfWallClock(wall('2026-03-08T03:00:00'), 'America/Los_Angeles'))).toBe('2026-03-08T10:00:00.000Z')
    // Santiago, 2026-09-06: midnight (−4) jumps to 01:00 (−3) at 04:00Z, so the day starts then.
    expect(iso(instantOfWallClock(wall('2026-09-06T00:00:00'), 'America/Santiago'))).toBe('2026-09-06T04:00:00.000Z')
    // Lord Howe, 2026-10-04: 02:00 (+10:30) jumps to 02:30 (+11) at 15:30Z the day before.
    expect(iso(instantOfWallClock(wall('2026-10-04T02:15:00'), 'Australia/Lord_Howe'))).toBe('2026-10-03T15:30:00.000Z')
    // Samoa skipped 2011-12-30: the end of Dec 29 (−10) was the start of Dec 31 (+14), at 10:00Z.
    expect(iso(instantOfWallClock(wall('2011-12-30T12:00:00'), 'Pacific/Apia'))).toBe('2011-12-30T10:00:00.000Z')
  })

  it('is the first instant whose wall clock reaches the time, and never decreases', () => {
    const zones = ['UTC', 'America/Los_Angeles', 'Europe/Berlin', 'Asia/Kolkata', 'America/Santiago', 'Australia/Lord_Howe', 'Pacific/Apia']
    // Walls within a day of DST changes in the zones above, and anywhere in 1990–2050.
    const nearChange = fc.tuple(
      fc.constantFrom('2026-03-08T02:00', '2026-11-01T01:00', '2026-03-29T02:00', '2026-10-25T02:00', '2026-09-06T00:00', '2026-04-04T23:00', '2026-10-04T02:00', '2011-12-30T00:00'),
      fc.integer({ min: -86_400_000, max: 86_400_000 }),
    ).map(([s, d]) => wall(s) + d)
    const anyWall = fc.integer({ min: wall('1990-01-01T00:00'), max: wall('2050-01-01T00:00') })
    fc.assert(fc.property(fc.constantFrom(...zones), fc.oneof(nearChange, anyWall), fc.integer({ min: 0, max: 7_200_000 }), (zone, w, step) => {
      const instant = instantOfWallClock(w, zone)
      expect(wallClockMs(instant, zone)).toBeGreaterThanOrEqual(w)
      expect(wallClockMs(instant - 1, zone)).toBeLessThan(w)
      expect(instantOfWallClock(w + step, zone)).toBeGreaterThanOrEqual(instant)
    }), { numRuns: 500 })
  })
})

describe('zones that skip midnight', () => {
  it('splits a day range across Santiago’s DST start (2026-09-06 begins at 01:00)', async () => {
    const { splitRange, fromLocal } = await import('./timezone.js')
    const from = Date.parse('2026-09-05T04:00:00Z') // Sep 5 00:00 at -04:00
    const to = Date.parse('2026-09-08T03:00:00Z') // Sep 8 00:00 at -03:00
    expect(splitRange(from, to, 'day', 'America/Santiago').map((ms) => new Date(ms).toISOString())).toEqual([
      '2026-09-05T04:00:00.000Z', '2026-09-06T04:00:00.000Z', '2026-09-07T03:00:00.000Z', '2026-09-08T03:00:00.000Z',
    ])
    // A skipped wall time maps to just after the gap.
    expect(new Date(fromLocal(2026, 3, 8, 2, 'America/Los_Angeles')).toISOString()).toBe('2026-03-08T10:00:00.000Z')
  })
})

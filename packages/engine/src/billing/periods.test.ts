// Billing periods against boundaries worked out by hand from each zone's offsets and DST dates.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { type Interval, type PeriodRule, nextBoundary, periodAt, periodsBetween } from './periods.js'

const t = (s: string) => Date.parse(s)
const iso = (ms: number) => new Date(ms).toISOString()
const span = (p: { startMs: number; endMs: number }) => [iso(p.startMs), iso(p.endMs)]

function calendar(interval: Interval, timeZone: string): PeriodRule {
  return { interval, anchor: 'calendar', timeZone, anchorMs: t('2026-01-10T12:00:00Z') }
}

function anniversary(interval: Interval, timeZone: string, anchor: string): PeriodRule {
  return { interval, anchor: 'anniversary', timeZone, anchorMs: t(anchor) }
}

describe('calendar periods', () => {
  it('months in UTC, from the 1st to the 1st', () => {
    const rule = calendar('month', 'UTC')
    expect(span(periodAt(rule, t('2026-11-15T12:00:00Z')))).toEqual(['2026-11-01T00:00:00.000Z', '2026-12-01T00:00:00.000Z'])
    // A boundary belongs to the period it starts; the millisecond before it does not.
    expect(span(periodAt(rule, t('2026-12-01T00:00:00Z')))).toEqual(['2026-12-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z'])
    expect(span(periodAt(rule, t('2026-11-30T23:59:59.999Z')))).toEqual(['2026-11-01T00:00:00.000Z', '2026-12-01T00:00:00.000Z'])
    expect(iso(nextBoundary(rule, t('2026-11-15T12:00:00Z')))).toBe('2026-12-01T00:00:00.000Z')
    // 2028 is a leap year: February has 29 days.
    expect(periodsBetween(rule, t('2028-01-15T00:00:00Z'), t('2028-03-02T00:00:00Z')).map(span)).toEqual([
      ['2028-01-01T00:00:00.000Z', '2028-02-01T00:00:00.000Z'],
      ['2028-02-01T00:00:00.000Z', '2028-03-01T00:00:00.000Z'],
      ['2028-03-01T00:00:00.000Z', '2028-04-01T00:00:00.000Z'],
    ])
  })

  it('months in Los Angeles start at local midnight, PST (−8) or PDT (−7)', () => {
    const rule = calendar('month', 'America/Los_Angeles')
    // DST starts 2026-03-08: Mar 1 00:00 PST is 08:00Z, Apr 1 00:00 PDT is 07:00Z.
    expect(span(periodAt(rule, t('2026-03-15T12:00:00Z')))).toEqual(['2026-03-01T08:00:00.000Z', '2026-04-01T07:00:00.000Z'])
    // DST ends 2026-11-01 at 02:00: Nov 1 00:00 is still PDT (07:00Z), Dec 1 00:00 is PST (08:00Z).
    expect(span(periodAt(rule, t('2026-11-15T12:00:00Z')))).toEqual(['2026-11-01T07:00:00.000Z', '2026-12-01T08:00:00.000Z'])
    // 06:59:59.999Z on Nov 1 is 23:59:59.999 on Oct 31 in Los Angeles.
    expect(span(periodAt(rule, t('2026-11-01T06:59:59.999Z')))).toEqual(['2026-10-01T07:00:00.000Z', '2026-11-01T07:00:00.000Z'])
  })

  it('months in Kolkata (+05:30) start at 18:30Z the day before', () => {
    const rule = calendar('month', 'Asia/Kolkata')
    // 2026-11-30T20:00Z is Dec 1 01:30 in Kolkata.
    expect(span(periodAt(rule, t('2026-11-30T20:00:00Z')))).toEqual(['2026-11-30T18:30:00.000Z', '2026-12-31T18:30:00.000Z'])
    expect(span(periodAt(rule, t('2026-11-30T18:29:59.999Z')))).toEqual(['2026-10-31T18:30:00.000Z', '2026-11-30T18:30:00.000Z'])
  })

  it('weeks start on Monday', () => {
    const rule = calendar('week', 'UTC')
    // 2026-11-23 is a Monday; the 25th a Wednesday, the 29th a Sunday.
    expect(span(periodAt(rule, t('2026-11-25T10:00:00Z')))).toEqual(['2026-11-23T00:00:00.000Z', '2026-11-30T00:00:00.000Z'])
    expect(span(periodAt(rule, t('2026-11-29T23:59:59Z')))).toEqual(['2026-11-23T00:00:00.000Z', '2026-11-30T00:00:00.000Z'])
    expect(span(periodAt(rule, t('2026-11-30T00:00:00Z')))).toEqual(['2026-11-30T00:00:00.000Z', '2026-12-07T00:00:00.000Z'])
    // Los Angeles: the week of Monday Oct 26 holds the autumn change, so it lasts 7 days and 1 hour.
    const la = calendar('week', 'America/Los_Angeles')
    expect(span(periodAt(la, t('2026-11-01T12:00:00Z')))).toEqual(['2026-10-26T07:00:00.000Z', '2026-11-02T08:00:00.000Z'])
  })

  it('days are 23 or 25 hours long across DST changes', () => {
    const rule = calendar('day', 'America/Los_Angeles')
    expect(span(periodAt(rule, t('2026-03-08T12:00:00Z')))).toEqual(['2026-03-08T08:00:00.000Z', '2026-03-09T07:00:00.000Z'])
    expect(span(periodAt(rule, t('2026-11-01T12:00:00Z')))).toEqual(['2026-11-01T07:00:00.000Z', '2026-11-02T08:00:00.000Z'])
    // Santiago skips its midnight on 2026-09-06 (00:00 −4 becomes 01:00 −3 at 04:00Z): that day
    // starts at the jump and lasts 23 hours.
    const santiago = calendar('day', 'America/Santiago')
    expect(periodsBetween(santiago, t('2026-09-05T12:00:00Z'), t('2026-09-06T12:00:00Z')).map(span)).toEqual([
      ['2026-09-05T04:00:00.000Z', '2026-09-06T04:00:00.000Z'],
      ['2026-09-06T04:00:00.000Z', '2026-09-07T03:00:00.000Z'],
    ])
  })

  it('years start on Jan 1 in the zone', () => {
    expect(span(periodAt(calendar('year', 'America/Los_Angeles'), t('2026-06-01T00:00:00Z')))).toEqual(['2026-01-01T08:00:00.000Z', '2027-01-01T08:00:00.000Z'])
    // 2026-12-31T19:00Z is already 2027 in Kolkata.
    expect(span(periodAt(calendar('year', 'Asia/Kolkata'), t('2026-12-31T19:00:00Z')))).toEqual(['2026-12-31T18:30:00.000Z', '2027-12-31T18:30:00.000Z'])
  })

  it('ignore the anchor instant', () => {
    const a = periodAt({ ...calendar('month', 'UTC'), anchorMs: t('2026-11-10T00:00:00Z') }, t('2026-11-15T00:00:00Z'))
    const b = periodAt({ ...calendar('month', 'UTC'), anchorMs: t('1999-02-03T04:05:06Z') }, t('2026-11-15T00:00:00Z'))
    expect(a).toEqual(b)
  })
})

describe('anniversary periods', () => {
  it('a Jan 31 anchor bills on the last day of shorter months, and on the 31st again after', () => {
    const rule = anniversary('month', 'UTC', '2027-01-31T09:00:00Z')
    const starts = periodsBetween(rule, t('2027-01-31T09:00:00Z'), t('2028-04-01T00:00:00Z')).map((p) => iso(p.startMs))
    expect(starts).toEqual([
      '2027-01-31T09:00:00.000Z', '2027-02-28T09:00:00.000Z', '2027-03-31T09:00:00.000Z', '2027-04-30T09:00:00.000Z',
      '2027-05-31T09:00:00.000Z', '2027-06-30T09:00:00.000Z', '2027-07-31T09:00:00.000Z', '2027-08-31T09:00:00.000Z',
      '2027-09-30T09:00:00.000Z', '2027-10-31T09:00:00.000Z', '2027-11-30T09:00:00.000Z', '2027-12-31T09:00:00.000Z',
      '2028-01-31T09:00:00.000Z', '2028-02-29T09:00:00.000Z', '2028-03-31T09:00:00.000Z',
    ])
    expect(iso(nextBoundary(rule, t('2028-03-31T09:00:00Z')))).toBe('2028-04-30T09:00:00.000Z')
    // Before the anchor, counted back the same way: Jan 31 − 1 month is Dec 31, − 2 is Nov 30.
    expect(span(periodAt(rule, t('2026-12-15T00:00:00Z')))).toEqual(['2026-11-30T09:00:00.000Z', '2026-12-31T09:00:00.000Z'])
  })

  it('finds a period a century after the anchor without walking there', () => {
    const rule = anniversary('month', 'UTC', '2027-01-31T09:00:00Z')
    const formats = vi.spyOn(Intl.DateTimeFormat.prototype, 'formatToParts')
    // 2127 is not a leap year.
    expect(span(periodAt(rule, t('2127-02-15T00:00:00Z')))).toEqual(['2127-01-31T09:00:00.000Z', '2127-02-28T09:00:00.000Z'])
    // Walking the 1,200 months from the anchor would take thousands of zone look-ups.
    expect(formats.mock.calls.length).toBeLessThan(30)
  })

  it('a year anchor on Feb 29 falls on Feb 28 in other years', () => {
    const rule = anniversary('year', 'UTC', '2028-02-29T12:00:00Z')
    expect(periodsBetween(rule, t('2028-02-29T12:00:00Z'), t('2032-03-01T00:00:00Z')).map(span)).toEqual([
      ['2028-02-29T12:00:00.000Z', '2029-02-28T12:00:00.000Z'],
      ['2029-02-28T12:00:00.000Z', '2030-02-28T12:00:00.000Z'],
      ['2030-02-28T12:00:00.000Z', '2031-02-28T12:00:00.000Z'],
      ['2031-02-28T12:00:00.000Z', '2032-02-29T12:00:00.000Z'],
      ['2032-02-29T12:00:00.000Z', '2033-02-28T12:00:00.000Z'],
    ])
    expect(span(periodAt(rule, t('2027-06-01T00:00:00Z')))).toEqual(['2027-02-28T12:00:00.000Z', '2028-02-29T12:00:00.000Z'])
  })

  it('keeps 15:30 Berlin time across DST changes', () => {
    // Anchor 15:30 CET (+1) = 14:30Z. CEST (+2) runs from 2026-03-29 to 2026-10-25: 13:30Z.
    const monthly = anniversary('month', 'Europe/Berlin', '2026-01-15T14:30:00Z')
    expect(periodsBetween(monthly, t('2026-01-15T14:30:00Z'), t('2026-05-01T00:00:00Z')).map(span)).toEqual([
      ['2026-01-15T14:30:00.000Z', '2026-02-15T14:30:00.000Z'],
      ['2026-02-15T14:30:00.000Z', '2026-03-15T14:30:00.000Z'],
      ['2026-03-15T14:30:00.000Z', '2026-04-15T13:30:00.000Z'],
      ['2026-04-15T13:30:00.000Z', '2026-05-15T13:30:00.000Z'],
    ])
    expect(span(periodAt(monthly, t('2026-11-01T00:00:00Z')))).toEqual(['2026-10-15T13:30:00.000Z', '2026-11-15T14:30:00.000Z'])
    // Daily: the day DST starts (Sunday 2026-03-29) is 23 hours from 15:30 to 15:30.
    const daily = anniversary('day', 'Europe/Berlin', '2026-03-27T14:30:00Z')
    expect(periodsBetween(daily, t('2026-03-27T14:30:00Z'), t('2026-03-30T00:00:00Z')).map(span)).toEqual([
      ['2026-03-27T14:30:00.000Z', '2026-03-28T14:30:00.000Z'],
      ['2026-03-28T14:30:00.000Z', '2026-03-29T13:30:00.000Z'],
      ['2026-03-29T13:30:00.000Z', '2026-03-30T13:30:00.000Z'],
    ])
  })

  it('a wall time skipped by DST starts at the end of the gap; one shown twice, at its first showing', () => {
    // 02:30 daily in Berlin. 2026-03-29: 02:00 CET jumps to 03:00 CEST at 01:00Z, so that day's
    // boundary is 01:00Z (03:00 CEST); the next is 02:30 CEST = 00:30Z.
    const spring = anniversary('day', 'Europe/Berlin', '2026-03-27T01:30:00Z')
    expect(periodsBetween(spring, t('2026-03-28T12:00:00Z'), t('2026-03-29T12:00:00Z')).map(span)).toEqual([
      ['2026-03-28T01:30:00.000Z', '2026-03-29T01:00:00.000Z'],
      ['2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z'],
    ])
    // 2026-10-25: 02:30 is shown at 00:30Z (CEST) and again at 01:30Z (CET); the first counts.
    const autumn = anniversary('day', 'Europe/Berlin', '2026-10-23T00:30:00Z')
    expect(periodsBetween(autumn, t('2026-10-24T12:00:00Z'), t('2026-10-25T12:00:00Z')).map(span)).toEqual([
      ['2026-10-24T00:30:00.000Z', '2026-10-25T00:30:00.000Z'],
      ['2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z'],
    ])
    // A subscription started at the second showing still starts its first period there.
    const second = anniversary('day', 'Europe/Berlin', '2026-10-25T01:30:00Z')
    expect(span(periodAt(second, t('2026-10-25T01:30:00Z')))).toEqual(['2026-10-25T01:30:00.000Z', '2026-10-26T01:30:00.000Z'])
    expect(span(periodAt(second, t('2026-10-25T01:29:59.999Z')))).toEqual(['2026-10-24T00:30:00.000Z', '2026-10-25T01:30:00.000Z'])
  })

  it('weeks are 7 local days and days 1 local day at the anchor time', () => {
    // Wednesday 10:00 in Los Angeles: PDT (17:00Z) before Nov 1, PST (18:00Z) after.
    const weekly = anniversary('week', 'America/Los_Angeles', '2026-10-28T17:00:00Z')
    expect(span(periodAt(weekly, t('2026-11-01T12:00:00Z')))).toEqual(['2026-10-28T17:00:00.000Z', '2026-11-04T18:00:00.000Z'])
    expect(span(periodAt(weekly, t('2026-10-28T16:59:59.999Z')))).toEqual(['2026-10-21T17:00:00.000Z', '2026-10-28T17:00:00.000Z'])
    const daily = anniversary('day', 'UTC', '2026-11-10T06:00:00Z')
    expect(span(periodAt(daily, t('2026-11-12T05:59:59.999Z')))).toEqual(['2026-11-11T06:00:00.000Z', '2026-11-12T06:00:00.000Z'])
  })
})

describe('periodsBetween', () => {
  const rule = calendar('month', 'UTC')

  it('lists whole periods, the first and last not clipped', () => {
    expect(periodsBetween(rule, t('2026-11-10T00:00:00Z'), t('2026-11-20T00:00:00Z')).map(span)).toEqual([
      ['2026-11-01T00:00:00.000Z', '2026-12-01T00:00:00.000Z'],
    ])
    // `to` is exclusive: a range ending on a boundary does not reach the next period.
    expect(periodsBetween(rule, t('2026-11-10T00:00:00Z'), t('2026-12-01T00:00:00Z')).map(span)).toEqual([
      ['2026-11-01T00:00:00.000Z', '2026-12-01T00:00:00.000Z'],
    ])
  })

  it('is empty for an empty or reversed range', () => {
    expect(periodsBetween(rule, t('2026-11-10T00:00:00Z'), t('2026-11-10T00:00:00Z'))).toEqual([])
    expect(periodsBetween(rule, t('2026-11-10T00:00:00Z'), t('2026-11-01T00:00:00Z'))).toEqual([])
  })
})

afterEach(() => {
  vi.restoreAllMocks()
})

// Billing periods on random rules and instants, weighted toward DST changes, skipped midnights
// and a skipped day: periods hold their instant, tile the time line, and agree with independent
// calendar code (meters/timezone.ts for calendar periods, protocol's addDuration for UTC
// anniversaries).
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { addDuration } from '@meterkit/protocol'
import { localTime, nextStart, startOf } from '../meters/timezone.js'
import { type Anchor, type Interval, type Period, type PeriodRule, nextBoundary, periodAt, periodsBetween } from './periods.js'

const t = (s: string) => Date.parse(s)
const HOUR_MS = 3_600_000
const DAY_MS = 24 * HOUR_MS

/** Zones without a skipped local midnight, where timezone.ts startOf/nextStart are sound. */
const PLAIN_ZONES = ['UTC', 'America/Los_Angeles', 'Europe/Berlin', 'Asia/Kolkata', 'Asia/Kathmandu', 'America/St_Johns', 'Australia/Lord_Howe', 'Pacific/Chatham']
/** Santiago and Havana skip midnight in spring; Samoa skipped 2011-12-30; Casablanca moves for Ramadan. */
const ODD_ZONES = ['America/Santiago', 'America/Havana', 'Pacific/Apia', 'Africa/Casablanca']

/** Each zone's DST changes (or skipped day) near which odd periods happen. */
const CHANGES: Record<string, string[]> = {
  'America/Los_Angeles': ['2026-03-08T10:00:00Z', '2026-11-01T09:00:00Z'],
  'Europe/Berlin': ['2026-03-29T01:00:00Z', '2026-10-25T01:00:00Z'],
  'America/Santiago': ['2026-09-06T04:00:00Z', '2026-04-05T03:00:00Z'],
  'America/Havana': ['2026-03-08T05:00:00Z', '2026-11-01T05:00:00Z'],
  'Australia/Lord_Howe': ['2026-10-03T15:30:00Z', '2026-04-04T15:00:00Z'],
  'Pacific/Chatham': ['2026-09-26T14:00:00Z', '2026-04-04T14:00:00Z'],
  'Pacific/Apia': ['2011-12-30T10:00:00Z'],
}

const anyInstant = fc.integer({ min: t('1995-01-01T00:00:00Z'), max: t('2045-01-01T00:00:00Z') })

/**
 * An instant within 2 h of one of the zone's changes, or whole days or months from one, so that
 * anchors fall in gaps and overlaps and anniversaries come back to them.
 */
function nearChange(timeZone: string): fc.Arbitrary<number> {
  const changes = CHANGES[timeZone]
  if (changes === undefined) return anyInstant
  const shift = fc.oneof(
    fc.constant({ days: 0, months: 0 }),
    fc.integer({ min: -400, max: 400 }).map((days) => ({ days, months: 0 })),
    fc.integer({ min: -36, max: 36 }).map((months) => ({ days: 0, months })),
  )
  return fc.tuple(fc.constantFrom(...changes.map(t)), shift, fc.integer({ min: -2 * HOUR_MS, max: 2 * HOUR_MS }))
    .map(([change, { days, months }, offset]) =>
      addDuration(change + offset, { years: 0, months, weeks: 0, days, hours: 0, minutes: 0, seconds: 0 }))
}

const interval = fc.constantFrom<Interval>('day', 'week', 'month', 'year')

/** A rule and an instant, both often near one of the rule's zone's changes. */
function scenario(zones: string[], anchors: Anchor[] = ['calendar', 'anniversary']) {
  return fc.constantFrom(...zones).chain((timeZone) => {
    const moment = fc.oneof(anyInstant, nearChange(timeZone))
    const rule: fc.Arbitrary<PeriodRule> = fc.record({ interval, anchor: fc.constantFrom(...anchors), timeZone: fc.constant(timeZone), anchorMs: moment })
    return fc.tuple(rule, moment)
  })
}
const ALL_ZONES = [...PLAIN_ZONES, ...ODD_ZONES]

/** Bounds on a period's length; Samoa's skipped day makes anything shorter possible there. */
const LONGEST: Record<Interval, number> = { day: 26 * HOUR_MS, week: 7 * DAY_MS + 2 * HOUR_MS, month: 31 * DAY_MS + 2 * HOUR_MS, year: 366 * DAY_MS + 2 * HOUR_MS }
const SHORTEST: Record<Interval, number> = { day: 22 * HOUR_MS, week: 7 * DAY_MS - 2 * HOUR_MS, month: 28 * DAY_MS - 2 * HOUR_MS, year: 365 * DAY_MS - 2 * HOUR_MS }

function expectLength(r: PeriodRule, p: Period): void {
  const length = p.endMs - p.startMs
  expect(length).toBeGreaterThan(0)
  if (r.timeZone === 'Pacific/Apia') return
  // An anniversary at 02:30 can fall in the spring gap one day and at 02:30 the next: 23.5 h.
  expect(length).toBeGreaterThanOrEqual(SHORTEST[r.interval] - (r.anchor === 'anniversary' ? HOUR_MS : 0))
  expect(length).toBeLessThanOrEqual(LONGEST[r.interval])
}

describe('billing periods on random rules', () => {
  it('hold their instant, and meet their neighbours with no gap or overlap', () => {
    fc.assert(fc.property(scenario(ALL_ZONES), ([r, ms]) => {
      const p = periodAt(r, ms)
      expect(p.startMs).toBeLessThanOrEqual(ms)
      expect(ms).toBeLessThan(p.endMs)
      expectLength(r, p)
      expect(nextBoundary(r, ms)).toBe(p.endMs)
      expect(periodAt(r, p.startMs)).toEqual(p)
      expect(periodAt(r, p.endMs).startMs).toBe(p.endMs)
      expect(periodAt(r, p.startMs - 1).endMs).toBe(p.startMs)
    }), { numRuns: 1000 })
  })

  it('start an anniversary period at the anchor itself', () => {
    fc.assert(fc.property(scenario(ALL_ZONES, ['anniversary']), ([r]) => {
      expect(periodAt(r, r.anchorMs).startMs).toBe(r.anchorMs)
    }), { numRuns: 1000 })
  })

  it('periodsBetween covers the range with consecutive periods, each overlapping it', () => {
    fc.assert(fc.property(scenario(ALL_ZONES), fc.integer({ min: 1, max: 400 * DAY_MS }), ([r, fromMs], lengthMs) => {
      const toMs = fromMs + lengthMs
      const periods = periodsBetween(r, fromMs, toMs)
      expect(periods[0]).toEqual(periodAt(r, fromMs))
      expect(periods.at(-1)).toEqual(periodAt(r, toMs - 1))
      for (let i = 1; i < periods.length; i++) expect(periods[i]!.startMs).toBe(periods[i - 1]!.endMs)
      for (const p of periods) {
        expect(p.startMs < toMs && p.endMs > fromMs).toBe(true)
        expectLength(r, p)
      }
    }), { numRuns: 200 })
  })

  it('calendar periods match timezone.ts startOf/nextStart and begin at local midnight', () => {
    fc.assert(fc.property(scenario(PLAIN_ZONES, ['calendar']), ([r, ms]) => {
      const p = periodAt(r, ms)
      expect(p.startMs).toBe(startOf(ms, r.interval, r.timeZone))
      expect(p.endMs).toBe(nextStart(ms, r.interval, r.timeZone))
      const local = localTime(p.startMs, r.timeZone)
      expect([local.hour, local.minute]).toEqual([0, 0])
      if (r.interval === 'month' || r.interval === 'year') expect(local.day).toBe(1)
      if (r.interval === 'year') expect(local.month).toBe(1)
      if (r.interval === 'week') expect(new Date(Date.UTC(local.year, local.month - 1, local.day)).getUTCDay()).toBe(1)
    }), { numRuns: 500 })
  })

  it('UTC anniversaries are the anchor plus n intervals, by protocol addDuration', () => {
    const STEP = {
      day: { days: 1, months: 0 }, week: { days: 7, months: 0 }, month: { days: 0, months: 1 }, year: { days: 0, months: 12 },
    }
    fc.assert(fc.property(interval, anyInstant, fc.integer({ min: 1, max: 40 }), (i, anchorMs, count) => {
      const r: PeriodRule = { interval: i, anchor: 'anniversary', timeZone: 'UTC', anchorMs }
      const step = STEP[i]
      const expected = Array.from({ length: count }, (_, n) => addDuration(anchorMs, {
        years: 0, months: step.months * n, weeks: 0, days: step.days * n, hours: 0, minutes: 0, seconds: 0,
      }))
      const starts = periodsBetween(r, anchorMs, expected.at(-1)! + 1).map((p) => p.startMs)
      expect(starts).toEqual(expected)
    }), { numRuns: 300 })
  })
})

// Billing periods: the half-open [start, end) spans of a plan's interval in the customer's time
// zone, starting on calendar boundaries or on the subscription's anniversary.
import { instantOfWallClock, wallClockMs } from '../meters/timezone.js'

export type Interval = 'day' | 'week' | 'month' | 'year'

/**
 * `calendar`: periods start at local midnight of each day, of each Monday, of each month's 1st,
 * of each Jan 1. `anniversary`: at the anchor's local wall-clock time, every interval from the
 * anchor's day (before the anchor too, counted back the same way); a month or year n intervals
 * on is counted from the anchor itself, so the 31st falls on a shorter month's last day and
 * returns to the 31st after, and Feb 29 falls on Feb 28 outside leap years.
 *
 * Local times follow the zone across DST: a local day is 23, 24 or 25 hours. A wall-clock time
 * the zone skips (spring-forward gap, or Santiago's midnight) is taken as the first instant after
 * the gap: an anniversary at 02:30 in Berlin falls at 03:00 CEST on the day DST starts. A time
 * shown twice (autumn overlap) is its first showing, except the anchor itself, which always
 * starts its own period. A local day a zone skipped entirely (Samoa, 2011-12-30) holds no period.
 */
export type Anchor = 'calendar' | 'anniversary'

export interface PeriodRule {
  interval: Interval
  anchor: Anchor
  /** IANA zone the boundaries follow (the customer's). */
  timeZone: string
  /** subscription start (anniversary anchor point); unused by the calendar anchor */
  anchorMs: number
}

/** Half-open: [startMs, endMs). */
export interface Period {
  startMs: number
  endMs: number
}

/**
 * Period boundaries as a numbered sequence: `at(n)` never decreases as n grows (instantOfWallClock
 * never does), and `estimate` guesses, from the wall clock, the n of the period holding an instant,
 * off by a step or two, which `locate` corrects: no walk from the anchor, however far away.
 * Two equal boundaries make an empty period (a skipped local day); those are never returned.
 */
interface Boundaries {
  at(n: number): number
  estimate(ms: number): number
}

const DAY_MS = 86_400_000
/** 1970-01-05, the first Monday of the epoch, as a day number. */
const FIRST_MONDAY = 4

/** The period containing instant `ms`. */
export function periodAt(rule: PeriodRule, ms: number): Period {
  // Customers on one plan and zone share their periods: a billing run asks the same question
  // for thousands of them, and each answer costs several time-zone look-ups.
  const key = `${rule.interval}|${rule.anchor}|${rule.timeZone}|${rule.anchor === 'anniversary' ? rule.anchorMs : ''}|${ms}`
  let period = memo.get(key)
  if (period === undefined) {
    const { startMs, endMs } = locate(boundaries(rule), ms)
    period = { startMs, endMs }
    if (memo.size >= MEMO_SIZE) memo.clear()
    memo.set(key, period)
  }
  return { startMs: period.startMs, endMs: period.endMs }
}

const MEMO_SIZE = 50_000
const memo = new Map<string, Period>()

/** The boundary after `ms`: periodAt(rule, ms).endMs. */
export function nextBoundary(rule: PeriodRule, ms: number): number {
  return periodAt(rule, ms).endMs
}

/** Every period overlapping [fromMs, toMs), in order, the first and last not clipped. */
export function periodsBetween(rule: PeriodRule, fromMs: number, toMs: number): Period[] {
  if (!(fromMs < toMs)) return []
  const b = boundaries(rule)
  let { n, startMs, endMs } = locate(b, fromMs)
  const periods: Period[] = [{ startMs, endMs }]
  while (endMs < toMs) {
    n += 1
    startMs = endMs
    endMs = b.at(n + 1)
    if (endMs > startMs) periods.push({ startMs, endMs })
  }
  return periods
}

/** The n with at(n) <= ms < at(n + 1), walking from the estimate. */
function locate(b: Boundaries, ms: number): { n: number; startMs: number; endMs: number } {
  let n = b.estimate(ms)
  let startMs = b.at(n)
  let endMs: number | undefined
  while (ms < startMs) {
    endMs = startMs
    n -= 1
    startMs = b.at(n)
  }
  endMs ??= b.at(n + 1)
  while (ms >= endMs) {
    n += 1
    startMs = endMs
    endMs = b.at(n + 1)
  }
  return { n, startMs, endMs }
}

function boundaries(rule: PeriodRule): Boundaries {
  return rule.anchor === 'calendar' ? calendar(rule.interval, rule.timeZone) : anniversary(rule)
}

/** Boundaries at local midnight: every day, every Monday, every 1st, every Jan 1; n counts from 1970. */
function calendar(interval: Interval, timeZone: string): Boundaries {
  const instant = (wallMs: number) => instantOfWallClock(wallMs, timeZone)
  const wall = (ms: number) => new Date(wallClockMs(ms, timeZone))
  switch (interval) {
    case 'day':
      return { at: (n) => instant(n * DAY_MS), estimate: (ms) => Math.floor(wallClockMs(ms, timeZone) / DAY_MS) }
    case 'week':
      return {
        at: (n) => instant((FIRST_MONDAY + 7 * n) * DAY_MS),
        estimate: (ms) => Math.floor((wallClockMs(ms, timeZone) / DAY_MS - FIRST_MONDAY) / 7),
      }
    case 'month':
      return {
        at: (n) => instant(wallDate(1970, n, 1)),
        estimate: (ms) => {
          const w = wall(ms)
          return (w.getUTCFullYear() - 1970) * 12 + w.getUTCMonth()
        },
      }
    case 'year':
      return { at: (n) => instant(wallDate(1970 + n, 0, 1)), estimate: (ms) => wall(ms).getUTCFullYear() - 1970 }
  }
}

/**
 * Boundaries at the anchor's wall-clock time, n intervals from the anchor. n = 0 is the anchor
 * instant itself, which the wall clock alone would miss when the anchor is the second showing of
 * an autumn-overlap time. Months count from the anchor, never from the previous boundary.
 */
function anniversary(rule: PeriodRule): Boundaries {
  const { interval, timeZone, anchorMs } = rule
  const anchorWall = wallClockMs(anchorMs, timeZone)
  const instant = (n: number, wallMs: number) => (n === 0 ? anchorMs : instantOfWallClock(wallMs, timeZone))
  if (interval === 'day' || interval === 'week') {
    const stepMs = interval === 'day' ? DAY_MS : 7 * DAY_MS
    return {
      at: (n) => instant(n, anchorWall + n * stepMs),
      estimate: (ms) => Math.floor((wallClockMs(ms, timeZone) - anchorWall) / stepMs),
    }
  }
  const months = interval === 'month' ? 1 : 12
  const a = new Date(anchorWall)
  const year = a.getUTCFullYear()
  const month = a.getUTCMonth()
  const day = a.getUTCDate()
  const timeOfDayMs = anchorWall - wallDate(year, month, day)
  return {
    at: (n) => {
      const first = wallDate(year, month + n * months, 1)
      const d = new Date(first)
      const lastDay = new Date(wallDate(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate()
      return instant(n, first + (Math.min(day, lastDay) - 1) * DAY_MS + timeOfDayMs)
    },
    estimate: (ms) => {
      const w = new Date(wallClockMs(ms, timeZone))
      return Math.floor(((w.getUTCFullYear() - year) * 12 + w.getUTCMonth() - month) / months)
    },
  }
}

/** Midnight of a date as a wall-clock ms; month and day overflow roll over, years 0–99 stay as given. */
function wallDate(year: number, monthIndex: number, day: number): number {
  const d = new Date(0)
  d.setUTCFullYear(year, monthIndex, day)
  return d.getTime()
}

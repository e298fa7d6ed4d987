// Calendar boundaries (hour, day, week, month, year) in an IANA time zone, as UTC instants.
// DST and half-hour offsets come from Intl: a local day is 23, 24 or 25 hours long.

const formatters = new Map<string, Intl.DateTimeFormat>()

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone)
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    })
    formatters.set(timeZone, f)
  }
  return f
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone)
    return true
  } catch {
    return false
  }
}

export interface LocalTime {
  year: number
  month: number // 1–12
  day: number
  hour: number
  minute: number
}

export function localTime(ms: number, timeZone: string): LocalTime {
  if (timeZone === 'UTC') {
    const d = new Date(ms)
    return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes() }
  }
  const parts: Record<string, number> = {}
  for (const p of formatter(timeZone).formatToParts(new Date(ms))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value)
  }
  return { year: parts.year!, month: parts.month!, day: parts.day!, hour: parts.hour!, minute: parts.minute! }
}

/** The zone's offset from UTC at an instant, in ms (Asia/Kolkata: +5.5 h). */
export function offsetMs(ms: number, timeZone: string): number {
  const t = localTime(ms, timeZone)
  const seconds = new Date(ms).getUTCSeconds()
  return Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, seconds) - (ms - (ms % 1000 + 1000) % 1000)
}

/** The UTC instant of a local wall-clock time; a time skipped by DST maps to just after the gap. */
export function fromLocal(year: number, month: number, day: number, hour: number, timeZone: string): number {
  return instantOfWallClock(Date.UTC(year, month - 1, day, hour), timeZone)
}

const DAY_MS = 86_400_000

/**
 * The zone's wall-clock time at an instant, written as the UTC instant with the same fields, so
 * calendar arithmetic (Date.UTC, getUTC*) on it never meets a DST change.
 */
export function wallClockMs(ms: number, timeZone: string): number {
  return ms + offsetMs(ms, timeZone)
}

/**
 * The first instant at which the zone's clocks show `wallMs` (as from wallClockMs) or later. So a
 * time shown twice (autumn overlap) is its earlier instant, and a time skipped by a
 * spring-forward gap is the first instant after the gap, when the clocks jump past it. The result
 * never decreases as `wallMs` grows.
 */
export function instantOfWallClock(wallMs: number, timeZone: string): number {
  // The offsets a day either side bracket the transition, if any, near this wall time.
  const before = offsetMs(wallMs - DAY_MS, timeZone)
  const after = offsetMs(wallMs + DAY_MS, timeZone)
  if (before === after) return wallMs - before
  const earlier = wallMs - Math.max(before, after)
  if (wallClockMs(earlier, timeZone) === wallMs) return earlier
  const later = wallMs - Math.min(before, after)
  if (wallClockMs(later, timeZone) === wallMs) return later
  // A gap: the clocks pass from before it (at `earlier`) to after it (at `later`); find the jump.
  let lo = earlier
  let hi = later
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2)
    if (wallClockMs(mid, timeZone) >= wallMs) hi = mid
    else lo = mid
  }
  return hi
}

export type CalendarUnit = 'hour' | 'day' | 'week' | 'month' | 'year'

/** The start of the calendar unit that holds `ms`, in the zone (weeks start on Monday). */
export function startOf(ms: number, unit: CalendarUnit, timeZone: string): number {
  const t = localTime(ms, timeZone)
  switch (unit) {
    case 'hour': {
      // Hours follow the zone's offset (Kolkata hours start at :30 UTC).
      const start = fromLocal(t.year, t.month, t.day, t.hour, timeZone)
      return start <= ms ? start : start - 3_600_000
    }
    case 'day':
      return fromLocal(t.year, t.month, t.day, 0, timeZone)
    case 'week': {
      const weekday = (new Date(Date.UTC(t.year, t.month - 1, t.day)).getUTCDay() + 6) % 7
      const d = new Date(Date.UTC(t.year, t.month - 1, t.day - weekday))
      return fromLocal(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), 0, timeZone)
    }
    case 'month':
      return fromLocal(t.year, t.month, 1, 0, timeZone)
    case 'year':
      return fromLocal(t.year, 1, 1, 0, timeZone)
  }
}

/** The first boundary of the unit strictly after `ms`. */
export function nextStart(ms: number, unit: CalendarUnit, timeZone: string): number {
  const start = startOf(ms, unit, timeZone)
  const t = localTime(start, timeZone)
  let next: number
  switch (unit) {
    case 'hour':
      next = start + 3_600_000
      break
    case 'day': {
      const d = new Date(Date.UTC(t.year, t.month - 1, t.day + 1))
      next = fromLocal(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), 0, timeZone)
      break
    }
    case 'week': {
      const d = new Date(Date.UTC(t.year, t.month - 1, t.day + 7))
      next = fromLocal(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), 0, timeZone)
      break
    }
    case 'month':
      next = fromLocal(t.month === 12 ? t.year + 1 : t.year, t.month === 12 ? 1 : t.month + 1, 1, 0, timeZone)
      break
    case 'year':
      next = fromLocal(t.year + 1, 1, 1, 0, timeZone)
      break
  }
  return next > ms ? next : nextStart(next, unit, timeZone)
}

/** Boundaries splitting [from, to) into calendar units: [from, b1, b2, …, to]. */
export function splitRange(fromMs: number, toMs: number, unit: CalendarUnit, timeZone: string): number[] {
  const edges = [fromMs]
  for (let b = nextStart(fromMs, unit, timeZone); b < toMs; b = nextStart(b, unit, timeZone)) edges.push(b)
  edges.push(toMs)
  return edges
}

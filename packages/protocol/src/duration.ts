// ISO 8601 durations (`P30D`, `PT1H`, `P1M`): parsed into calendar and clock parts, since a month
// is not a fixed number of milliseconds.

export interface Duration {
  years: number
  months: number
  weeks: number
  days: number
  hours: number
  minutes: number
  seconds: number
}

const ISO_DURATION = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d{1,3})?)S)?)?$/

export function parseDuration(text: string): Duration | undefined {
  const m = ISO_DURATION.exec(text)
  if (m === null || text === 'P' || text.endsWith('T')) return undefined
  const n = (i: number) => (m[i] === undefined ? 0 : Number(m[i]))
  return { years: n(1), months: n(2), weeks: n(3), days: n(4), hours: n(5), minutes: n(6), seconds: n(7) }
}

/** Milliseconds of a duration that has no calendar part (years or months); `undefined` otherwise. */
export function fixedDurationMs(d: Duration): number | undefined {
  if (d.years !== 0 || d.months !== 0) return undefined
  return Math.round(((((d.weeks * 7 + d.days) * 24 + d.hours) * 60 + d.minutes) * 60 + d.seconds) * 1000)
}

/** Adds a duration to an instant in UTC, calendar parts first (Jan 31 + P1M = Feb 28 or 29). */
export function addDuration(ms: number, d: Duration): number {
  const date = new Date(ms)
  if (d.years !== 0 || d.months !== 0) {
    const day = date.getUTCDate()
    const target = new Date(date)
    target.setUTCDate(1)
    target.setUTCFullYear(date.getUTCFullYear() + d.years, date.getUTCMonth() + d.months, 1)
    const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate()
    target.setUTCDate(Math.min(day, lastDay))
    ms = target.getTime()
  }
  return ms + fixedDurationMs({ ...d, years: 0, months: 0 })!
}

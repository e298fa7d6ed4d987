// RFC 3339 strings given to track(): a compact reader for browser and edge bundles. It answers
// exactly what protocol's parseRfc3339 answers (a property test holds them equal); that one is
// unrolled by hand for the collector's hot path and weighs three times as much.
/** The Gregorian calendar repeats every 400 years (146,097 days). */
const MS_PER_400_YEARS = 146_097 * 86_400_000
const RFC3339 = /^(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(?:\.(\d+))?(?:[Zz]|([+-])(\d\d):(\d\d))$/

/** Milliseconds since the epoch, or undefined when `text` is not an RFC 3339 date-time. */
export function readTimestamp(text: string): number | undefined {
  const m = text.length <= 64 ? RFC3339.exec(text) : null
  if (m === null) return undefined
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number]
  const offsetHours = Number(m[9] ?? 0)
  const offsetMinutes = Number(m[10] ?? 0)
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
  const monthDays = month === 2 ? (leap ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31
  if (month < 1 || month > 12 || day < 1 || day > monthDays || hour > 23 || minute > 59 || second > 60 || offsetHours > 23 || offsetMinutes > 59) {
    return undefined
  }
  // Precision past the millisecond is dropped, and a leap second (:60) folds onto the next, as Date does.
  const ms = Number((m[7] ?? '').slice(0, 3).padEnd(3, '0'))
  const offset = (offsetHours * 60 + offsetMinutes) * (m[8] === '-' ? -1 : 1)
  // Date.UTC reads years 0–99 as 1900–1999: such years go through the next 400-year cycle.
  const cycle = year < 100 ? 1 : 0
  return Date.UTC(year + cycle * 400, month - 1, day, hour, minute, second, ms) - cycle * MS_PER_400_YEARS - offset * 60_000
}

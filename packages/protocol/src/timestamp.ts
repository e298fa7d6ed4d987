// RFC 3339 timestamps: any offset accepted on input, UTC with milliseconds on output.
// Parsed by hand: this runs once per ingested event, and a regex plus Date.parse cost 4x more.

/** The Gregorian calendar repeats every 400 years (146,097 days). */
const MS_PER_400_YEARS = 146_097 * 86_400_000
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

function isLeapYear(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0
}

/** Two or four decimal digits at `at`, or -1. */
function digits(text: string, at: number, count: number): number {
  let n = 0
  for (let i = at; i < at + count; i++) {
    const c = text.charCodeAt(i) - 48
    if (c < 0 || c > 9) return -1
    n = n * 10 + c
  }
  return n
}

/** Milliseconds since the epoch, or `undefined` when `text` is not a valid RFC 3339 date-time. */
export function parseRfc3339(text: string): number | undefined {
  // YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)
  if (text.length < 20 || text.length > 64) return undefined
  const year = digits(text, 0, 4)
  const month = digits(text, 5, 2)
  const day = digits(text, 8, 2)
  const hour = digits(text, 11, 2)
  const minute = digits(text, 14, 2)
  const second = digits(text, 17, 2)
  if (year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 60) {
    return undefined
  }
  if (text[4] !== '-' || text[7] !== '-' || text[13] !== ':' || text[16] !== ':') return undefined
  const t = text[10]
  if (t !== 'T' && t !== 't') return undefined
  if (day > (month === 2 && isLeapYear(year) ? 29 : DAYS_IN_MONTH[month - 1]!)) return undefined

  let i = 19
  let ms = 0
  if (text[i] === '.') {
    i++
    const start = i
    while (i < text.length && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) {
      // Precision past the millisecond is dropped, as Date does.
      if (i - start < 3) ms = ms * 10 + (text.charCodeAt(i) - 48)
      i++
    }
    if (i === start) return undefined
    for (let k = Math.min(i - start, 3); k < 3; k++) ms *= 10
  }
  let offsetMinutes = 0
  const zone = text[i]
  if (zone === 'Z' || zone === 'z') {
    if (i + 1 !== text.length) return undefined
  } else if (zone === '+' || zone === '-') {
    if (i + 6 !== text.length || text[i + 3] !== ':') return undefined
    const oh = digits(text, i + 1, 2)
    const om = digits(text, i + 4, 2)
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return undefined
    offsetMinutes = (oh * 60 + om) * (zone === '+' ? 1 : -1)
  } else {
    return undefined
  }
  // A leap second (:60) is folded onto the next second, as Date does.
  // Date.UTC reads years 0–99 as 1900–1999: such years go through the next 400-year cycle.
  const cycle = year < 100 ? 1 : 0
  return Date.UTC(year + cycle * 400, month - 1, day, hour, minute, second, ms) - cycle * MS_PER_400_YEARS - offsetMinutes * 60_000
}

/** `2026-11-25T10:00:00.000Z` */
export function formatTimestamp(ms: number): string {
  return new Date(ms).toISOString()
}

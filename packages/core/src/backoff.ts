// How long to wait before a retry, and which answers are retried: pure functions, free of the
// wire schemas so that small entries (reservations) carry only these.
export const BACKOFF_BASE_MS = 500
export const BACKOFF_CAP_MS = 60_000
/** Longest Retry-After we honour; a larger value is clamped to it. */
export const MAX_RETRY_AFTER_MS = 60 * 60 * 1000

/**
 * Delay before retry number `attempt` (1 = the first retry): uniform in
 * [0, min(cap, base · 2^(attempt−1))) ("full jitter", AWS Architecture Blog, 2015).
 */
export function backoffMs(attempt: number, random: () => number, baseMs = BACKOFF_BASE_MS, capMs = BACKOFF_CAP_MS): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, Math.min(attempt - 1, 52)))
  const r = random()
  return Math.floor((r >= 0 && r < 1 ? r : 0) * ceiling)
}

/** 408, 429 and 5xx except 501 and 505; every other status is final. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status <= 599 && status !== 501 && status !== 505)
}

const MONTHS = 'Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec'
const DAYS = 'Mon|Tue|Wed|Thu|Fri|Sat|Sun'
// The three HTTP-date forms a recipient must accept (RFC 9110 §5.6.7), always in GMT.
const IMF_FIXDATE = new RegExp(`^(?:${DAYS}), (\\d\\d) (${MONTHS}) (\\d{4}) (\\d\\d):(\\d\\d):(\\d\\d) GMT$`)
const RFC850_DATE = new RegExp(`^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\\d\\d)-(${MONTHS})-(\\d\\d) (\\d\\d):(\\d\\d):(\\d\\d) GMT$`)
const ASCTIME_DATE = new RegExp(`^(?:${DAYS}) (${MONTHS}) ([ \\d]\\d) (\\d\\d):(\\d\\d):(\\d\\d) (\\d{4})$`)

/** An HTTP-date in ms since the epoch, or undefined when `text` is none of its three forms. */
export function parseHttpDate(text: string, nowMs: number): number | undefined {
  let fields: [day: string, month: string, year: number, time: string[]]
  let m = IMF_FIXDATE.exec(text)
  if (m !== null) fields = [m[1]!, m[2]!, Number(m[3]), m.slice(4, 7)]
  else if ((m = RFC850_DATE.exec(text)) !== null) {
    // A two-digit year more than 50 years ahead is the most recent past year with those digits.
    const thisYear = new Date(nowMs).getUTCFullYear()
    let year = thisYear - (thisYear % 100) + Number(m[3])
    if (year > thisYear + 50) year -= 100
    fields = [m[1]!, m[2]!, year, m.slice(4, 7)]
  } else if ((m = ASCTIME_DATE.exec(text)) !== null) fields = [m[2]!.trim(), m[1]!, Number(m[6]), m.slice(3, 6)]
  else return undefined
  const [dayText, monthName, year, [h, min, s]] = fields
  const month = MONTHS.split('|').indexOf(monthName)
  const day = Number(dayText)
  const [hour, minute, second] = [Number(h), Number(min), Number(s)]
  const monthDays = new Date(Date.UTC(2000 + (year % 400), month + 1, 0)).getUTCDate()
  if (day < 1 || day > monthDays || hour > 23 || minute > 59 || second > 60) return undefined
  return Date.UTC(year, month, day, hour, minute, second)
}

/**
 * `Retry-After` as delta-seconds (a fraction is tolerated) or an HTTP-date, in ms from `nowMs`;
 * undefined if absent or anything else (then the backoff applies).
 */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined
  const text = value.trim()
  let ms: number
  if (/^\d+(\.\d+)?$/.test(text)) ms = Number(text) * 1000
  else {
    const at = parseHttpDate(text, nowMs)
    if (at === undefined) return undefined
    ms = at - nowMs
  }
  return Math.min(Math.max(0, Math.ceil(ms)), MAX_RETRY_AFTER_MS)
}

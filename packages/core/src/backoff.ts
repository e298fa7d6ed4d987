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

/** `Retry-After` as delta-seconds or an HTTP date, in ms from `nowMs`; undefined if absent or bad. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined
  const text = value.trim()
  let ms: number
  if (/^\d+(\.\d+)?$/.test(text)) ms = Number(text) * 1000
  else {
    const at = Date.parse(text)
    if (!Number.isFinite(at)) return undefined
    ms = at - nowMs
  }
  return Math.min(Math.max(0, Math.ceil(ms)), MAX_RETRY_AFTER_MS)
}

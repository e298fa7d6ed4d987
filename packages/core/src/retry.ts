// The retry policy, written once for every runtime: which answers are retried, how long to wait
// (full-jitter exponential backoff, a pure function of the attempt number), and Retry-After.
import { readBatchResults, readErrorBody, type EventResult } from '@meterkit/protocol'
import type { TransportResult } from './transport.js'

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

/** What one attempt at sending a batch came to. */
export type AttemptOutcome =
  | { kind: 'results'; results: EventResult[] }
  | { kind: 'retry'; code: string; message: string; status?: number; retryAfterMs?: number }
  | { kind: 'split' }
  | { kind: 'fatal'; code: string; message: string; status: number }

function errorOf(body: string, status: number): { code: string; message: string } {
  try {
    const error = readErrorBody(JSON.parse(body))
    if (error !== undefined) return error
  } catch {
    // not JSON: fall through
  }
  return { code: `http_${status}`, message: `HTTP ${status}` }
}

export function classifyResult(result: TransportResult, eventCount: number, nowMs: number): AttemptOutcome {
  if (!result.ok) return { kind: 'retry', code: result.error, message: result.message }
  const { status } = result
  if (status >= 200 && status < 300) {
    try {
      const results = readBatchResults(JSON.parse(result.body))
      if (results !== undefined && results.length === eventCount) return { kind: 'results', results }
    } catch {
      // not JSON: below
    }
    // The batch may have been applied; resending is safe because ids deduplicate.
    return { kind: 'retry', code: 'invalid_response', message: `HTTP ${status} with an unreadable body`, status }
  }
  if (status === 413) return { kind: 'split' }
  const { code, message } = errorOf(result.body, status)
  if (isRetryableStatus(status)) {
    const retryAfterMs = parseRetryAfter(result.retryAfter, nowMs)
    return retryAfterMs === undefined
      ? { kind: 'retry', code, message, status }
      : { kind: 'retry', code, message, status, retryAfterMs }
  }
  return { kind: 'fatal', code, message, status }
}

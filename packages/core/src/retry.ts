// The retry policy, written once for every runtime: which answers are retried, how long to wait
// (full-jitter exponential backoff, a pure function of the attempt number), and Retry-After.
import { readBatchResults, readErrorBody, type EventResult } from '@meterkit/protocol'
import type { TransportResult } from './transport.js'

export { BACKOFF_BASE_MS, BACKOFF_CAP_MS, MAX_RETRY_AFTER_MS, backoffMs, isRetryableStatus, parseRetryAfter } from './backoff.js'
import { isRetryableStatus, parseRetryAfter } from './backoff.js'

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

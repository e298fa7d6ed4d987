// What one delivery attempt does to a delivery, whatever the store: a 2xx delivers it; a failure
// schedules the next attempt after the backoff (and at least the receiver's Retry-After), never
// past the end of the retry window, where one last attempt is made; a failure at or past that
// end fails it.
import { DELIVERY_WINDOW_MS, retryDelayMs } from './backoff.js'
import type { AttemptResult } from './model.js'

const MAX_ERROR_LENGTH = 1000

export type AttemptOutcome =
  | { status: 'delivered'; atMs: number; httpStatus: number | null }
  | { status: 'pending' | 'failed'; atMs: number; httpStatus: number | null; error: string; nextAttemptAtMs: number | null }

export function attemptOutcome(delivery: { createdAtMs: number; attempts: number }, result: AttemptResult, random: () => number): AttemptOutcome {
  const httpStatus = result.status ?? null
  if (result.ok) return { status: 'delivered', atMs: result.nowMs, httpStatus }
  const deadline = delivery.createdAtMs + DELIVERY_WINDOW_MS
  const error = (result.error ?? (result.status !== undefined ? `HTTP ${result.status}` : 'failed')).slice(0, MAX_ERROR_LENGTH)
  if (result.nowMs >= deadline) return { status: 'failed', atMs: result.nowMs, httpStatus, error, nextAttemptAtMs: null }
  const delay = Math.max(retryDelayMs(delivery.attempts + 1, random), result.retryAfterMs ?? 0)
  return { status: 'pending', atMs: result.nowMs, httpStatus, error, nextAttemptAtMs: Math.min(result.nowMs + delay, deadline) }
}

/**
 * How long a collector holds a delivery it is sending (`WebhookStore.lease`): longer than an
 * attempt can take, so that with several collectors on one database only one sends it; if that
 * collector dies mid-attempt, another sends it once the lease is over.
 */
export const DELIVERY_LEASE_MS = 60_000

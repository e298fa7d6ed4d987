// Request/response calls beside the event stream (reservations): answered to the caller, so
// they are retried a few times on network errors, 408, 429 and 5xx with the same backoff as
// batches, then fail with the last error. Idempotent by the id the client chose.
import { MeterkitDeliveryError, MeterkitError } from './errors.js'
import { backoffMs, isRetryableStatus, parseRetryAfter } from './backoff.js'
import { type Clock, type Timers, sleep } from './time.js'
import type { ApiRequest, Transport } from './transport.js'

export interface CallContext {
  transport: Transport
  clock: Clock
  timers: Timers
  random: () => number
  /** Attempts in all (default 4). */
  attempts?: number
}

export async function callJson<T>(ctx: CallContext, request: ApiRequest): Promise<T> {
  if (ctx.transport.call === undefined) throw new MeterkitError('unsupported', 'this transport makes no API calls')
  const attempts = ctx.attempts ?? 4
  let last: MeterkitError = new MeterkitDeliveryError('network', 'not sent', 0)
  for (let attempt = 0; attempt < attempts; attempt++) {
    const result = await ctx.transport.call(request)
    let waitMs: number | undefined
    if (result.ok) {
      let body: { error?: { code?: string; message?: string } } | undefined
      try {
        body = JSON.parse(result.body) as typeof body
      } catch {
        body = undefined
      }
      if (result.status >= 200 && result.status < 300 && body !== undefined) return body as T
      last = new MeterkitDeliveryError(body?.error?.code ?? `http_${result.status}`, body?.error?.message ?? `the collector answered ${result.status}`, 0, result.status)
      if (!isRetryableStatus(result.status)) throw last
      waitMs = parseRetryAfter(result.retryAfter, ctx.clock.now())
    } else {
      last = new MeterkitDeliveryError(result.error, result.message, 0)
    }
    if (attempt + 1 < attempts) await sleep(ctx.timers, waitMs ?? backoffMs(attempt + 1, ctx.random)).promise
  }
  throw last
}

// Idempotency-Key on the money paths (payments, top-ups), with Stripe's semantics: the same key
// and the same request answer the first answer again (`Idempotent-Replayed: true`); the same key
// with another request is 409 `idempotency_conflict`; while the first is still running, 409
// `idempotency_in_progress`. Keys are per tenant and route, kept at least 24 hours.
// docs/decisions/0009-idempotency-keys.md says why the claim is a row of its own.
import { createHash } from 'node:crypto'
import { canonicalJson } from '@meterkit/engine'
import { type JsonValue, MAX_BATCH_BYTES } from '@meterkit/protocol'
import { createMiddleware } from 'hono/factory'
import type { AppContext } from './app.js'
import { HttpError } from './http-error.js'
import type { AuthEnv } from './middleware/auth.js'
import { readBodyText } from './middleware/body.js'

export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key'
export const REPLAYED_HEADER = 'Idempotent-Replayed'
/** How long a key and its answer are kept, at least: a retry within it replays. */
export const IDEMPOTENCY_RETENTION_MS = 24 * 3_600_000
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/

/**
 * The request as compared between two uses of a key: method, path and body, the body by its
 * canonical JSON (key order and spacing do not make two bodies differ), or as sent when not JSON.
 */
export function requestFingerprint(method: string, path: string, body: string): string {
  let normalized = body
  try {
    normalized = body.trim() === '' ? '' : canonicalJson(JSON.parse(body) as JsonValue)
  } catch {
    // Not JSON: the route will refuse it; compare it as sent.
  }
  return createHash('sha256').update(`${method} ${path}\n${normalized}`).digest('hex')
}

/**
 * Whether an answer is kept for replay. Not kept: 5xx (nothing may have happened; a retry should
 * run) and refusals of the request's form (400, 413, 415), which changed nothing either.
 */
export function keepsAnswer(status: number): boolean {
  return status < 500 && status !== 400 && status !== 413 && status !== 415
}

/** Guards one route (named by its pattern, e.g. `POST /v1/invoices/:id/payments`). */
export function idempotent(ctx: AppContext, route: string) {
  return createMiddleware<AuthEnv>(async (c, next) => {
    const key = c.req.header(IDEMPOTENCY_KEY_HEADER)
    if (key === undefined) return next()
    if (!KEY_PATTERN.test(key)) throw new HttpError('invalid_request', `${IDEMPOTENCY_KEY_HEADER}: must be 1–255 printable ASCII characters without spaces`)
    const tenantId = c.get('principal').tenantId
    // Read a copy: the route reads the body itself.
    const body = await readBodyText(c.req.raw.clone(), MAX_BATCH_BYTES)
    const fingerprint = requestFingerprint(c.req.method, new URL(c.req.url).pathname, body)
    const claim = await ctx.store.idempotency.claim(tenantId, route, key, fingerprint, ctx.clock.now())
    if (!claim.claimed) {
      const { record } = claim
      if (record.requestHash !== fingerprint) {
        throw new HttpError('idempotency_conflict', `${IDEMPOTENCY_KEY_HEADER}: this key was used with another request (another path or body); use a new key for a new request`)
      }
      if (record.state === 'in_progress') {
        throw new HttpError('idempotency_in_progress', `${IDEMPOTENCY_KEY_HEADER}: the first request with this key has not finished; retry later`, undefined, { 'retry-after': '1' })
      }
      return new Response(record.body, { status: record.status!, headers: { 'content-type': 'application/json', [REPLAYED_HEADER.toLowerCase()]: 'true' } })
    }
    try {
      await next()
    } catch (err) {
      await ctx.store.idempotency.release(tenantId, route, key)
      throw err
    }
    // Errors thrown by the route have been turned into their answer by now (app.onError).
    const status = c.res.status
    if (!keepsAnswer(status)) {
      await ctx.store.idempotency.release(tenantId, route, key)
      return
    }
    const text = await c.res.clone().text()
    await ctx.store.idempotency.complete(tenantId, route, key, { status, body: text })
  })
}

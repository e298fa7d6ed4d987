import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { BACKOFF_BASE_MS, BACKOFF_CAP_MS, backoffMs, classifyResult, isRetryableStatus, parseRetryAfter } from './retry.js'

describe('backoffMs', () => {
  it('stays within [0, min(cap, base·2^(n−1))) for any attempt and random value', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempt, r) => {
        const ms = backoffMs(attempt, () => r)
        const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1))
        return Number.isInteger(ms) && ms >= 0 && ms < Math.max(1, ceiling) && ms <= BACKOFF_CAP_MS
      }),
    )
  })

  it('grows exponentially from 500 ms and caps at 60 s (full jitter)', () => {
    const top = () => 0.999999
    expect(backoffMs(1, top)).toBe(499)
    expect(backoffMs(2, top)).toBe(999)
    expect(backoffMs(8, top)).toBe(59_999)
    expect(backoffMs(50, top)).toBe(59_999)
    expect(backoffMs(3, () => 0)).toBe(0)
  })
})

describe('retry classification', () => {
  it('retries 408, 429 and 5xx except 501/505', () => {
    expect([408, 429, 500, 502, 503, 504, 599].every(isRetryableStatus)).toBe(true)
    expect([400, 401, 403, 404, 409, 413, 415, 422, 501, 505].some(isRetryableStatus)).toBe(false)
  })

  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.UTC(2026, 10, 25, 10)
    expect(parseRetryAfter('3', now)).toBe(3000)
    expect(parseRetryAfter(new Date(now + 7000).toUTCString(), now)).toBe(7000)
    expect(parseRetryAfter('soon', now)).toBeUndefined()
    expect(parseRetryAfter(undefined, now)).toBeUndefined()
  })

  it('maps answers to outcomes', () => {
    const ok = (status: number, body = '', retryAfter?: string) => ({ ok: true as const, status, body, retryAfter })
    const results = JSON.stringify({ accepted: 1, duplicates: 0, conflicts: 0, rejected: 0, results: [{ id: 'a', status: 'accepted' }] })
    expect(classifyResult(ok(200, results), 1, 0).kind).toBe('results')
    expect(classifyResult(ok(200, results), 2, 0)).toMatchObject({ kind: 'retry', code: 'invalid_response' })
    expect(classifyResult(ok(200, 'garbage'), 1, 0)).toMatchObject({ kind: 'retry' })
    expect(classifyResult(ok(413), 1, 0)).toEqual({ kind: 'split' })
    expect(classifyResult(ok(429, '{"error":{"code":"rate_limited","message":"slow"}}', '2'), 1, 0)).toEqual({
      kind: 'retry', code: 'rate_limited', message: 'slow', status: 429, retryAfterMs: 2000,
    })
    expect(classifyResult(ok(401, '{"error":{"code":"unauthorized","message":"bad key"}}'), 1, 0)).toEqual({
      kind: 'fatal', code: 'unauthorized', message: 'bad key', status: 401,
    })
    expect(classifyResult({ ok: false, error: 'timeout', message: 't' }, 1, 0)).toMatchObject({ kind: 'retry', code: 'timeout' })
  })
})

import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type Database from 'better-sqlite3'
import { openDatabase } from '../store/sqlite/connection.js'
import { DELIVERY_WINDOW_MS, RETRY_DELAYS_MS, retryDelayMs } from './backoff.js'
import { WebhookOutbox } from './outbox.js'
import type { InvoiceFinalizedData, WebhookEndpoint } from './payloads.js'

const T0 = Date.parse('2026-11-25T10:00:00.000Z')
const ENDPOINTS: WebhookEndpoint[] = [
  { url: 'https://a.example/hooks', secret: 'secret-of-endpoint-a', events: ['invoice.finalized', 'balance.low'] },
  { url: 'https://b.example/hooks', secret: 'secret-of-endpoint-b', events: ['limit.reached'] },
  { url: 'https://c.example/hooks', secret: 'secret-of-endpoint-c', events: ['invoice.finalized'] },
]
const INVOICE: InvoiceFinalizedData = {
  id: 'in_1', number: 1, customerId: 'cus_42', subscriptionId: 'sub_1', status: 'finalized', total: '49.00', currency: 'USD',
  periodStart: '2026-10-01T00:00:00.000Z', periodEnd: '2026-11-01T00:00:00.000Z',
}

let db: Database.Database
let outbox: WebhookOutbox
beforeEach(() => {
  db = openDatabase(':memory:')
  outbox = new WebhookOutbox(db, { random: () => 0.5 })
})
afterEach(() => db.close())

describe('the webhook outbox', () => {
  it('writes one delivery per subscribed endpoint, each with its own id and the same fixed body', () => {
    const ids = outbox.enqueue(1, ENDPOINTS, 'invoice.finalized', INVOICE, T0)
    expect(ids).toHaveLength(2)
    expect(new Set(ids).size).toBe(2)
    for (const id of ids) expect(id).toMatch(/^msg_[A-Za-z0-9]{24}$/)
    const due = outbox.due(T0, 10)
    expect(due.map((d) => d.url)).toEqual(['https://a.example/hooks', 'https://c.example/hooks'])
    expect(due.map((d) => d.secret)).toEqual(['secret-of-endpoint-a', 'secret-of-endpoint-c'])
    expect(JSON.parse(due[0]!.body)).toEqual({ type: 'invoice.finalized', data: INVOICE, createdAt: '2026-11-25T10:00:00.000Z' })
    expect(due[1]!.body).toBe(due[0]!.body)
    expect(outbox.enqueue(1, ENDPOINTS, 'top_up.created', { id: 't', customerId: 'c', grantId: 'g', credits: '5', automatic: false }, T0)).toEqual([])
    expect(outbox.enqueue(1, [], 'invoice.finalized', INVOICE, T0)).toEqual([])
  })

  it('joins the caller\'s transaction: a rollback leaves nothing', () => {
    const fails = db.transaction(() => {
      outbox.enqueue(1, ENDPOINTS, 'invoice.finalized', INVOICE, T0)
      throw new Error('the invoice could not be written')
    })
    expect(() => fails()).toThrow('could not be written')
    expect(outbox.due(T0 + DELIVERY_WINDOW_MS, 10)).toEqual([])
    expect(outbox.list(1, { limit: 10 }).data).toEqual([])
    db.transaction(() => outbox.enqueue(1, ENDPOINTS, 'invoice.finalized', INVOICE, T0)).immediate()
    expect(outbox.due(T0, 10)).toHaveLength(2)
  })

  it('lists due deliveries only, the longest-waiting first', () => {
    const [early] = outbox.enqueue(1, ENDPOINTS.slice(0, 1), 'balance.low', { customerId: 'c', balance: '4', available: '4', threshold: '5' }, T0 - 1000)
    const [late] = outbox.enqueue(1, ENDPOINTS.slice(0, 1), 'invoice.finalized', INVOICE, T0)
    expect(outbox.due(T0 - 1, 10).map((d) => d.id)).toEqual([early])
    expect(outbox.due(T0, 10).map((d) => d.id)).toEqual([early, late])
    expect(outbox.due(T0, 1).map((d) => d.id)).toEqual([early])
  })

  it('retries on the backoff schedule with the same id and body, then fails three days after the event', () => {
    const [id] = outbox.enqueue(1, ENDPOINTS.slice(0, 1), 'invoice.finalized', INVOICE, T0)
    const body = outbox.due(T0, 1)[0]!.body
    let now = T0
    const delays: number[] = []
    let status: string | undefined = 'pending'
    while (status === 'pending') {
      const due = outbox.due(now, 10)
      expect(due.map((d) => [d.id, d.body])).toEqual([[id, body]])
      // Not due a millisecond earlier: the schedule is exact with this jitter source.
      expect(outbox.due(now - 1, 10)).toEqual([])
      status = outbox.recordAttempt(id!, { ok: false, status: 500, error: 'HTTP 500: boom', nowMs: now })
      const next = outbox.list(1, { limit: 1 }).data[0]!
      if (next.nextAttemptAtMs !== null) {
        delays.push(next.nextAttemptAtMs - now)
        now = next.nextAttemptAtMs
      }
    }
    // 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h: the 9th attempt is at 51:35:05; a 24 h wait
    // would pass the 72 h window, so the 10th and last attempt is at its end, 20:24:55 later.
    expect(delays).toEqual([...RETRY_DELAYS_MS.slice(0, 8), 20 * 3_600_000 + 24 * 60_000 + 55_000])
    expect(now).toBe(T0 + DELIVERY_WINDOW_MS)
    expect(status).toBe('failed')
    const failed = outbox.list(1, { limit: 1 }).data[0]!
    expect(failed).toMatchObject({ id, status: 'failed', attempts: 10, nextAttemptAtMs: null, lastAttemptAtMs: T0 + DELIVERY_WINDOW_MS, lastStatus: 500, lastError: 'HTTP 500: boom' })
    expect(outbox.due(Number.MAX_SAFE_INTEGER, 10)).toEqual([])
    expect(outbox.recordAttempt(id!, { ok: true, status: 200, nowMs: now })).toBeUndefined()
  })

  it('marks a delivery delivered on success and never offers it again', () => {
    const [id] = outbox.enqueue(1, ENDPOINTS.slice(0, 1), 'invoice.finalized', INVOICE, T0)
    expect(outbox.recordAttempt(id!, { ok: false, error: 'connect ECONNREFUSED', nowMs: T0 })).toBe('pending')
    expect(outbox.recordAttempt(id!, { ok: true, status: 204, nowMs: T0 + 5000 })).toBe('delivered')
    expect(outbox.due(Number.MAX_SAFE_INTEGER, 10)).toEqual([])
    expect(outbox.list(1, { limit: 10 }).data[0]).toMatchObject({
      status: 'delivered', attempts: 2, deliveredAtMs: T0 + 5000, lastStatus: 204, lastError: null, nextAttemptAtMs: null,
    })
    expect(outbox.recordAttempt(id!, { ok: false, nowMs: T0 + 6000 })).toBeUndefined()
    expect(outbox.recordAttempt('msg_unknown', { ok: true, nowMs: T0 })).toBeUndefined()
  })

  it('waits at least as long as the endpoint\'s Retry-After, within the window', () => {
    const [id] = outbox.enqueue(1, ENDPOINTS.slice(0, 1), 'invoice.finalized', INVOICE, T0)
    outbox.recordAttempt(id!, { ok: false, status: 429, retryAfterMs: 120_000, nowMs: T0 })
    expect(outbox.list(1, { limit: 1 }).data[0]!.nextAttemptAtMs).toBe(T0 + 120_000)
    outbox.recordAttempt(id!, { ok: false, status: 503, retryAfterMs: 10 * DELIVERY_WINDOW_MS, nowMs: T0 + 120_000 })
    expect(outbox.list(1, { limit: 1 }).data[0]!.nextAttemptAtMs).toBe(T0 + DELIVERY_WINDOW_MS)
  })

  it('lists a tenant\'s deliveries newest first, by status, cursor-paged, never another tenant\'s', () => {
    const ids = [0, 1, 2, 3, 4].flatMap((i) => outbox.enqueue(1, ENDPOINTS.slice(0, 1), 'invoice.finalized', { ...INVOICE, id: `in_${i}` }, T0 + i))
    outbox.enqueue(2, ENDPOINTS.slice(0, 1), 'invoice.finalized', INVOICE, T0)
    outbox.recordAttempt(ids[1]!, { ok: true, status: 200, nowMs: T0 + 10 })
    outbox.recordAttempt(ids[3]!, { ok: true, status: 200, nowMs: T0 + 10 })
    const first = outbox.list(1, { limit: 2 })
    expect(first.data.map((d) => d.id)).toEqual([ids[4], ids[3]])
    const second = outbox.list(1, { limit: 2, cursor: first.nextCursor! })
    expect(second.data.map((d) => d.id)).toEqual([ids[2], ids[1]])
    const third = outbox.list(1, { limit: 2, cursor: second.nextCursor! })
    expect(third).toEqual({ data: [expect.objectContaining({ id: ids[0], payload: expect.objectContaining({ data: { ...INVOICE, id: 'in_0' } }) })], nextCursor: null })
    expect(outbox.list(1, { status: 'delivered', limit: 10 }).data.map((d) => d.id)).toEqual([ids[3], ids[1]])
    expect(outbox.list(1, { status: 'failed', limit: 10 }).data).toEqual([])
    expect(outbox.list(2, { limit: 10 }).data).toHaveLength(1)
    expect(outbox.list(3, { limit: 10 }).data).toEqual([])
    expect(() => outbox.list(1, { limit: 2, cursor: 'nonsense' })).toThrow(RangeError)
    expect(JSON.stringify(outbox.list(1, { limit: 10 }))).not.toContain('secret-of-endpoint-a')
  })
})

describe('retryDelayMs', () => {
  it('follows the schedule, repeats its last step, and jitters by at most 20%', () => {
    expect([1, 2, 3, 9, 10, 50].map((n) => retryDelayMs(n, () => 0.5))).toEqual([5_000, 300_000, 1_800_000, 86_400_000, 86_400_000, 86_400_000])
    expect(retryDelayMs(1, () => 0)).toBe(4_000)
    expect(retryDelayMs(1, () => 0.999_999)).toBe(6_000)
    for (let i = 0; i < 100; i++) {
      const d = retryDelayMs(2)
      expect(d).toBeGreaterThanOrEqual(240_000)
      expect(d).toBeLessThanOrEqual(360_000)
    }
  })
})

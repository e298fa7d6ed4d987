import { verifyWebhook } from '@meterkit/engine'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { T0, type TestApp, testApp } from '../testing.js'
import { WebhookDispatcher } from '../webhook-dispatcher.js'

const SECRET = 'an-endpoint-secret-of-the-tenant'
const CONFIG = {
  plans: [{ key: 'daily', currency: 'EUR', interval: 'day', charges: [{ key: 'fee', model: 'flat', amount: '1.5' }] }],
  webhooks: [
    { url: 'https://hooks.example/billing', events: ['invoice.finalized'], secret: SECRET },
    { url: 'https://hooks.example/credits', events: ['balance.low'], secret: 'another-endpoint-secret' },
  ],
}

/** A dispatcher whose interval never fires by itself and whose requests land in `sent`. */
function dispatcherFor(t: TestApp) {
  const sent: { url: string; headers: Headers; body: string }[] = []
  const fetchStub = async (url: unknown, init?: RequestInit) => {
    sent.push({ url: String(url), headers: new Headers(init!.headers), body: String(init!.body) })
    return new Response(null, { status: 204 })
  }
  const timers = { setInterval: () => ({}), clearInterval: () => undefined, setTimeout: () => ({}), clearTimeout: () => undefined }
  return { sent, dispatcher: new WebhookDispatcher(t.store.webhooks, { clock: t.clock, timers, fetch: fetchStub as typeof fetch }) }
}

let t: TestApp
beforeEach(async () => {
  t = await testApp()
})
afterEach(async () => {
  await t.close()
})

describe('invoice.finalized webhooks', () => {
  it('go to the subscribed endpoint once per finalized invoice, never for drafts, signed and verifiable', async () => {
    expect((await t.json('PUT', '/v1/config', CONFIG)).status).toBe(200)
    await t.json('POST', '/v1/subscriptions', { customerId: 'cus_7', plan: 'daily', startAt: '2026-11-20T00:00:00Z' })
    // The opening invoice is final; the Nov 21 boundary is still in its grace period: a draft.
    expect((await t.json('POST', '/v1/billing/run', { until: '2026-11-21T00:30:00Z' })).body).toMatchObject({ finalized: [expect.any(String)], drafts: [expect.any(String)] })
    expect(await t.store.webhooks.due(t.clock.now(), 10)).toHaveLength(1)
    const second = await t.json('POST', '/v1/billing/run', { until: '2026-11-21T01:00:00Z' })
    expect(second.body.finalized).toHaveLength(1)
    // Billing runs are idempotent, and so are their webhooks.
    expect((await t.json('POST', '/v1/billing/run', { until: '2026-11-21T01:00:00Z' })).body.finalized).toEqual([])

    const { sent, dispatcher } = dispatcherFor(t)
    await dispatcher.tick()
    expect(sent.map((s) => s.url)).toEqual(['https://hooks.example/billing', 'https://hooks.example/billing'])
    const invoices = (await t.json('GET', '/v1/invoices?customerId=cus_7')).body.data as Record<string, unknown>[]
    const payloads = sent.map((s) => {
      const verified = verifyWebhook({ headers: s.headers, body: s.body, secret: SECRET, nowSeconds: Math.floor(T0 / 1000) })
      if (!verified.ok) throw new Error(`not verified: ${verified.code}`)
      return verified.payload
    })
    expect(payloads.map((p) => p.data).reverse()).toEqual(invoices.map((i) => ({
      id: i.id, number: i.number, customerId: 'cus_7', subscriptionId: i.subscriptionId, status: 'finalized',
      total: '1.50', currency: 'EUR', periodStart: i.periodStart, periodEnd: i.periodEnd,
    })))
    expect(payloads.every((p) => p.type === 'invoice.finalized' && p.createdAt === '2026-11-25T10:00:00.000Z')).toBe(true)

    await dispatcher.tick()
    expect(sent).toHaveLength(2)
    const list = await t.json('GET', '/v1/webhooks/deliveries')
    expect(list.status).toBe(200)
    expect(list.body.nextCursor).toBeNull()
    expect(list.body.data).toEqual([1, 0].map((i) => ({
      id: sent[i]!.headers.get('webhook-id'), type: 'invoice.finalized', url: 'https://hooks.example/billing', status: 'delivered', attempts: 1,
      createdAt: '2026-11-25T10:00:00.000Z', nextAttemptAt: null, lastAttemptAt: '2026-11-25T10:00:00.000Z', lastStatus: 204, lastError: null,
      deliveredAt: '2026-11-25T10:00:00.000Z', redeliveryOf: null, payload: payloads[i],
    })))
    expect(JSON.stringify(list.body)).not.toContain(SECRET)
  })

  it('are not written when no endpoint subscribes', async () => {
    expect((await t.json('PUT', '/v1/config', { ...CONFIG, webhooks: [CONFIG.webhooks[1]] })).status).toBe(200)
    await t.json('POST', '/v1/subscriptions', { customerId: 'cus_7', plan: 'daily', startAt: '2026-11-20T00:00:00Z' })
    expect((await t.json('POST', '/v1/billing/run', { until: '2026-11-22T00:00:00Z' })).body.finalized).toHaveLength(2)
    expect((await t.json('GET', '/v1/webhooks/deliveries')).body).toEqual({ data: [], nextCursor: null })
  })
})

describe('GET /v1/webhooks/deliveries', () => {
  it('filters by status, pages with a cursor and names a bad parameter', async () => {
    const endpoints = [{ url: 'https://hooks.example/x', secret: SECRET, events: ['top_up.created'] }]
    for (let i = 0; i < 3; i++) {
      await t.store.webhooks.enqueue(t.tenant.id, endpoints, 'top_up.created', { id: `tu_${i}`, customerId: 'c', grantId: `g_${i}`, credits: '10', automatic: false }, T0)
    }
    const first = await t.json('GET', '/v1/webhooks/deliveries?limit=2&status=pending')
    expect(first.body.data.map((d: { payload: { data: { id: string } } }) => d.payload.data.id)).toEqual(['tu_2', 'tu_1'])
    const rest = await t.json('GET', `/v1/webhooks/deliveries?limit=2&status=pending&cursor=${first.body.nextCursor}`)
    expect(rest.body).toMatchObject({ data: [{ payload: { data: { id: 'tu_0' } } }], nextCursor: null })
    expect((await t.json('GET', '/v1/webhooks/deliveries?status=failed')).body.data).toEqual([])
    for (const query of ['status=lost', 'limit=0', 'cursor=nonsense']) {
      const res = await t.json('GET', `/v1/webhooks/deliveries?${query}`)
      expect(res.status).toBe(400)
      expect(res.body.error.code).toBe('invalid_request')
      expect(res.body.error.message).toMatch(/^(status|limit|cursor):/)
    }
  })
})

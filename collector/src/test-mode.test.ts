// Test mode: `mk_test_` keys work on the live tenant's paired test tenant, whose data never
// mixes with live data, even where ids are the same.
import { SqliteStore } from '@meterkit/engine'
import { afterEach, describe, expect, it } from 'vitest'
import { type TestApp, testApp } from './testing.js'

const CONFIG = {
  meters: [{ key: 'gpu', event: 'render.completed', aggregation: 'sum', property: 'gpuSeconds' }],
  plans: [{ key: 'pro', currency: 'USD', interval: 'month', charges: [{ key: 'gpu', meter: 'gpu', model: 'per_unit', unitAmount: '1' }] }],
}

let t: TestApp
afterEach(async () => t?.close())

const sameEvent = (gpuSeconds: number) => ({ id: 'evt-same', event: 'render.completed', customerId: 'cus_same', timestamp: '2026-11-25T09:00:00.000Z', properties: { gpuSeconds } })

describe('test mode', () => {
  it('mints mk_test_ keys on a paired test tenant, the same one each time', async () => {
    t = await testApp()
    const first = await t.json('POST', '/v1/keys', { mode: 'test', name: 'ci' })
    expect(first.status).toBe(201)
    expect(first.body).toMatchObject({ key: expect.stringMatching(/^mk_test_[A-Za-z0-9]{32}$/), mode: 'test', scopes: ['admin'] })
    // A test key creates test keys (by default and when asked), never live ones.
    const second = await t.json('POST', '/v1/keys', {}, {}, first.body.key)
    expect(second.body.mode).toBe('test')
    expect((await t.json('POST', '/v1/keys', { mode: 'live' }, {}, first.body.key)).status).toBe(403)
    const tenants = t.store.db.prepare('SELECT id, live_tenant_id FROM tenants ORDER BY id').all()
    expect(tenants).toEqual([{ id: t.tenant.id, live_tenant_id: null }, { id: expect.any(Number), live_tenant_id: t.tenant.id }])
    const testTenantId = (tenants[1] as { id: number }).id
    const keysOf = (id: number) => t.store.db.prepare('SELECT id FROM api_keys WHERE tenant_id = ? ORDER BY id').pluck().all(id)
    expect(keysOf(testTenantId)).toEqual([first.body.id, second.body.id].sort())
    // Each mode lists its own keys.
    expect((await t.json('GET', '/v1/keys')).body.data.map((k: { mode: string }) => k.mode)).toEqual(['live'])
    expect((await t.json('GET', '/v1/keys', undefined, {}, first.body.key)).body.data.map((k: { id: string }) => k.id).sort()).toEqual([first.body.id, second.body.id].sort())
    expect((await t.json('DELETE', `/v1/keys/${first.body.id}`)).status).toBe(404)
  })

  it('keeps events, customers, usage, invoices and webhook deliveries of the two modes apart, ids alike', async () => {
    t = await testApp()
    const testKey = (await t.json('POST', '/v1/keys', { mode: 'test' })).body.key as string
    const both = async (method: string, path: string, body?: unknown) => [await t.json(method, path, body), await t.json(method, path, body, {}, testKey)]
    for (const [live, test] of [await both('PUT', '/v1/config', CONFIG)]) expect([live!.status, test!.status]).toEqual([200, 200])
    // Webhooks configured in test mode only.
    const hook = { url: 'https://hooks.example/test', events: ['invoice.finalized'], secret: 'test-mode-webhook-secret' }
    expect((await t.json('PUT', '/v1/config', { ...CONFIG, webhooks: [hook] }, {}, testKey)).status).toBe(200)
    await both('POST', '/v1/subscriptions', { id: 'sub_same', customerId: 'cus_same', plan: 'pro', startAt: '2026-11-01T00:00:00Z' })
    // The same event id in each mode is a new event in each, with its own content.
    expect((await t.json('POST', '/v1/events', { events: [sameEvent(10)] })).body.accepted).toBe(1)
    expect((await t.json('POST', '/v1/events', { events: [sameEvent(3)] }, {}, testKey)).body.accepted).toBe(1)
    expect((await t.json('POST', '/v1/events', { events: [sameEvent(3)] }, {}, testKey)).body.duplicates).toBe(1)

    const [liveEvent, testEvent] = await both('GET', '/v1/events/evt-same')
    expect(liveEvent!.body.properties).toEqual({ gpuSeconds: 10 })
    expect(testEvent!.body.properties).toEqual({ gpuSeconds: 3 })
    const usage = '/v1/customers/cus_same/usage?meter=gpu&from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z'
    const [liveUsage, testUsage] = await both('GET', usage)
    expect([liveUsage!.body.value, testUsage!.body.value]).toEqual(['10', '3'])
    // A customer created in test mode only is unknown live.
    expect((await t.json('POST', '/v1/customers', { id: 'cus_test_only' }, {}, testKey)).status).toBe(201)
    expect((await t.json('GET', '/v1/customers/cus_test_only')).status).toBe(404)

    t.clock.set(Date.parse('2026-12-01T02:00:00Z'))
    await both('POST', '/v1/billing/run', { until: '2026-12-01T02:00:00Z' })
    const [liveInvoices, testInvoices] = await both('GET', '/v1/invoices?customerId=cus_same')
    expect(liveInvoices!.body.data.map((i: { total: string }) => i.total)).toEqual(['10.00'])
    expect(testInvoices!.body.data.map((i: { total: string }) => i.total)).toEqual(['3.00'])
    expect((await t.json('GET', `/v1/invoices/${testInvoices!.body.data[0].id}`)).status).toBe(404)
    const [liveHooks, testHooks] = await both('GET', '/v1/webhooks/deliveries')
    expect(liveHooks!.body.data).toEqual([])
    expect(testHooks!.body.data.map((d: { url: string }) => d.url)).toEqual([hook.url])
    // Balances and tokens follow the key's mode too.
    await t.json('POST', '/v1/customers/cus_same/grants', { credits: '5' }, {}, testKey)
    const [liveBalance, testBalance] = await both('GET', '/v1/customers/cus_same/balance')
    expect([liveBalance!.body.balance, testBalance!.body.balance]).toEqual(['0', '5'])
    const token = (await t.json('POST', '/v1/customer-tokens', { customerId: 'cus_same' }, {}, testKey)).body.token as string
    expect((await t.json('GET', '/v1/customers/cus_same/balance', undefined, {}, token)).body.balance).toBe('5')
  })

  it('creates one test tenant per live tenant even when two processes race', async () => {
    t = await testApp()
    const other = new SqliteStore(t.dbPath)
    try {
      const [a, b, c] = await Promise.all([t.store.testTenant(t.tenant.id, 1), other.testTenant(t.tenant.id, 2), t.store.testTenant(t.tenant.id, 3)])
      expect(a.id).toBe(b.id)
      expect(c.id).toBe(a.id)
      expect(a.liveTenantId).toBe(t.tenant.id)
      // The test tenant of a test tenant is itself.
      expect((await t.store.testTenant(a.id, 4)).id).toBe(a.id)
    } finally {
      await other.close()
    }
  })
})

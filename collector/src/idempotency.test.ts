import { SqliteStore } from '@meterkit/engine'
import { afterEach, describe, expect, it } from 'vitest'
import { createApp } from './app.js'
import { IDEMPOTENCY_RETENTION_MS, requestFingerprint } from './idempotency.js'
import { RetentionSweeper } from './retention.js'
import { type TestApp, testApp } from './testing.js'

const CONFIG = {
  meters: [{ key: 'gpu', event: 'render.completed', aggregation: 'sum', property: 'gpuSeconds' }],
  plans: [{ key: 'pro', currency: 'USD', interval: 'month', creditPrice: '0.01', charges: [{ key: 'base', model: 'flat', amount: '49' }] }],
}

let t: TestApp
afterEach(async () => t?.close())

/** An app with one finalized invoice of 49 USD due, and a customer that may buy credits. */
async function withInvoice() {
  t = await testApp()
  expect((await t.json('PUT', '/v1/config', CONFIG)).status).toBe(200)
  expect((await t.json('POST', '/v1/subscriptions', { customerId: 'cus_1', plan: 'pro', startAt: '2026-11-01T00:00:00Z' })).status).toBe(201)
  expect((await t.json('POST', '/v1/billing/run', { until: '2026-11-02T00:00:00Z' })).status).toBe(200)
  const invoice = (await t.json('GET', '/v1/invoices')).body.data[0]
  expect(invoice.amountDue).toBe('49.00')
  return invoice.id as string
}

const pay = (id: string, key: string | undefined, body: unknown = { amount: '10', method: 'wire' }) =>
  t.request('POST', `/v1/invoices/${id}/payments`, body, key === undefined ? {} : { 'idempotency-key': key })

const payments = () => t.store.db.prepare('SELECT count(*) FROM invoice_payments').pluck().get() as number

describe('Idempotency-Key on payments', () => {
  it('replays the first answer for the same key and body, and records the payment once', async () => {
    const id = await withInvoice()
    const first = await pay(id, 'pay-1')
    expect(first.status).toBe(201)
    expect(first.headers.get('idempotent-replayed')).toBeNull()
    const firstBody = await first.text()
    // Key order and spacing do not make another body.
    const again = await pay(id, 'pay-1', JSON.parse('{"method":"wire","amount":"10"}'))
    expect(again.status).toBe(201)
    expect(again.headers.get('idempotent-replayed')).toBe('true')
    expect(await again.text()).toBe(firstBody)
    expect(payments()).toBe(1)
    expect((await t.json('GET', `/v1/invoices/${id}`)).body.amountPaid).toBe('10.00')
    // Without a key, each request is a payment of its own.
    expect((await pay(id, undefined)).status).toBe(201)
    expect(payments()).toBe(2)
  })

  it('answers 409 idempotency_conflict for the same key with another body or another invoice', async () => {
    const id = await withInvoice()
    expect((await pay(id, 'pay-2')).status).toBe(201)
    const other = await pay(id, 'pay-2', { amount: '11', method: 'wire' })
    expect(other.status).toBe(409)
    expect(((await other.json()) as { error: { code: string } }).error.code).toBe('idempotency_conflict')
    const elsewhere = await pay('in_other', 'pay-2')
    expect(((await elsewhere.json()) as { error: { code: string } }).error.code).toBe('idempotency_conflict')
    expect(payments()).toBe(1)
  })

  it('keeps keys per tenant and per route: the same key elsewhere is a new request', async () => {
    const id = await withInvoice()
    expect((await pay(id, 'shared-key')).status).toBe(201)
    const topUp = await t.request('POST', '/v1/customers/cus_1/top-ups', { credits: '100', amount: '1' }, { 'idempotency-key': 'shared-key' })
    expect(topUp.status).toBe(201)
    expect(topUp.headers.get('idempotent-replayed')).toBeNull()
    // Another tenant's key with the same Idempotency-Key reaches its own tenant (where the invoice is unknown).
    const other = await t.store.createTenant('other', 0)
    const { issueSecretKey } = await import('@meterkit/engine')
    const { key } = await issueSecretKey(t.store, other.id, null, 0)
    const foreign = await t.request('POST', `/v1/invoices/${id}/payments`, { amount: '10', method: 'wire' }, { 'idempotency-key': 'shared-key' }, key)
    expect(foreign.status).toBe(404)
    expect(payments()).toBe(1)
  })

  it('does not keep refusals of the request form: a corrected retry with the same key runs', async () => {
    const id = await withInvoice()
    const bad = await pay(id, 'pay-3', { amount: 'ten', method: 'wire' })
    expect(bad.status).toBe(400)
    // The same key may now carry the corrected body (nothing happened the first time).
    expect((await pay(id, 'pay-3')).status).toBe(201)
    expect(payments()).toBe(1)
    // An answer about the invoice's state is kept and replayed: more than is due.
    const over = await pay(id, 'pay-4', { amount: '100', method: 'wire' })
    expect(over.status).toBe(400)
    expect((await pay(id, 'pay-5', { amount: '39', method: 'wire' })).status).toBe(201)
    const voided = await t.json('POST', `/v1/invoices/${id}/void`, {})
    expect(voided.status).toBe(200)
    const afterVoid = await pay(id, 'pay-6', { amount: '1', method: 'wire' })
    expect(afterVoid.status).toBe(409)
    const replay = await pay(id, 'pay-6', { amount: '1', method: 'wire' })
    expect(replay.status).toBe(409)
    expect(replay.headers.get('idempotent-replayed')).toBe('true')
  })

  it('refuses a malformed key, naming the header', async () => {
    const id = await withInvoice()
    const res = await pay(id, 'has space')
    expect(res.status).toBe(400)
    expect(await res.text()).toContain('Idempotency-Key')
    expect(payments()).toBe(0)
  })

  it('never runs two concurrent requests with one key: the second answers idempotency_in_progress', async () => {
    const id = await withInvoice()
    // Hold the first payment inside the store until the second request has been answered.
    const original = t.store.billing.pay.bind(t.store.billing)
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    let entered!: () => void
    const inside = new Promise<void>((r) => (entered = r))
    t.store.billing.pay = async (...args) => {
      entered()
      await gate
      return original(...args)
    }
    const first = pay(id, 'pay-race')
    await inside
    const second = await pay(id, 'pay-race')
    expect(second.status).toBe(409)
    expect(((await second.json()) as { error: { code: string } }).error.code).toBe('idempotency_in_progress')
    expect(second.headers.get('retry-after')).toBe('1')
    release()
    expect((await first).status).toBe(201)
    expect((await pay(id, 'pay-race')).headers.get('idempotent-replayed')).toBe('true')
    expect(payments()).toBe(1)
  })

  it('holds across two collectors on one database: of many racing requests one pays', async () => {
    const id = await withInvoice()
    const store2 = new SqliteStore(t.dbPath)
    const app2 = createApp({ store: store2, clock: t.clock, keyCacheTtlMs: 0, log: () => undefined })
    try {
      const send = (n: number) => (n % 2 === 0 ? t.app : app2).request(`/v1/invoices/${id}/payments`, {
        method: 'POST',
        headers: { authorization: `Bearer ${t.key}`, 'content-type': 'application/json', 'idempotency-key': 'pay-many' },
        body: JSON.stringify({ amount: '10', method: 'wire' }),
      })
      const answers = await Promise.all(Array.from({ length: 12 }, (_, n) => send(n)))
      const statuses = answers.map((a) => a.status)
      expect(statuses.every((s) => s === 201 || s === 409)).toBe(true)
      expect(answers.filter((a) => a.status === 201 && a.headers.get('idempotent-replayed') === null)).toHaveLength(1)
      expect(payments()).toBe(1)
    } finally {
      app2.context.live.close()
      await store2.close()
    }
  })
})

describe('Idempotency-Key on top-ups', () => {
  it('grants the credits once and replays the answer', async () => {
    await withInvoice()
    const send = () => t.request('POST', '/v1/customers/cus_1/top-ups', { credits: '100', amount: '1' }, { 'idempotency-key': 'top-1' })
    const first = await send()
    expect(first.status).toBe(201)
    const again = await send()
    expect(again.headers.get('idempotent-replayed')).toBe('true')
    expect(await again.text()).toBe(await first.text())
    expect((await t.json('GET', '/v1/customers/cus_1/balance')).body.balance).toBe('100')
  })
})

describe('idempotency retention', () => {
  it('keeps keys 24 hours, then forgets them (fake clock)', async () => {
    const id = await withInvoice()
    expect((await pay(id, 'pay-old')).status).toBe(201)
    const sweeper = new RetentionSweeper(t.store, t.clock, {})
    t.clock.advance(IDEMPOTENCY_RETENTION_MS - 1)
    await sweeper.sweep()
    expect((await pay(id, 'pay-old')).headers.get('idempotent-replayed')).toBe('true')
    t.clock.advance(2)
    expect((await sweeper.sweep()).idempotencyKeys).toBe(1)
    // Forgotten: the same key is a new request now.
    const later = await pay(id, 'pay-old')
    expect(later.status).toBe(201)
    expect(later.headers.get('idempotent-replayed')).toBeNull()
    expect(payments()).toBe(2)
  })

  it('fingerprints method, path and canonical body', () => {
    expect(requestFingerprint('POST', '/a', '{"x":1,"y":2}')).toBe(requestFingerprint('POST', '/a', '{ "y": 2, "x": 1 }'))
    expect(requestFingerprint('POST', '/a', '{"x":1}')).not.toBe(requestFingerprint('POST', '/b', '{"x":1}'))
    expect(requestFingerprint('POST', '/a', '{"x":1}')).not.toBe(requestFingerprint('POST', '/a', '{"x":"1"}'))
    expect(requestFingerprint('POST', '/a', 'not json')).not.toBe(requestFingerprint('POST', '/a', 'not  json'))
  })
})

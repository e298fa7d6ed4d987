import type { LookupAddress } from 'node:dns'
import { verifyWebhook } from '@meterkit/engine'
import { afterEach, describe, expect, it } from 'vitest'
import { DEFAULT_WEBHOOK_RETENTION_MS, RetentionSweeper } from '../retention.js'
import { T0, type TestApp, testApp } from '../testing.js'
import { WebhookDispatcher } from '../webhook-dispatcher.js'
import { WebhookUrlPolicy } from '../webhook-url-policy.js'

const PLAN = { key: 'daily', currency: 'EUR', interval: 'day', charges: [{ key: 'fee', model: 'flat', amount: '1.5' }] }
const CONFIGURED = { url: 'https://configured.example/hook', events: ['invoice.finalized'], secret: 'the-configured-endpoint-secret' }

/** Public names for the endpoints of these tests; `records` may be changed to move a name. */
const records: Record<string, string[]> = {}
const resolve = async (hostname: string): Promise<LookupAddress[]> => {
  const found = records[hostname]
  if (found === undefined) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' })
  return found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }))
}

function dispatcherFor(t: TestApp, urls: WebhookUrlPolicy, answer = 204) {
  const sent: { url: string; headers: Headers; body: string }[] = []
  const fetchStub = async (url: unknown, init?: RequestInit) => {
    sent.push({ url: String(url), headers: new Headers(init!.headers), body: String(init!.body) })
    return new Response(null, { status: answer })
  }
  const timers = { setInterval: () => ({}), clearInterval: () => undefined, setTimeout: () => ({}), clearTimeout: () => undefined }
  return { sent, dispatcher: new WebhookDispatcher(t.store.webhooks, { clock: t.clock, timers, urls, fetch: fetchStub as typeof fetch }) }
}

let t: TestApp
afterEach(async () => t?.close())

async function app() {
  Object.assign(records, { 'api.example': ['93.184.216.34'], 'configured.example': ['93.184.216.35'], 'private.example': ['192.168.0.10'] })
  t = await testApp({ webhookUrls: new WebhookUrlPolicy({ resolve }) })
  expect((await t.json('PUT', '/v1/config', { plans: [PLAN], webhooks: [CONFIGURED] })).status).toBe(200)
}

describe('webhook endpoints over the API', () => {
  it('registers an endpoint, shows a generated secret once, lists and deletes it', async () => {
    await app()
    const created = await t.json('POST', '/v1/webhooks/endpoints', { url: 'https://api.example/hook', events: ['invoice.finalized', 'top_up.created'] })
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({ id: expect.stringMatching(/^we_/), url: 'https://api.example/hook', events: ['invoice.finalized', 'top_up.created'], createdAt: '2026-11-25T10:00:00.000Z' })
    expect(created.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/)
    const listed = await t.json('GET', '/v1/webhooks/endpoints')
    expect(listed.body.data).toEqual([{ id: created.body.id, url: 'https://api.example/hook', events: ['invoice.finalized', 'top_up.created'], createdAt: '2026-11-25T10:00:00.000Z' }])
    expect(JSON.stringify(listed.body)).not.toContain(created.body.secret)
    // A secret given is kept and not echoed.
    const given = await t.json('POST', '/v1/webhooks/endpoints', { url: 'https://api.example/other', events: ['balance.low'], secret: 'a-secret-chosen-by-the-user' })
    expect(given.body.secret).toBeUndefined()
    expect((await t.json('DELETE', `/v1/webhooks/endpoints/${created.body.id}`)).body).toEqual({ id: created.body.id, deleted: true })
    expect((await t.json('DELETE', `/v1/webhooks/endpoints/${created.body.id}`)).status).toBe(404)
    expect((await t.json('GET', '/v1/webhooks/endpoints')).body.data.map((e: { id: string }) => e.id)).toEqual([given.body.id])
  })

  it('refuses bad input and private targets, naming the field', async () => {
    await app()
    const bad = await t.json('POST', '/v1/webhooks/endpoints', { url: 'ftp://api.example/', events: [] })
    expect(bad.status).toBe(400)
    expect(bad.body.error.message).toMatch(/url: .*events: must list at least one event type/s)
    for (const url of ['http://127.0.0.1:9/hook', 'http://[::ffff:10.0.0.1]/', 'https://private.example/hook', 'https://unknown.example/hook']) {
      const res = await t.json('POST', '/v1/webhooks/endpoints', { url, events: ['invoice.finalized'] })
      expect(res.status, url).toBe(400)
      expect(res.body.error.message, url).toMatch(/^url: /)
    }
    expect((await t.json('GET', '/v1/webhooks/endpoints')).body.data).toEqual([])
  })

  it('delivers each event to the configured endpoints and to the registered ones, each signed with its own secret', async () => {
    await app()
    const created = await t.json('POST', '/v1/webhooks/endpoints', { url: 'https://api.example/hook', events: ['invoice.finalized'] })
    await t.json('POST', '/v1/subscriptions', { customerId: 'cus_7', plan: 'daily', startAt: '2026-11-20T00:00:00Z' })
    expect((await t.json('POST', '/v1/billing/run', { until: '2026-11-20T00:00:00Z' })).body.finalized).toHaveLength(1)
    const { sent, dispatcher } = dispatcherFor(t, new WebhookUrlPolicy({ resolve }))
    await dispatcher.tick()
    expect(sent.map((s) => s.url).sort()).toEqual(['https://api.example/hook', 'https://configured.example/hook'])
    const now = Math.floor(T0 / 1000)
    const toApi = sent.find((s) => s.url.startsWith('https://api.example'))!
    expect(verifyWebhook({ headers: toApi.headers, body: toApi.body, secret: created.body.secret, nowSeconds: now }).ok).toBe(true)
    expect(verifyWebhook({ headers: toApi.headers, body: toApi.body, secret: CONFIGURED.secret, nowSeconds: now }).ok).toBe(false)
    const toConfigured = sent.find((s) => s.url.startsWith('https://configured.example'))!
    expect(verifyWebhook({ headers: toConfigured.headers, body: toConfigured.body, secret: CONFIGURED.secret, nowSeconds: now }).ok).toBe(true)
  })

  it('refuses a delivery at send time when its URL is now private (the rules or the name changed since)', async () => {
    await app()
    const configured = { url: 'http://10.0.0.8/hook', events: ['invoice.finalized'], secret: 'a-secret-of-sixteen-chars' }
    expect((await t.json('PUT', '/v1/config', { plans: [PLAN], webhooks: [configured] })).status).toBe(200)
    await t.json('POST', '/v1/subscriptions', { customerId: 'cus_7', plan: 'daily', startAt: '2026-11-20T00:00:00Z' })
    await t.json('POST', '/v1/billing/run', { until: '2026-11-20T00:00:00Z' })
    const { sent, dispatcher } = dispatcherFor(t, new WebhookUrlPolicy({ resolve }))
    await dispatcher.tick()
    expect(sent).toEqual([])
    const [delivery] = (await t.json('GET', '/v1/webhooks/deliveries')).body.data
    expect(delivery).toMatchObject({ status: 'pending', attempts: 1, lastError: expect.stringContaining('webhook refused: the host is 10.0.0.8, a loopback, link-local, private or reserved address') })
  })
})

describe('redeliver', () => {
  it('sends a delivered or failed delivery again as a new delivery with the same body; a pending one is refused', async () => {
    await app()
    await t.json('POST', '/v1/subscriptions', { customerId: 'cus_7', plan: 'daily', startAt: '2026-11-20T00:00:00Z' })
    await t.json('POST', '/v1/billing/run', { until: '2026-11-20T00:00:00Z' })
    const [pending] = (await t.json('GET', '/v1/webhooks/deliveries')).body.data
    const early = await t.json('POST', `/v1/webhooks/deliveries/${pending.id}/redeliver`)
    expect(early.status).toBe(409)
    expect(early.body.error.message).toContain('pending')
    const { sent, dispatcher } = dispatcherFor(t, new WebhookUrlPolicy({ resolve }))
    await dispatcher.tick()
    expect(sent).toHaveLength(1)
    t.clock.advance(60_000)
    const again = await t.json('POST', `/v1/webhooks/deliveries/${pending.id}/redeliver`)
    expect(again.status).toBe(201)
    expect(again.body).toMatchObject({ status: 'pending', attempts: 0, redeliveryOf: pending.id, url: pending.url, payload: pending.payload })
    expect(again.body.id).not.toBe(pending.id)
    await dispatcher.tick()
    expect(sent).toHaveLength(2)
    expect(sent[1]!.body).toBe(sent[0]!.body)
    expect(sent[1]!.headers.get('webhook-id')).toBe(again.body.id)
    expect(verifyWebhook({ headers: sent[1]!.headers, body: sent[1]!.body, secret: CONFIGURED.secret, nowSeconds: Math.floor(t.clock.now() / 1000) }).ok).toBe(true)
    expect((await t.json('POST', '/v1/webhooks/deliveries/msg_unknown/redeliver')).status).toBe(404)
  })
})

describe('webhook retention', () => {
  it('prunes delivered and failed deliveries past the retention, never pending ones (fake clock)', async () => {
    await app()
    await t.json('POST', '/v1/subscriptions', { customerId: 'cus_7', plan: 'daily', startAt: '2026-11-20T00:00:00Z' })
    await t.json('POST', '/v1/billing/run', { until: '2026-11-20T00:00:00Z' })
    const { dispatcher } = dispatcherFor(t, new WebhookUrlPolicy({ resolve }))
    await dispatcher.tick() // delivered, created at T0
    // A day later, a second invoice to two endpoints that keep failing: pending for their retry window.
    t.clock.advance(86_400_000)
    await t.json('POST', '/v1/webhooks/endpoints', { url: 'https://api.example/down', events: ['invoice.finalized'] })
    await t.json('POST', '/v1/billing/run', { until: '2026-11-21T02:00:00Z' })
    const failing = dispatcherFor(t, new WebhookUrlPolicy({ resolve }), 500)
    await failing.dispatcher.tick()
    const sweeper = new RetentionSweeper(t.store, t.clock, {})
    expect(sweeper.webhookRetentionMs).toBe(DEFAULT_WEBHOOK_RETENTION_MS)
    const statuses = async () => ((await t.json('GET', '/v1/webhooks/deliveries')).body.data as { status: string }[]).map((d) => d.status).sort()
    expect(await statuses()).toEqual(['delivered', 'pending', 'pending'])
    // Kept up to the retention, pruned past it; the pending ones are older than the retention too, and stay.
    t.clock.advance(DEFAULT_WEBHOOK_RETENTION_MS - 86_400_000)
    expect((await sweeper.sweep()).webhookDeliveries).toBe(0)
    t.clock.advance(1)
    expect((await sweeper.sweep()).webhookDeliveries).toBe(1)
    expect(await statuses()).toEqual(['pending', 'pending'])
    // Their retry window is long over: the next attempt marks them failed; pruned a retention after their event.
    await failing.dispatcher.tick()
    expect(await statuses()).toEqual(['failed', 'failed'])
    expect((await sweeper.sweep()).webhookDeliveries).toBe(0)
    t.clock.advance(86_400_000)
    expect((await sweeper.sweep()).webhookDeliveries).toBe(2)
    expect(await statuses()).toEqual([])
    // A shorter retention is honoured.
    expect(new RetentionSweeper(t.store, t.clock, { webhookRetentionMs: 86_400_000 }).webhookRetentionMs).toBe(86_400_000)
  })
})

import { type IncomingHttpHeaders, type Server, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { DELIVERY_LEASE_MS, type WebhookEndpoint, type WebhookStore, verifyWebhook } from '@meterkit/engine'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type TestApp, testApp } from './testing.js'
import { type DispatcherTimers, WebhookDispatcher } from './webhook-dispatcher.js'
import { WebhookUrlPolicy } from './webhook-url-policy.js'

/** The endpoints of these tests listen on 127.0.0.1: allowed explicitly, as an operator would. */
const LOOPBACK_ALLOWED = new WebhookUrlPolicy({ allowNetworks: ['127.0.0.1/32'] })

const SECRET = 'whsec_c2VjcmV0LWtleS1vZi10aGUtdGVzdC1lbmRwb2ludA=='
const DATA = {
  id: 'in_1', number: 1, customerId: 'cus_42', subscriptionId: 'sub_1', status: 'finalized' as const, total: '49.00', currency: 'USD',
  periodStart: '2026-10-01T00:00:00.000Z', periodEnd: '2026-11-01T00:00:00.000Z',
}

/** Timers under the test's control: the interval never fires by itself; timeouts fire on `fireTimeouts()`. */
function fakeTimers() {
  const timeouts = new Set<() => void>()
  const timers: DispatcherTimers = {
    setInterval: () => ({}),
    clearInterval: () => undefined,
    setTimeout: (fn) => {
      const handle = { fn }
      timeouts.add(fn)
      return Object.assign(handle, { unref: () => undefined })
    },
    clearTimeout: (handle) => void timeouts.delete((handle as { fn: () => void }).fn),
  }
  return { timers, fireTimeouts: () => [...timeouts].forEach((fn) => fn()) }
}

interface Received {
  path: string
  headers: IncomingHttpHeaders
  body: string
}

/** A real HTTP endpoint that answers each request with the next of `answers` (then 200). */
async function endpoint(answers: { status: number; body?: string; headers?: Record<string, string> }[]) {
  const received: Received[] = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') })
      const answer = answers.shift() ?? { status: 200, body: 'ok' }
      res.writeHead(answer.status, answer.headers).end(answer.body ?? '')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`
  return { url, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) }
}

let t: TestApp
beforeEach(async () => {
  t = await testApp()
})
afterEach(async () => {
  await t.close()
})

const enqueue = (endpoints: WebhookEndpoint[]) => t.store.webhooks.enqueue(t.tenant.id, endpoints, 'invoice.finalized', DATA, t.clock.now())
const deliveries = async (query = '') => (await t.json('GET', `/v1/webhooks/deliveries${query}`)).body.data as Record<string, unknown>[]

describe('the webhook dispatcher', () => {
  it('retries a failing endpoint with the same id and body until it acknowledges, signing each attempt', async () => {
    const server = await endpoint([
      { status: 500, body: 'not yet' },
      { status: 302, headers: { location: '/elsewhere' } },
    ])
    try {
      const [id] = await enqueue([{ url: server.url, secret: SECRET, events: ['invoice.finalized'] }])
      const dispatcher = new WebhookDispatcher(t.store.webhooks, { clock: t.clock, timers: fakeTimers().timers, urls: LOOPBACK_ALLOWED })
      const stamps: number[] = []

      stamps.push(Math.floor(t.clock.now() / 1000))
      await dispatcher.tick()
      expect(await deliveries()).toMatchObject([{ id, status: 'pending', attempts: 1, lastStatus: 500, lastError: 'HTTP 500: not yet' }])
      await dispatcher.tick() // not due yet: the first retry waits 5 s (± 20%)
      expect(server.received).toHaveLength(1)

      t.clock.advance(6_000)
      stamps.push(Math.floor(t.clock.now() / 1000))
      await dispatcher.tick()
      // A redirect is not followed: it is a failed attempt.
      expect(await deliveries()).toMatchObject([{ status: 'pending', attempts: 2, lastStatus: 302 }])

      t.clock.advance(360_000)
      stamps.push(Math.floor(t.clock.now() / 1000))
      await dispatcher.tick()
      expect(await deliveries()).toMatchObject([{ id, status: 'delivered', attempts: 3, lastStatus: 200, lastError: null, deliveredAt: '2026-11-25T10:06:06.000Z' }])

      t.clock.advance(4 * 86_400_000)
      await dispatcher.tick()
      expect(server.received.map((r) => r.path)).toEqual(['/hooks', '/hooks', '/hooks'])
      expect(server.received.map((r) => r.headers['webhook-id'])).toEqual([id, id, id])
      expect(server.received.map((r) => Number(r.headers['webhook-timestamp']))).toEqual(stamps)
      for (const r of server.received) {
        expect(r.headers['content-type']).toBe('application/json')
        expect(r.body).toBe(server.received[0]!.body)
        const verified = verifyWebhook({ headers: r.headers, body: r.body, secret: SECRET, nowSeconds: Number(r.headers['webhook-timestamp']) })
        expect(verified).toEqual({ ok: true, payload: { type: 'invoice.finalized', data: DATA, createdAt: '2026-11-25T10:00:00.000Z' } })
      }
      // Each attempt's signature covers its own timestamp: an old one does not verify a new attempt.
      const [first, , last] = server.received
      expect(verifyWebhook({ headers: { ...last!.headers, 'webhook-signature': first!.headers['webhook-signature'] }, body: last!.body, secret: SECRET, nowSeconds: stamps[2] }).ok).toBe(false)
    } finally {
      await server.close()
    }
  })

  it('sends a delivery once when two dispatchers share the database, and again after a lease runs out', async () => {
    const server = await endpoint([])
    try {
      const [id] = await enqueue([{ url: server.url, secret: SECRET, events: ['invoice.finalized'] }])
      const a = new WebhookDispatcher(t.store.webhooks, { clock: t.clock, timers: fakeTimers().timers, urls: LOOPBACK_ALLOWED })
      const b = new WebhookDispatcher(t.store.webhooks, { clock: t.clock, timers: fakeTimers().timers, urls: LOOPBACK_ALLOWED })
      await Promise.all([a.tick(), b.tick()])
      expect(server.received.map((r) => r.headers['webhook-id'])).toEqual([id])
      expect(await deliveries()).toMatchObject([{ id, status: 'delivered', attempts: 1 }])
      // A sender that took a lease and died: nobody sends it until the lease is over.
      const [orphan] = await enqueue([{ url: server.url, secret: SECRET, events: ['invoice.finalized'] }])
      expect(await t.store.webhooks.lease(orphan!, t.clock.now(), t.clock.now() + DELIVERY_LEASE_MS)).toBe(true)
      await a.tick()
      expect(server.received).toHaveLength(1)
      t.clock.advance(DELIVERY_LEASE_MS)
      await b.tick()
      expect(server.received.map((r) => r.headers['webhook-id'])).toEqual([id, orphan])
    } finally {
      await server.close()
    }
  })

  it('records a network error and a timeout as failed attempts, to be retried', async () => {
    const closed = await endpoint([])
    await closed.close()
    const [refused] = await enqueue([{ url: closed.url, secret: SECRET, events: ['invoice.finalized'] }])
    const { timers, fireTimeouts } = fakeTimers()
    const dispatcher = new WebhookDispatcher(t.store.webhooks, { clock: t.clock, timers, urls: LOOPBACK_ALLOWED })
    await dispatcher.tick()
    expect(await deliveries()).toMatchObject([{ id: refused, status: 'pending', attempts: 1, lastStatus: null, lastError: expect.stringContaining('ECONNREFUSED') }])

    const hanging = (_url: unknown, init?: RequestInit) => new Promise<Response>((_resolve, reject) => {
      init!.signal!.addEventListener('abort', () => reject(init!.signal!.reason))
    })
    t.clock.advance(86_400_000)
    const slow = new WebhookDispatcher(t.store.webhooks, { clock: t.clock, timers, urls: LOOPBACK_ALLOWED, fetch: hanging as typeof fetch, timeoutMs: 10_000 })
    const tick = slow.tick()
    await slow.idle()
    fireTimeouts()
    await tick
    expect(await deliveries()).toMatchObject([{ id: refused, status: 'pending', attempts: 2, lastStatus: null, lastError: 'timed out after 10000 ms' }])
  })

  it('keeps at most `concurrency` requests in flight and never sends one delivery twice at once', async () => {
    for (let i = 0; i < 5; i++) await enqueue([{ url: `https://hooks.example/${i}`, secret: SECRET, events: ['invoice.finalized'] }])
    const waiting: { url: string; answer: (r: Response) => void }[] = []
    const fetchStub = (url: unknown) => new Promise<Response>((answer) => waiting.push({ url: String(url), answer }))
    const dispatcher = new WebhookDispatcher(t.store.webhooks, { clock: t.clock, timers: fakeTimers().timers, fetch: fetchStub as typeof fetch, concurrency: 2 })
    const first = dispatcher.tick()
    await dispatcher.tick()
    await dispatcher.idle()
    expect(waiting.map((w) => w.url)).toEqual(['https://hooks.example/0', 'https://hooks.example/1'])
    for (const w of waiting.splice(0)) w.answer(new Response(null, { status: 204 }))
    await first
    expect((await deliveries('?status=delivered')).map((d) => d.url)).toEqual(['https://hooks.example/1', 'https://hooks.example/0'])
    const second = dispatcher.tick()
    await dispatcher.idle()
    expect(waiting.map((w) => w.url)).toEqual(['https://hooks.example/2', 'https://hooks.example/3'])
    for (const w of waiting.splice(0)) w.answer(new Response('busy', { status: 503, headers: { 'retry-after': '120' } }))
    await second
    expect(await deliveries('?status=pending')).toMatchObject([
      { url: 'https://hooks.example/4', attempts: 0 },
      { url: 'https://hooks.example/3', attempts: 1, lastStatus: 503, lastError: 'HTTP 503: busy', nextAttemptAt: '2026-11-25T10:02:00.000Z' },
      { url: 'https://hooks.example/2', attempts: 1 },
    ])
  })

  it('sends at most `perEndpoint` requests to one URL at once, and others meanwhile', async () => {
    for (let i = 0; i < 4; i++) await enqueue([{ url: 'https://hooks.example/slow', secret: SECRET, events: ['invoice.finalized'] }])
    await enqueue([{ url: 'https://hooks.example/fast', secret: SECRET, events: ['invoice.finalized'] }])
    const waiting: { url: string; answer: (r: Response) => void }[] = []
    const fetchStub = (url: unknown) => new Promise<Response>((answer) => waiting.push({ url: String(url), answer }))
    const dispatcher = new WebhookDispatcher(t.store.webhooks, { clock: t.clock, timers: fakeTimers().timers, fetch: fetchStub as typeof fetch, concurrency: 4, perEndpoint: 2 })
    const tick = dispatcher.tick()
    await dispatcher.idle()
    expect(waiting.map((w) => w.url)).toEqual(['https://hooks.example/slow', 'https://hooks.example/slow', 'https://hooks.example/fast'])
    for (const w of waiting.splice(0)) w.answer(new Response(null, { status: 200 }))
    await tick
  })

  it('reads the outbox one tick at a time, and starts a read’s requests in its order however the leases answer', async () => {
    for (let i = 0; i < 3; i++) await enqueue([{ url: `https://hooks.example/${i}`, secret: SECRET, events: ['invoice.finalized'] }])
    const store = t.store.webhooks
    let reads = 0
    const heldLeases: (() => void)[] = []
    let allAsked!: () => void
    const asked = new Promise<void>((resolve) => (allAsked = resolve))
    // The test's store, counting its reads, with each lease's answer held until the test lets it through.
    const webhooks = Object.assign(Object.create(store) as WebhookStore, {
      due: (nowMs: number, limit: number) => {
        reads++
        return store.due(nowMs, limit)
      },
      lease: async (id: string, nowMs: number, untilMs: number) => {
        const held = await store.lease(id, nowMs, untilMs)
        await new Promise<void>((resolve) => {
          heldLeases.push(resolve)
          if (heldLeases.length === 3) allAsked()
        })
        return held
      },
    })
    const waiting: { url: string; answer: (r: Response) => void }[] = []
    const fetchStub = (url: unknown) => new Promise<Response>((answer) => waiting.push({ url: String(url), answer }))
    const dispatcher = new WebhookDispatcher(webhooks, { clock: t.clock, timers: fakeTimers().timers, fetch: fetchStub as typeof fetch })
    const tick = dispatcher.tick()
    await dispatcher.tick() // the first one is reading: this one starts nothing
    expect(reads).toBe(1)
    await asked
    for (const answer of heldLeases.reverse()) answer() // the last lease answers first
    await dispatcher.idle()
    expect(waiting.map((w) => w.url)).toEqual(['https://hooks.example/0', 'https://hooks.example/1', 'https://hooks.example/2'])
    for (const w of waiting.splice(0)) w.answer(new Response(null, { status: 204 }))
    await tick
    expect((await deliveries('?status=delivered')).map((d) => d.url)).toEqual(['https://hooks.example/2', 'https://hooks.example/1', 'https://hooks.example/0'])
  })

  it('cuts requests in flight at stop without recording them, so they go out again after a restart', async () => {
    const [id] = await enqueue([{ url: 'https://hooks.example/slow', secret: SECRET, events: ['invoice.finalized'] }])
    let started = 0
    const hanging = (_url: unknown, init?: RequestInit) => new Promise<Response>((_resolve, reject) => {
      started++
      init!.signal!.addEventListener('abort', () => reject(init!.signal!.reason))
    })
    const dispatcher = new WebhookDispatcher(t.store.webhooks, { clock: t.clock, timers: fakeTimers().timers, fetch: hanging as typeof fetch })
    const tick = dispatcher.tick()
    await dispatcher.idle()
    expect(started).toBe(1)
    await dispatcher.stop()
    await tick
    expect(await deliveries()).toMatchObject([{ id, status: 'pending', attempts: 0, lastError: null }])
    expect(await t.store.webhooks.due(t.clock.now(), 10)).toHaveLength(1)
    await dispatcher.tick() // stopped: nothing more goes out
    expect(started).toBe(1)
  })
})

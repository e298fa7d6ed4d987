import { FakeTime, settle } from '@meterkit/core/testing'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { T0, type TestApp, sseReader, testApp } from '../testing.js'

let t: TestApp
let time: FakeTime
beforeEach(async () => {
  time = new FakeTime(T0)
  t = await testApp({ time })
  await t.json('PUT', '/v1/config', {
    meters: [
      { key: 'gpu', event: 'render.completed', aggregation: 'sum', property: 'gpuSeconds' },
      { key: 'renders', event: 'render.completed', aggregation: 'count' },
      { key: 'views', event: 'page.view', aggregation: 'count', sources: ['browser'] },
    ],
  })
  await t.json('POST', '/v1/customers', { id: 'cus_42' })
})
afterEach(async () => {
  await t.close()
})

/**
 * Moves fake time by `ms`, waits for the reads of figures that this and the requests before it
 * set off (round trips on PostgreSQL), then lets their frames reach the reader.
 */
async function step(ms: number) {
  await time.advance(ms)
  await t.app.context.live.settled()
  await settle()
}

let n = 0
const render = (gpuSeconds: number, customerId = 'cus_42') =>
  ({ id: `r${++n}`, event: 'render.completed', customerId, timestamp: new Date(T0 - 60_000).toISOString(), properties: { gpuSeconds } })

const open = (path: string, headers: Record<string, string> = { authorization: `Bearer ${t.key}` }) => t.app.request(path, { headers })
const values = (frames: { data: unknown }[]) => frames.map((f) => { const d = f.data as { meter: string; value: string }; return `${d.meter}=${d.value}` })

describe('GET /v1/customers/:id/stream', () => {
  it('starts with every meter’s value, then sends the figures a commit changed', async () => {
    await t.json('POST', '/v1/events', { events: [render(2)] })
    const res = await open('/v1/customers/cus_42/stream')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    const sse = sseReader(res)
    await step(0)
    const first = sse.unread()
    expect(values(first)).toEqual(['gpu=2', 'renders=1', 'views=0'])
    expect(first[0]).toMatchObject({ event: 'usage', data: { meter: 'gpu', window: 'none', configVersion: 1, from: '2026-10-26T10:00:00.000Z', to: '2026-11-25T10:05:00.000Z' } })

    await t.json('POST', '/v1/events', { events: [render(3.5), render(1, 'cus_other')] })
    await step(0)
    const update = sse.unread()
    expect(values(update)).toEqual(['gpu=5.5', 'renders=2'])
    expect(update.map((f) => f.id)).toEqual([expect.stringMatching(/-1$/), expect.stringMatching(/-2$/)])

    // Corrections and imports change figures too.
    await t.json('POST', `/v1/events/r${n - 1}/void`, { reason: 'test' })
    await step(250)
    expect(values(sse.unread())).toEqual(['gpu=2', 'renders=1'])
    await t.request('POST', '/v1/events/import', `${JSON.stringify(render(10))}\n`, { 'content-type': 'application/x-ndjson' })
    await step(250)
    expect(values(sse.unread())).toEqual(['gpu=12', 'renders=2'])
  })

  it('takes the customer’s token, also as ?token=; another customer is 404, an expired token 401', async () => {
    const mint = async (customerId: string, ttlSeconds = 60) => (await t.json('POST', '/v1/customer-tokens', { customerId, ttlSeconds })).body.token as string
    const token = await mint('cus_42')
    expect((await t.app.request(`/v1/customers/cus_42/stream?token=${token}`)).status).toBe(200)
    expect((await open('/v1/customers/cus_42/stream', { authorization: `Bearer ${token}` })).status).toBe(200)
    expect((await t.app.request(`/v1/customers/cus_other/stream?token=${token}`)).status).toBe(404)
    expect((await open('/v1/customers/cus_nobody/stream')).status).toBe(404)
    const short = await mint('cus_42', 1)
    await step(1000)
    const expired = await t.app.request(`/v1/customers/cus_42/stream?token=${short}`)
    expect(expired.status).toBe(401)
    expect(((await expired.json()) as { error: { message: string } }).error.message).toContain('expired')
  })

  it('ends a token’s stream when the token expires (checked with each heartbeat)', async () => {
    const token = (await t.json('POST', '/v1/customer-tokens', { customerId: 'cus_42', ttlSeconds: 20 })).body.token as string
    const sse = sseReader(await t.app.request(`/v1/customers/cus_42/stream?token=${token}`))
    await step(15_000)
    expect(sse.ended).toBe(false)
    await step(15_000)
    expect(sse.ended).toBe(true)
  })

  it('resumes from Last-Event-ID with only what changed since; ?meters= narrows the stream', async () => {
    const sse = sseReader(await open('/v1/customers/cus_42/stream'))
    await step(0)
    await t.json('POST', '/v1/events', { events: [render(1)] })
    await step(0)
    const lastId = sse.unread().at(-1)!.id!
    await sse.cancel()
    await t.json('POST', '/v1/events', { events: [render(2)] })
    const resumed = sseReader(await open('/v1/customers/cus_42/stream', { authorization: `Bearer ${t.key}`, 'last-event-id': lastId }))
    await step(250)
    expect(values(resumed.unread())).toEqual(['gpu=3', 'renders=2'])

    const narrow = sseReader(await open('/v1/customers/cus_42/stream?meters=renders'))
    await step(0)
    expect(values(narrow.unread())).toEqual(['renders=2'])
    await t.json('POST', '/v1/events', { events: [render(4)] })
    await step(250)
    expect(values(narrow.unread())).toEqual(['renders=3'])
    expect(t.app.context.live.streams).toBe(2)
    await narrow.cancel()
    expect(t.app.context.live.streams).toBe(1)
  })
})

import { gunzipSync } from 'node:zlib'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { MockAgent } from 'undici'
import { Meterkit } from './index.js'
import { UndiciTransport } from './undici-transport.js'

const ORIGIN = 'http://collector.test:8790'
const KEY = 'mk_sec_test_key_0123456789'
const body = (n: number, pad = 0) =>
  JSON.stringify({ events: Array.from({ length: n }, (_, i) => ({ id: `e${i}`, event: 'x', customerId: 'c', timestamp: '2026-11-25T10:00:00.000Z', properties: { p: 'x'.repeat(pad) } })) })
const okBody = (ids: string[], status = 'accepted') =>
  JSON.stringify({ accepted: ids.length, duplicates: 0, conflicts: 0, rejected: 0, results: ids.map((id) => ({ id, status })) })

let agent: MockAgent
beforeEach(() => {
  agent = new MockAgent()
  agent.disableNetConnect()
})
afterEach(async () => {
  await agent.close()
})

describe('UndiciTransport', () => {
  it('posts the batch with the key and answers status, Retry-After and body', async () => {
    let seen: { headers: Record<string, string>; body: string } | undefined
    agent.get(ORIGIN).intercept({ path: '/v1/events', method: 'POST' }).reply(429, (opts) => {
      seen = { headers: opts.headers as Record<string, string>, body: String(opts.body) }
      return { error: { code: 'rate_limited', message: 'slow down' } }
    }, { headers: { 'retry-after': '7' } })
    const t = new UndiciTransport({ endpoint: ORIGIN, apiKey: KEY, dispatcher: agent })
    const result = await t.send({ body: body(2), eventCount: 2 })
    expect(result).toEqual({ ok: true, status: 429, retryAfter: '7', body: '{"error":{"code":"rate_limited","message":"slow down"}}' })
    expect(seen!.headers.authorization).toBe(`Bearer ${KEY}`)
    expect(seen!.headers['content-type']).toBe('application/json')
    expect(seen!.body).toBe(body(2))
  })

  it('gzips large batches', async () => {
    let received: Buffer | undefined
    let encoding: string | undefined
    agent.get(ORIGIN).intercept({ path: '/v1/events', method: 'POST' }).reply(200, (opts) => {
      received = Buffer.from(opts.body as Uint8Array)
      encoding = (opts.headers as Record<string, string>)['content-encoding']
      return okBody(['e0'])
    })
    const t = new UndiciTransport({ endpoint: ORIGIN, apiKey: KEY, dispatcher: agent, gzipMinBytes: 1000 })
    const big = body(1, 5000)
    await t.send({ body: big, eventCount: 1 })
    expect(encoding).toBe('gzip')
    expect(gunzipSync(received!).toString()).toBe(big)
  })

  it('answers a timeout when no answer comes within timeoutMs', async () => {
    agent.get(ORIGIN).intercept({ path: '/v1/events', method: 'POST' }).reply(200, okBody(['e0'])).delay(500)
    const t = new UndiciTransport({ endpoint: ORIGIN, apiKey: KEY, dispatcher: agent, timeoutMs: 30 })
    const result = await t.send({ body: body(1), eventCount: 1 })
    expect(result).toMatchObject({ ok: false, error: 'timeout' })
  })

  it('retries a stale keep-alive socket once, immediately', async () => {
    const pool = agent.get(ORIGIN)
    const reset = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' })
    pool.intercept({ path: '/v1/events', method: 'POST' }).replyWithError(reset)
    pool.intercept({ path: '/v1/events', method: 'POST' }).reply(200, okBody(['e0']))
    const t = new UndiciTransport({ endpoint: ORIGIN, apiKey: KEY, dispatcher: agent })
    expect(await t.send({ body: body(1), eventCount: 1 })).toMatchObject({ ok: true, status: 200 })
  })

  it('reports a connection reset that persists as a network error', async () => {
    const pool = agent.get(ORIGIN)
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })
    pool.intercept({ path: '/v1/events', method: 'POST' }).replyWithError(reset).times(2)
    const t = new UndiciTransport({ endpoint: ORIGIN, apiKey: KEY, dispatcher: agent })
    expect(await t.send({ body: body(1), eventCount: 1 })).toMatchObject({ ok: false, error: 'network' })
  })
})

describe('Meterkit (node) over MockAgent', () => {
  it('retries 500/503, then delivers with the same ids; counts exactly', async () => {
    const pool = agent.get(ORIGIN)
    const bodies: string[] = []
    pool.intercept({ path: '/v1/events', method: 'POST' }).reply(503, (o) => (bodies.push(String(o.body)), '{"error":{"code":"unavailable","message":"x"}}'))
    pool.intercept({ path: '/v1/events', method: 'POST' }).reply(500, (o) => (bodies.push(String(o.body)), 'oops'))
    pool.intercept({ path: '/v1/events', method: 'POST' }).reply(200, (o) => {
      bodies.push(String(o.body))
      const ids = (JSON.parse(String(o.body)) as { events: { id: string }[] }).events.map((e) => e.id)
      return okBody(ids)
    })
    const mk = new Meterkit({ endpoint: ORIGIN, apiKey: KEY, dispatcher: agent, flushAt: 3, random: () => 0 })
    const ids = [1, 2, 3].map((i) => mk.track({ event: 'render.completed', customerId: 'cus_42', properties: { gpuSeconds: i } }))
    await mk.flush()
    expect(bodies).toHaveLength(3)
    for (const b of bodies) expect((JSON.parse(b) as { events: { id: string }[] }).events.map((e) => e.id)).toEqual(ids)
    expect(new Set(bodies).size).toBe(1) // byte-identical resends
    expect(mk.stats()).toEqual({ tracked: 3, acknowledged: 3, duplicates: 0, rejected: 0, retried: 6, buffered: 0, dropped: 0, inFlight: 0 })
    await mk.shutdown()
  })
})

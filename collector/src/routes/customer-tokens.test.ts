import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { T0, type TestApp, testApp } from '../testing.js'

let t: TestApp
beforeEach(async () => {
  t = await testApp()
  await t.json('PUT', '/v1/config', {
    meters: [
      { key: 'views', event: 'page.view', aggregation: 'count', sources: ['browser'] },
      { key: 'server_views', event: 'page.view', aggregation: 'count' },
    ],
  })
})
afterEach(async () => {
  await t.close()
})

const NOW = new Date(T0 - 1000).toISOString()
const view = (id: string, overrides: Record<string, unknown> = {}) => ({ id, event: 'page.view', customerId: 'cus_42', timestamp: NOW, properties: {}, ...overrides })

async function mint(body: Record<string, unknown> = {}) {
  const res = await t.json('POST', '/v1/customer-tokens', { customerId: 'cus_42', ...body })
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body.token as string
}

describe('POST /v1/customer-tokens', () => {
  it('mints a 15-minute token by default, at most an hour, and creates the customer', async () => {
    const res = await t.json('POST', '/v1/customer-tokens', { customerId: 'cus_new' })
    expect(res).toEqual({ status: 200, body: { token: expect.stringMatching(/^mk_ct_/), customerId: 'cus_new', expiresAt: '2026-11-25T10:15:00.000Z' } })
    expect((await t.json('GET', '/v1/customers/cus_new')).status).toBe(200)
    expect((await t.json('POST', '/v1/customer-tokens', { customerId: 'c', ttlSeconds: 3600 })).body.expiresAt).toBe('2026-11-25T11:00:00.000Z')
    const tooLong = await t.json('POST', '/v1/customer-tokens', { customerId: 'c', ttlSeconds: 3601 })
    expect(tooLong.status).toBe(400)
    expect(tooLong.body.error).toMatchObject({ code: 'invalid_body', message: 'ttlSeconds: must be at most 3600 (one hour)' })
  })

  it('names every bad field', async () => {
    const cases: [unknown, string][] = [
      [{}, 'customerId: '],
      [{ customerId: 'a\u0000b' }, 'customerId: must hold no control characters'],
      [{ customerId: 'c', ttlSeconds: 1.5 }, 'ttlSeconds: must be a whole number of seconds'],
      [{ customerId: 'c', ingest: { events: [] } }, 'ingest.events: must list at least one event name'],
      [{ customerId: 'c', ingest: { events: ['bad name'] } }, 'ingest.events.0: must be 1–128 characters'],
      [{ customerId: 'c', scope: 'all' }, 'body: '],
    ]
    for (const [body, message] of cases) {
      const res = await t.json('POST', '/v1/customer-tokens', body)
      expect(res.status).toBe(400)
      expect(res.body.error.message).toContain(message)
    }
  })

  it('is for secret keys only: a token cannot mint tokens', async () => {
    const res = await t.json('POST', '/v1/customer-tokens', { customerId: 'cus_42' }, {}, await mint())
    expect(res.status).toBe(403)
    expect(res.body.error.code).toBe('forbidden')
  })
})

describe('what a token reaches', () => {
  it('its own customer’s usage; another customer is 404; other routes 403', async () => {
    await t.json('POST', '/v1/customers', { id: 'cus_other' })
    const token = await mint()
    expect((await t.json('GET', '/v1/customers/cus_42/usage?meter=views', undefined, {}, token)).status).toBe(200)
    const foreign = await t.json('GET', '/v1/customers/cus_other/usage?meter=views', undefined, {}, token)
    expect(foreign).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } })
    for (const [method, path] of [['GET', '/v1/customers/cus_42'], ['GET', '/v1/customers/cus_42/usage/events?meter=views'], ['GET', '/v1/events'],
      ['GET', '/v1/config'], ['POST', '/v1/keys'], ['GET', '/v1/events/x'], ['DELETE', '/v1/customers/cus_42/usage']] as const) {
      const res = await t.json(method, path, undefined, {}, token)
      expect(res.status, `${method} ${path}`).toBe(403)
      expect(res.body.error.code).toBe('forbidden')
    }
  })

  it('expired, tampered, or minted by a revoked key: 401', async () => {
    const created = await t.json('POST', '/v1/keys', { name: 'backend' })
    const byBackend = (await t.json('POST', '/v1/customer-tokens', { customerId: 'cus_42' }, {}, created.body.key)).body.token as string
    const token = await mint({ ttlSeconds: 60 })
    const usage = (credential: string) => t.json('GET', '/v1/customers/cus_42/usage?meter=views', undefined, {}, credential)
    expect((await usage(byBackend)).status).toBe(200)
    await t.json('DELETE', `/v1/keys/${created.body.id}`)
    expect((await usage(byBackend)).body.error).toEqual({ code: 'unauthorized', message: 'the key that minted this customer token was revoked' })
    expect((await usage(`${token.slice(0, -2)}AA`)).body.error).toEqual({ code: 'unauthorized', message: 'the customer token is not valid' })
    t.clock.advance(59_999)
    expect((await usage(token)).status).toBe(200)
    t.clock.advance(1)
    expect((await usage(token)).body.error).toEqual({ code: 'unauthorized', message: 'the customer token expired at 2026-11-25T10:01:00.000Z; mint a new one' })
  })

  it('takes ?token= only where headers cannot be set (events, stream)', async () => {
    const token = await mint({ ingest: { events: ['page.view'] } })
    const viaQuery = await t.app.request(`/v1/events?token=${token}`, { method: 'POST', body: JSON.stringify({ events: [view('q1')] }) })
    expect(viaQuery.status).toBe(200)
    expect((await t.app.request(`/v1/customers/cus_42/usage?meter=views&token=${token}`)).status).toBe(401)
    expect((await t.app.request(`/v1/events?token=${t.key}`, { method: 'POST', body: JSON.stringify({ events: [view('q2')] }) })).status).toBe(401)
  })
})

describe('sending events with a token', () => {
  it('a read-only token gets 403 forbidden', async () => {
    const res = await t.json('POST', '/v1/events', { events: [view('r1')] }, {}, await mint())
    expect(res.status).toBe(403)
    expect(res.body.error).toMatchObject({ code: 'forbidden', message: expect.stringContaining('read-only') })
  })

  it('only the events it names, for its customer, within 5 minutes of now, stored as browser events', async () => {
    const token = await mint({ ingest: { events: ['page.view'] } })
    const res = await t.json('POST', '/v1/events', { events: [
      view('b1'),
      view('b2', { event: 'render.completed' }),
      view('b3', { customerId: 'cus_other' }),
      view('b4', { timestamp: new Date(T0 - 300_001).toISOString() }),
      view('b5', { timestamp: new Date(T0 + 300_001).toISOString() }),
      view('b6', { timestamp: new Date(T0 - 300_000).toISOString() }),
    ] }, { 'content-type': 'text/plain;charset=UTF-8' }, token)
    expect(res.status).toBe(200)
    expect(res.body.results.map((r: { status: string; code?: string }) => r.code ?? r.status)).toEqual([
      'accepted', 'forbidden_event', 'forbidden_customer', 'timestamp_too_old', 'timestamp_in_future', 'accepted',
    ])
    expect(res.body.results[3].message).not.toContain('import')
    expect((await t.json('GET', '/v1/events/b1')).body).toMatchObject({ source: 'browser', customerId: 'cus_42' })
  })

  it('count only toward meters that opt in with sources ["browser"]', async () => {
    const token = await mint({ ingest: { events: ['page.view'] } })
    await t.json('POST', '/v1/events', { events: [view('m1'), view('m2')] }, {}, token)
    await t.json('POST', '/v1/events', { events: [view('m3')] })
    const value = async (meter: string) => (await t.json('GET', `/v1/customers/cus_42/usage?meter=${meter}`)).body.value
    expect(await value('views')).toBe('2')
    expect(await value('server_views')).toBe('1')
  })
})

import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { T0, type TestApp, testApp } from '../testing.js'

let t: TestApp
beforeEach(async () => {
  t = await testApp()
})
afterEach(async () => {
  await t.close()
})

const APP = 'https://app.example'
const preflight = (path: string, method = 'POST', origin = APP) =>
  t.app.request(path, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'authorization, content-type' } })

async function mint(body: Record<string, unknown> = {}) {
  return (await t.json('POST', '/v1/customer-tokens', { customerId: 'cus_42', ingest: { events: ['page.view'] }, ...body })).body.token as string
}

const view = { id: 'v1', event: 'page.view', customerId: 'cus_42', timestamp: new Date(T0 - 1000).toISOString(), properties: {} }

describe('CORS', () => {
  it('routes a token may use answer preflights for any origin when none are configured', async () => {
    for (const [path, method] of [['/v1/events', 'POST'], ['/v1/customers/cus_42/usage', 'GET'], ['/v1/customers/cus_42/stream', 'GET'],
      ['/v1/customers/cus_42/balance', 'GET'], ['/v1/customers/cus_42/entitlements/4k', 'GET'], ['/v1/quotes', 'POST']]) {
      const res = await preflight(path!, method)
      expect(res.status, path).toBe(204)
      expect(res.headers.get('access-control-allow-origin')).toBe(APP)
      expect(res.headers.get('access-control-allow-headers')).toBe('Authorization, Content-Type, Last-Event-ID')
      expect(res.headers.get('access-control-allow-methods')).toBe(`${method}, OPTIONS`)
    }
    // Not for other routes or methods.
    expect((await preflight('/v1/keys')).headers.get('access-control-allow-origin')).toBeNull()
    expect((await preflight('/v1/customers/cus_42', 'GET')).headers.get('access-control-allow-origin')).toBeNull()
    expect((await preflight('/v1/events', 'DELETE')).headers.get('access-control-allow-origin')).toBeNull()
  })

  it('answers readable responses, errors included, with Retry-After exposed', async () => {
    const ok = await t.app.request('/v1/events', { method: 'POST', headers: { origin: APP, authorization: `Bearer ${await mint()}`, 'content-type': 'application/json' }, body: JSON.stringify({ events: [view] }) })
    expect(ok.status).toBe(200)
    expect(ok.headers.get('access-control-allow-origin')).toBe(APP)
    expect(ok.headers.get('access-control-expose-headers')).toBe('Retry-After')
    const denied = await t.app.request('/v1/customers/cus_42/usage?meter=m', { headers: { origin: APP, authorization: 'Bearer mk_ct_x.y' } })
    expect(denied.status).toBe(401)
    expect(denied.headers.get('access-control-allow-origin')).toBe(APP)
    const other = await t.app.request('/v1/events', { headers: { origin: APP, authorization: `Bearer ${t.key}` } })
    expect(other.headers.get('access-control-allow-origin')).toBeNull()
  })

  it('with browser.origins set, only those origins: preflights with ?token= and every token request', async () => {
    await t.json('PUT', '/v1/config', { browser: { origins: [APP] } })
    const token = await mint()
    const send = (origin: string) => t.app.request(`/v1/events?token=${token}`, { method: 'POST', headers: { origin }, body: JSON.stringify({ events: [view] }) })
    expect((await send(APP)).status).toBe(200)
    const evil = await send('https://evil.example')
    expect(evil.status).toBe(403)
    expect(((await evil.json()) as { error: { message: string } }).error.message).toContain('https://evil.example')
    expect((await t.json('GET', '/v1/events/v1')).body.id).toBe('v1')
    expect((await preflight(`/v1/events?token=${token}`, 'POST', 'https://evil.example')).headers.get('access-control-allow-origin')).toBeNull()
    expect((await preflight(`/v1/events?token=${token}`)).headers.get('access-control-allow-origin')).toBe(APP)
    // A secret key is not a browser's credential: no origin rule applies to it.
    const server = await t.app.request('/v1/customers/cus_42/usage?meter=m', { headers: { origin: 'https://evil.example', authorization: `Bearer ${t.key}` } })
    expect(server.status).not.toBe(403)
  })
})

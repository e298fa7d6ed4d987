import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { hashKey, newSecretKey } from '@meterkit/engine'
import { type TestApp, event, testApp } from '../testing.js'

let t: TestApp
beforeEach(async () => {
  t = await testApp()
})
afterEach(async () => {
  await t.close()
})

describe('authentication', () => {
  it('no key, a malformed header, an unknown key: 401 with the error body', async () => {
    for (const headers of [{}, { authorization: 'Basic abc' }, { authorization: `Bearer ${newSecretKey()}` }]) {
      const res = await t.app.request('/v1/events', { method: 'GET', headers })
      expect(res.status).toBe(401)
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unauthorized')
    }
  })

  it('a created key works at once; a revoked key is 401', async () => {
    const created = await t.json('POST', '/v1/keys', { name: 'worker' })
    expect(created.status).toBe(201)
    expect(created.body.key).toMatch(/^mk_sec_[A-Za-z0-9]{32}$/)
    expect((await t.json('GET', '/v1/events', undefined, {}, created.body.key)).status).toBe(200)
    const revoked = await t.json('DELETE', `/v1/keys/${created.body.id}`)
    expect(revoked).toEqual({ status: 200, body: { id: created.body.id, revoked: true } })
    const after = await t.json('GET', '/v1/events', undefined, {}, created.body.key)
    expect(after.status).toBe(401)
    expect(after.body.error.code).toBe('unauthorized')
  })

  it('revoking an unknown key or another tenant’s key is 404', async () => {
    const other = await t.store.createTenant('other', 0)
    const rec = await t.store.putApiKey({ id: 'key_other', tenantId: other.id, hash: hashKey(newSecretKey()), name: null }, 0)
    expect((await t.json('DELETE', `/v1/keys/${rec.id}`)).status).toBe(404)
    expect((await t.json('DELETE', '/v1/keys/key_nope')).status).toBe(404)
  })

  it('another tenant’s event is 404 and invisible in lists', async () => {
    const other = await t.store.createTenant('other', 0)
    const otherKey = newSecretKey()
    await t.store.putApiKey({ id: 'key_o', tenantId: other.id, hash: hashKey(otherKey), name: null }, 0)
    const e = event()
    expect((await t.json('POST', '/v1/events', { events: [e] })).body.accepted).toBe(1)
    const res = await t.json('GET', `/v1/events/${e.id}`, undefined, {}, otherKey)
    expect(res.status).toBe(404)
    expect(res.body.error.code).toBe('not_found')
    expect((await t.json('GET', '/v1/events', undefined, {}, otherKey)).body.data).toEqual([])
    // The same id is free in the other tenant: dedup is per tenant.
    expect((await t.json('POST', '/v1/events', { events: [e] }, {}, otherKey)).body.accepted).toBe(1)
  })

  // The bytes of the SQLite files; on PostgreSQL the same holds of the api_keys rows (store/postgres/key-rows.ts).
  it.runIf(process.env.MK_TEST_STORE !== 'postgres')('no plaintext key is in the database files', async () => {
    const created = await t.json('POST', '/v1/keys', {})
    await t.store.close()
    const files = ['', '-wal'].map((suffix) => {
      try {
        return readFileSync(t.dbPath + suffix)
      } catch {
        return Buffer.alloc(0)
      }
    })
    for (const key of [t.key, created.body.key as string]) {
      for (const bytes of files) expect(bytes.includes(Buffer.from(key))).toBe(false)
    }
    expect(files.some((bytes) => bytes.includes(hashKey(created.body.key)))).toBe(true)
  })

  it('health, readiness and metrics need no key', async () => {
    expect((await t.app.request('/healthz')).status).toBe(200)
    expect((await t.app.request('/readyz')).status).toBe(200)
    await t.json('POST', '/v1/events', { events: [event(), { id: 'bad id' }] })
    const metrics = await (await t.app.request('/metrics')).text()
    expect(metrics).toMatch(/meterkit_events_total\{status="accepted"\} 1/)
    expect(metrics).toMatch(/meterkit_events_total\{status="rejected"\} 1/)
    expect(metrics).toContain('meterkit_ingest_commit_seconds_bucket')
    expect(metrics).toMatch(/meterkit_http_requests_total\{route="\/v1\/events",method="POST",status="200"\} 1/)
  })

  it('unknown routes answer 404 with the error body', async () => {
    const res = await t.json('GET', '/v1/nope')
    expect(res.status).toBe(404)
    expect(res.body.error.code).toBe('not_found')
  })
})

describe('GET /v1/events and /v1/events/:id', () => {
  it('lists newest first by event time (ties by id), filtered, cursor-paged', async () => {
    const events = [
      event({ id: 'a', timestamp: '2026-11-25T08:00:00Z' }),
      event({ id: 'b', timestamp: '2026-11-25T09:00:00Z' }),
      event({ id: 'c', timestamp: '2026-11-25T09:00:00Z', customerId: 'cus_7' }),
      event({ id: 'd', timestamp: '2026-11-25T07:00:00Z', event: 'clip.generated' }),
    ]
    await t.json('POST', '/v1/events', { events })
    const p1 = await t.json('GET', '/v1/events?limit=2')
    expect(p1.body.data.map((e: { id: string }) => e.id)).toEqual(['c', 'b'])
    const p2 = await t.json('GET', `/v1/events?limit=2&cursor=${p1.body.nextCursor}`)
    expect(p2.body.data.map((e: { id: string }) => e.id)).toEqual(['a', 'd'])
    expect(p2.body.nextCursor).toBeNull()
    expect((await t.json('GET', '/v1/events?customerId=cus_7')).body.data.map((e: { id: string }) => e.id)).toEqual(['c'])
    expect((await t.json('GET', '/v1/events?event=clip.generated')).body.data.map((e: { id: string }) => e.id)).toEqual(['d'])
    const range = await t.json('GET', '/v1/events?from=2026-11-25T08:00:00Z&to=2026-11-25T09:00:00Z')
    expect(range.body.data.map((e: { id: string }) => e.id)).toEqual(['a'])
    expect((await t.json('GET', '/v1/events?limit=0')).status).toBe(400)
    expect((await t.json('GET', '/v1/events?limit=1001')).status).toBe(400)
    expect((await t.json('GET', '/v1/events?cursor=zzz')).status).toBe(400)
    expect((await t.json('GET', '/v1/events?from=yesterday')).body.error.message).toContain('from')
  })

  it('one event with its status, source, receivedAt and versions', async () => {
    const e = event({ timestamp: '2026-11-25T10:00:00+01:00', reservationId: 'res_7' })
    await t.json('POST', '/v1/events', { events: [e] })
    const res = await t.json('GET', `/v1/events/${e.id}`)
    expect(res.body).toEqual({
      id: e.id,
      event: e.event,
      customerId: e.customerId,
      timestamp: '2026-11-25T09:00:00.000Z',
      properties: e.properties,
      reservationId: 'res_7',
      source: 'server',
      receivedAt: '2026-11-25T10:00:00.000Z',
      status: 'active',
      versions: [{ version: 1, action: 'receive', properties: e.properties, reason: null, at: '2026-11-25T10:00:00.000Z' }],
    })
  })
})

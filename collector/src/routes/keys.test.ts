import { afterEach, describe, expect, it } from 'vitest'
import { T0, type TestApp, event, testApp } from '../testing.js'

let t: TestApp
afterEach(async () => t?.close())

describe('keys', () => {
  it('creates admin keys by default and scoped, expiring ones on request; lists them without secrets', async () => {
    t = await testApp()
    const plain = await t.json('POST', '/v1/keys', { name: 'ops' })
    expect(plain.status).toBe(201)
    expect(plain.body).toMatchObject({ name: 'ops', scopes: ['admin'], mode: 'live', expiresAt: null, revokedAt: null, key: expect.stringMatching(/^mk_sec_/) })
    const worker = await t.json('POST', '/v1/keys', { name: 'worker', scopes: ['read', 'ingest', 'ingest'], expiresAt: '2026-12-25T12:00:00+02:00' })
    expect(worker.body).toMatchObject({ scopes: ['ingest', 'read'], expiresAt: '2026-12-25T10:00:00.000Z' })
    const listed = await t.json('GET', '/v1/keys')
    expect(listed.body.nextCursor).toBeNull()
    const byName = Object.fromEntries(listed.body.data.map((k: { name: string }) => [k.name, k]))
    expect(Object.keys(byName).sort()).toEqual(['ops', 'test', 'worker'])
    expect(byName.worker).toEqual({ id: worker.body.id, name: 'worker', scopes: ['ingest', 'read'], mode: 'live', createdAt: '2026-11-25T10:00:00.000Z', expiresAt: '2026-12-25T10:00:00.000Z', revokedAt: null, lastUsedAt: null })
    const text = JSON.stringify(listed.body)
    for (const secret of [t.key, plain.body.key, worker.body.key]) expect(text).not.toContain(secret)
    expect(text).not.toMatch(/hash/i)
  })

  it('refuses bad scopes and past expiries, naming the field', async () => {
    t = await testApp()
    const bad = await t.json('POST', '/v1/keys', { scopes: ['write'] })
    expect(bad.status).toBe(400)
    expect(bad.body.error.message).toMatch(/^scopes\.0: /)
    expect((await t.json('POST', '/v1/keys', { scopes: [] })).body.error.message).toMatch(/^scopes: must list at least one scope/)
    const past = await t.json('POST', '/v1/keys', { expiresAt: '2026-11-25T09:59:59Z' })
    expect(past.status).toBe(400)
    expect(past.body.error.message).toBe('expiresAt: must be in the future')
  })

  it('lets only admin keys create keys, and names the scope a request lacks', async () => {
    t = await testApp()
    const read = (await t.json('POST', '/v1/keys', { scopes: ['read'] })).body.key as string
    const ingest = (await t.json('POST', '/v1/keys', { scopes: ['ingest'] })).body.key as string
    const refused = await t.json('POST', '/v1/keys', { scopes: ['read'] }, {}, read)
    expect(refused.status).toBe(403)
    expect(refused.body.error).toMatchObject({ code: 'forbidden', details: { scope: 'admin' } })
    expect(refused.body.error.message).toContain('admin scope')
    // An ingest key sends events and holds credits, and reads nothing.
    expect((await t.json('POST', '/v1/events', { events: [event()] }, {}, ingest)).body.accepted).toBe(1)
    expect((await t.json('POST', '/v1/reservations', { customerId: 'cus_42', credits: '0' }, {}, ingest)).status).toBe(201)
    expect((await t.json('GET', '/v1/events', undefined, {}, ingest)).body.error.details).toEqual({ scope: 'read' })
    // A read key reads, and mints read-only customer tokens only.
    expect((await t.json('GET', '/v1/events', undefined, {}, read)).body.data).toHaveLength(1)
    expect((await t.json('POST', '/v1/events', { events: [event()] }, {}, read)).status).toBe(403)
    expect((await t.json('POST', '/v1/customer-tokens', { customerId: 'cus_42' }, {}, read)).status).toBe(200)
    const withIngest = await t.json('POST', '/v1/customer-tokens', { customerId: 'cus_42', ingest: { events: ['render.completed'] } }, {}, read)
    expect(withIngest.status).toBe(403)
    expect(withIngest.body.error.message).toContain('ingest scope')
  })

  it('refuses a key once it expires, saying so, and the customer tokens it minted with it', async () => {
    t = await testApp()
    const expiring = await t.json('POST', '/v1/keys', { expiresAt: '2026-11-25T11:00:00Z' })
    const token = (await t.json('POST', '/v1/customer-tokens', { customerId: 'cus_42' }, {}, expiring.body.key)).body.token as string
    expect((await t.json('GET', '/v1/customers/cus_42/balance', undefined, {}, token)).status).toBe(200)
    t.clock.set(Date.parse('2026-11-25T10:59:59.999Z'))
    expect((await t.json('GET', '/v1/events', undefined, {}, expiring.body.key)).status).toBe(200)
    t.clock.set(Date.parse('2026-11-25T11:00:00Z'))
    const refused = await t.json('GET', '/v1/events', undefined, {}, expiring.body.key)
    expect(refused.status).toBe(401)
    expect(refused.body.error).toMatchObject({ code: 'unauthorized', message: 'the key expired at 2026-11-25T11:00:00.000Z' })
    expect((await t.json('GET', '/v1/customers/cus_42/balance', undefined, {}, token)).status).toBe(401)
  })

  it('records when a key was last used, at most once a minute', async () => {
    t = await testApp()
    const lastUsed = async () => (await t.json('GET', '/v1/keys')).body.data.find((k: { name: string }) => k.name === 'test').lastUsedAt
    expect(await lastUsed()).toBe(new Date(T0).toISOString())
    t.clock.advance(30_000)
    expect(await lastUsed()).toBe(new Date(T0).toISOString())
    t.clock.advance(30_000)
    expect(await lastUsed()).toBe(new Date(T0 + 60_000).toISOString())
  })
})

import { gzipSync } from 'node:zlib'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { MAX_BATCH_BYTES, MAX_EVENT_BYTES } from '@meterkit/protocol'
import { T0, type TestApp, event, testApp } from '../testing.js'

let t: TestApp
beforeEach(async () => {
  t = await testApp()
})
afterEach(async () => {
  await t.close()
})

const post = (events: unknown[]) => t.json('POST', '/v1/events', { events })

async function single(e: unknown) {
  const { status, body } = await post([e])
  expect(status).toBe(200)
  return body.results[0]
}

describe('POST /v1/events: event rules at and just past each boundary (CONTRACT §3)', () => {
  const cases: Array<[string, Record<string, unknown>, string | null]> = [
    ['id of 128 chars', { id: 'a'.repeat(128) }, null],
    ['id of 129 chars', { id: 'a'.repeat(129) }, 'invalid_id'],
    ['empty id', { id: '' }, 'invalid_id'],
    ['id with every allowed symbol', { id: 'Az09._:-' }, null],
    ['id with a slash', { id: 'job/1' }, 'invalid_id'],
    ['id as a number', { id: 42 }, 'invalid_id'],
    ['missing id', { id: undefined }, 'invalid_id'],
    ['event of 128 chars', { event: 'e'.repeat(128) }, null],
    ['event of 129 chars', { event: 'e'.repeat(129) }, 'invalid_event'],
    ['event with a space', { event: 'render completed' }, 'invalid_event'],
    ['missing event', { event: undefined }, 'invalid_event'],
    ['customerId of 256 chars', { customerId: 'c'.repeat(256) }, null],
    ['customerId of 257 chars', { customerId: 'c'.repeat(257) }, 'invalid_customer'],
    ['empty customerId', { customerId: '' }, 'invalid_customer'],
    ['customerId with a newline', { customerId: 'cus\n42' }, 'invalid_customer'],
    ['customerId with spaces and unicode', { customerId: 'Acme Studio · Zürich' }, null],
    ['timestamp with an offset', { timestamp: '2026-11-25T11:00:00+02:00' }, null],
    ['timestamp without an offset', { timestamp: '2026-11-25T10:00:00' }, 'invalid_timestamp'],
    ['timestamp on Feb 30', { timestamp: '2026-02-30T10:00:00Z' }, 'invalid_timestamp'],
    ['timestamp as a number', { timestamp: T0 }, 'invalid_timestamp'],
    ['timestamp exactly 5 min ahead', { timestamp: new Date(T0 + 300_000).toISOString() }, null],
    ['timestamp 5 min and 1 ms ahead', { timestamp: new Date(T0 + 300_001).toISOString() }, 'timestamp_in_future'],
    ['timestamp exactly 35 days old', { timestamp: new Date(T0 - 35 * 86_400_000).toISOString() }, null],
    ['timestamp 35 days and 1 ms old', { timestamp: new Date(T0 - 35 * 86_400_000 - 1).toISOString() }, 'timestamp_too_old'],
    ['100 property keys', { properties: Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, i])) }, null],
    ['101 property keys', { properties: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`k${i}`, i])) }, 'invalid_properties'],
    // `properties` is depth 1; each nested object or array one level more.
    ['nesting depth 5', { properties: { a: { b: { c: { d: { e: 1 } } } } } }, null],
    ['nesting depth 6', { properties: { a: { b: { c: { d: { e: { f: 1 } } } } } } }, 'invalid_properties'],
    ['arrays count as depth', { properties: { a: [[[[1]]]] } }, null],
    ['arrays past depth 5', { properties: { a: [[[[[1]]]]] } }, 'invalid_properties'],
    ['string of 4096 chars', { properties: { s: 'x'.repeat(4096) } }, null],
    ['string of 4097 chars', { properties: { s: 'x'.repeat(4097) } }, 'invalid_properties'],
    ['properties as an array', { properties: [1, 2] }, 'invalid_properties'],
    ['properties as a string', { properties: 'gpu' }, 'invalid_properties'],
    ['no properties', { properties: undefined }, null],
    ['reservationId', { reservationId: 'res_7' }, null],
    ['bad reservationId', { reservationId: 'res 7' }, 'invalid_reservation'],
  ]
  it.each(cases)('%s', async (_name, overrides, code) => {
    const e = { ...event(), ...overrides }
    for (const [k, v] of Object.entries(overrides)) if (v === undefined) delete (e as Record<string, unknown>)[k]
    const result = await single(e)
    if (code === null) {
      expect(result).toEqual({ id: e.id, status: 'accepted' })
    } else {
      expect(result.status).toBe('rejected')
      expect(result.code).toBe(code)
      expect(typeof result.message).toBe('string')
    }
  })

  it('event of exactly 32 KiB is accepted; one byte more is event_too_large', async () => {
    const base = { ...event(), properties: { a: '', b: '', c: '', d: '', e: '', f: '', g: '', h: '', i: '' } }
    const room = MAX_EVENT_BYTES - Buffer.byteLength(JSON.stringify(base))
    const fill = (n: number) => {
      const props: Record<string, string> = {}
      for (const [i, k] of Object.keys(base.properties).entries()) props[k] = 'x'.repeat(Math.min(4096, Math.max(0, n - i * 4096)))
      return props
    }
    const exact = { ...base, properties: fill(room) }
    expect(Buffer.byteLength(JSON.stringify(exact))).toBe(MAX_EVENT_BYTES)
    expect(await single(exact)).toEqual({ id: exact.id, status: 'accepted' })
    const over = { ...base, id: `${base.id}-over`, properties: fill(room + 1) }
    const result = await single(over)
    expect(result).toMatchObject({ id: over.id, status: 'rejected', code: 'event_too_large' })
  })

  it('non-finite numbers (1e400) are rejected per event with invalid_properties', async () => {
    const good = event()
    const body = `{"events":[${JSON.stringify(good)},{"id":"big","event":"x","customerId":"c","timestamp":"2026-11-25T09:00:00Z","properties":{"n":1e400}}]}`
    const { status, body: res } = await t.json('POST', '/v1/events', body, { 'content-type': 'application/json' })
    expect(status).toBe(200)
    expect(res.results[0]).toEqual({ id: good.id, status: 'accepted' })
    expect(res.results[1]).toMatchObject({ id: 'big', status: 'rejected', code: 'invalid_properties' })
    expect(res.results[1].message).toContain('properties.n')
  })

  it('an event that is not an object is rejected on its own', async () => {
    const { body } = await post([42, event()])
    expect(body.results[0]).toMatchObject({ id: null, status: 'rejected', code: 'invalid_event_object' })
    expect(body.results[1].status).toBe('accepted')
  })
})

describe('POST /v1/events: batches', () => {
  it('one bad event among good ones: the good ones stored, the bad one rejected naming its field', async () => {
    const events = [event(), event(), { ...event(), customerId: '' }, event()]
    const { status, body } = await post(events)
    expect(status).toBe(200)
    expect(body).toMatchObject({ accepted: 3, duplicates: 0, conflicts: 0, rejected: 1 })
    expect(body.results.map((r: { id: string }) => r.id)).toEqual(events.map((e) => e.id))
    expect(body.results[2]).toMatchObject({ status: 'rejected', code: 'invalid_customer' })
    expect(body.results[2].message).toMatch(/^customerId: /)
    for (const i of [0, 1, 3]) expect((await t.store.getEvent(t.tenant.id, events[i]!.id))?.id).toBe(events[i]!.id)
    expect(await t.store.getEvent(t.tenant.id, events[2]!.id)).toBeUndefined()
  })

  it('tells duplicates (same content) from conflicts (different content), with no time window', async () => {
    const e = event()
    expect((await post([e])).body.accepted).toBe(1)
    t.clock.advance(365 * 86_400_000)
    const again = { ...e, timestamp: new Date(T0 + 365 * 86_400_000 - 1000).toISOString() }
    // Same id, other content (timestamp moved): conflict, nothing changed.
    const r1 = await post([{ ...e, timestamp: again.timestamp }])
    expect(r1.body).toMatchObject({ accepted: 0, conflicts: 1, results: [{ id: e.id, status: 'conflict', code: 'conflict' }] })
    t.clock.set(T0 + 1000)
    const r2 = await post([{ ...e, properties: { resolution: '4k', gpuSeconds: 12.5 } }, { ...e, timestamp: '2026-11-25T10:00:00+01:00' }])
    expect(r2.body.results).toEqual([{ id: e.id, status: 'duplicate' }, { id: e.id, status: 'duplicate' }])
    const r3 = await post([{ ...e, properties: { gpuSeconds: 13 } }])
    expect(r3.body.results[0].status).toBe('conflict')
    expect((await t.store.getEvent(t.tenant.id, e.id))?.properties).toEqual(e.properties)
  })

  it('the same id twice in one batch: the second is a duplicate or a conflict', async () => {
    const e = event()
    const { body } = await post([e, e, { ...e, customerId: 'other' }])
    expect(body.results.map((r: { status: string }) => r.status)).toEqual(['accepted', 'duplicate', 'conflict'])
  })

  it('the same batch sent concurrently ten times stores each event once', async () => {
    const events = Array.from({ length: 50 }, () => event())
    const answers = await Promise.all(Array.from({ length: 10 }, () => post(events)))
    expect(answers.reduce((n, a) => n + a.body.accepted, 0)).toBe(50)
    expect(answers.reduce((n, a) => n + a.body.duplicates, 0)).toBe(450)
    const stored = (await t.json('GET', '/v1/events?limit=100')).body.data as { id: string }[]
    expect(stored.map((e) => e.id).sort()).toEqual(events.map((e) => e.id).sort())
  })

  it('1000 events are taken; 1001 is invalid_body', async () => {
    const ok = await post(Array.from({ length: 1000 }, () => event()))
    expect(ok.body.accepted).toBe(1000)
    const tooMany = await post(Array.from({ length: 1001 }, () => event()))
    expect(tooMany.status).toBe(400)
    expect(tooMany.body.error.code).toBe('invalid_body')
    expect(tooMany.body.error.message).toContain('events')
  })

  it('an event for an unknown customer creates that customer', async () => {
    await post([event({ customerId: 'cus_new' })])
    expect(await t.store.getCustomer(t.tenant.id, 'cus_new')).toMatchObject({ id: 'cus_new', timezone: 'UTC' })
  })

  it('takes a gzip body, with the limit on the decoded size', async () => {
    const events = Array.from({ length: 3 }, () => event())
    const res = await t.request('POST', '/v1/events', gzipSync(JSON.stringify({ events })), {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
    })
    expect(res.status).toBe(200)
    expect(((await res.json()) as { accepted: number }).accepted).toBe(3)
  })
})

describe('POST /v1/events: bad bodies get a 4xx with the error body, never a 5xx', () => {
  const bodies: Array<[string, string | Uint8Array, Record<string, string>, number, string]> = [
    ['malformed JSON', '{"events": [', { 'content-type': 'application/json' }, 400, 'invalid_json'],
    ['empty body', '', { 'content-type': 'application/json' }, 400, 'invalid_json'],
    ['a JSON array', '[]', { 'content-type': 'application/json' }, 400, 'invalid_body'],
    ['events not an array', '{"events": {}}', { 'content-type': 'application/json' }, 400, 'invalid_body'],
    ['no events', '{"events": []}', { 'content-type': 'application/json' }, 400, 'invalid_body'],
    ['wrong content type', '{"events": []}', { 'content-type': 'text/csv' }, 415, 'unsupported_media_type'],
    // A string body would get text/plain from Request itself: bytes carry no type.
    ['no content type', new TextEncoder().encode('{"events": []}'), {}, 415, 'unsupported_media_type'],
    ['text/plain is read as JSON (sendBeacon)', '{"events": []}', { 'content-type': 'text/plain;charset=UTF-8' }, 400, 'invalid_body'],
    ['unknown encoding', '{"events": []}', { 'content-type': 'application/json', 'content-encoding': 'br' }, 415, 'unsupported_media_type'],
    ['invalid UTF-8', new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), { 'content-type': 'application/json' }, 400, 'invalid_body'],
    ['bad gzip', new Uint8Array([0x1f, 0x8b, 1, 2, 3]), { 'content-type': 'application/json', 'content-encoding': 'gzip' }, 400, 'invalid_body'],
    ['deep nesting', `{"events":[${'['.repeat(100_000)}${']'.repeat(100_000)}]}`, { 'content-type': 'application/json' }, 200, ''],
  ]
  it.each(bodies)('%s', async (_name, body, headers, status, code) => {
    const res = await t.json('POST', '/v1/events', body, headers)
    expect(res.status).toBe(status)
    if (code) expect(res.body.error.code).toBe(code)
    else expect(res.body.results[0]).toMatchObject({ status: 'rejected', code: 'invalid_event_object' })
  })

  it('an oversized body is 413', async () => {
    const res = await t.json('POST', '/v1/events', `{"events":[],"pad":"${'x'.repeat(MAX_BATCH_BYTES)}"}`, { 'content-type': 'application/json' })
    expect(res.status).toBe(413)
    expect(res.body.error.code).toBe('payload_too_large')
  })

  it('a gzip bomb is refused with 413 without being inflated whole', async () => {
    const bomb = gzipSync(Buffer.alloc(200 * 1024 * 1024, 0x20))
    expect(bomb.byteLength).toBeLessThan(MAX_BATCH_BYTES)
    const before = process.memoryUsage().arrayBuffers
    const res = await t.json('POST', '/v1/events', bomb, { 'content-type': 'application/json', 'content-encoding': 'gzip' })
    expect(res.status).toBe(413)
    expect(res.body.error.code).toBe('payload_too_large')
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(50 * 1024 * 1024)
  })
})

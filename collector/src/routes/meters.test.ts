import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { T0, type TestApp, testApp } from '../testing.js'

let t: TestApp
beforeEach(async () => {
  t = await testApp()
})
afterEach(async () => {
  await t.close()
})

const CONFIG = {
  meters: [
    { key: 'gpu', event: 'render.completed', aggregation: 'sum', property: 'gpuSeconds', filter: { status: ['succeeded'] }, groupBy: ['resolution'] },
    { key: 'renders', event: 'render.completed', aggregation: 'count' },
    { key: 'clips', event: 'clip.generated', aggregation: 'unique_count', property: 'clipId' },
  ],
}

const ev = (id: string, at: string, properties: Record<string, unknown>, event = 'render.completed', customerId = 'cus_1') =>
  ({ id, event, customerId, timestamp: at, properties })

describe('configuration', () => {
  it('names the path of every invalid field', async () => {
    const res = await t.json('PUT', '/v1/config', {
      meters: [{ key: 'x', event: 'e', aggregation: 'sum' }, { key: 'x', event: 'bad event', aggregation: 'median' }],
      plans: [{ key: 'p', currency: 'usd', interval: 'month', charges: [{ key: 'c', meter: 'nope', model: 'per_unit', unitAmount: 2 }] }],
    })
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('invalid_body')
    const paths = (res.body.error.details as { path: (string | number)[] }[]).map((i) => i.path.join('.'))
    expect(paths).toEqual(expect.arrayContaining(['meters.0.property', 'meters.1.event', 'meters.1.aggregation', 'plans.0.currency', 'plans.0.charges.0.unitAmount']))
    expect(res.body.error.message).toContain('meters.0.property: is required for aggregation "sum"')
  })

  it('keeps every applied version; re-applying the same configuration changes nothing', async () => {
    expect((await t.json('GET', '/v1/config')).body).toMatchObject({ version: 0, config: { meters: [] } })
    const first = await t.json('PUT', '/v1/config', CONFIG)
    expect(first.body).toMatchObject({ version: 1, changed: true })
    expect((await t.json('PUT', '/v1/config', CONFIG)).body).toMatchObject({ version: 1, changed: false })
    const second = await t.json('PUT', '/v1/config', { meters: [CONFIG.meters[1]] })
    expect(second.body).toMatchObject({ version: 2, changed: true })
    expect((await t.json('GET', '/v1/config')).body.config.meters).toHaveLength(1)
  })
})

describe('usage', () => {
  beforeEach(async () => {
    await t.json('PUT', '/v1/config', CONFIG)
  })

  it('sums exactly (0.1 + 0.2 is 0.3), filters, groups, and says which configuration it used', async () => {
    await t.json('POST', '/v1/events', { events: [
      ev('a', '2026-11-25T08:00:00Z', { gpuSeconds: 0.1, resolution: '4k', status: 'succeeded' }),
      ev('b', '2026-11-25T08:10:00Z', { gpuSeconds: 0.2, resolution: '4k', status: 'succeeded' }),
      ev('c', '2026-11-25T08:20:00Z', { gpuSeconds: '12.5', resolution: '1080p', status: 'succeeded' }),
      ev('d', '2026-11-25T08:30:00Z', { gpuSeconds: 100, resolution: '4k', status: 'failed' }),
    ] })
    const res = await t.json('GET', '/v1/customers/cus_1/usage?meter=gpu&from=2026-11-25T00:00:00Z&to=2026-11-26T00:00:00Z&groupBy=resolution')
    expect(res.body).toEqual({
      meter: 'gpu', from: '2026-11-25T00:00:00.000Z', to: '2026-11-26T00:00:00.000Z', window: 'none', configVersion: 1,
      value: '12.8',
      groups: [{ group: { resolution: '1080p' }, value: '12.5' }, { group: { resolution: '4k' }, value: '0.3' }],
    })
    const count = await t.json('GET', '/v1/customers/cus_1/usage?meter=renders&from=2026-11-25T00:00:00Z&to=2026-11-26T00:00:00Z')
    expect(count.body.value).toBe('4')
  })

  it('day windows follow the customer’s time zone; every bucket listed, empty ones zero', async () => {
    await t.json('POST', '/v1/customers', { id: 'cus_1', timezone: 'Asia/Kolkata' })
    await t.json('POST', '/v1/events', { events: [
      ev('k1', '2026-11-24T18:29:59.999Z', { gpuSeconds: 1, status: 'succeeded' }),
      ev('k2', '2026-11-24T18:30:00.000Z', { gpuSeconds: 2, status: 'succeeded' }),
    ] })
    const res = await t.json('GET', '/v1/customers/cus_1/usage?meter=gpu&window=day&from=2026-11-23T18:30:00Z&to=2026-11-26T18:30:00Z')
    expect(res.body.buckets).toEqual([
      { start: '2026-11-23T18:30:00.000Z', end: '2026-11-24T18:30:00.000Z', value: '1' },
      { start: '2026-11-24T18:30:00.000Z', end: '2025-11-25T18:30:00.000Z'.replace('2025', '2026'), value: '2' },
      { start: '2026-11-25T18:30:00.000Z', end: '2026-11-26T18:30:00.000Z', value: '0' },
    ])
    expect(res.body.value).toBe('3')
  })

  it('a unique count over a range counts each value once across buckets', async () => {
    await t.json('POST', '/v1/events', { events: [
      ev('u1', '2026-11-20T01:00:00Z', { clipId: 'c-1' }, 'clip.generated'),
      ev('u2', '2026-11-21T01:00:00Z', { clipId: 'c-1' }, 'clip.generated'),
      ev('u3', '2026-11-21T02:00:00Z', { clipId: 5 }, 'clip.generated'),
      ev('u4', '2026-11-21T03:00:00Z', { clipId: '5' }, 'clip.generated'),
    ] })
    const res = await t.json('GET', '/v1/customers/cus_1/usage?meter=clips&window=day&from=2026-11-20T00:00:00Z&to=2026-11-22T00:00:00Z')
    expect(res.body.value).toBe('3')
    expect(res.body.buckets.map((b: { value: string }) => b.value)).toEqual(['1', '3'])
  })

  it('without from and to, usage covers the last 30 days', async () => {
    await t.json('POST', '/v1/events', { events: [
      ev('in', new Date(T0 - 29 * 86_400_000).toISOString(), { gpuSeconds: 1, status: 'succeeded' }),
      ev('out', new Date(T0 - 31 * 86_400_000).toISOString(), { gpuSeconds: 5, status: 'succeeded' }),
    ] })
    const res = await t.json('GET', '/v1/customers/cus_1/usage?meter=gpu')
    expect(res.body).toMatchObject({ from: new Date(T0 - 30 * 86_400_000).toISOString(), to: new Date(T0).toISOString(), value: '1' })
  })

  it('unknown meter or dimension is 400 naming it; unknown customer is 404', async () => {
    await t.json('POST', '/v1/events', { events: [ev('x', '2026-11-25T08:00:00Z', {})] })
    expect((await t.json('GET', '/v1/customers/cus_1/usage?meter=nope')).body.error.message).toContain('meter: no meter "nope"')
    expect((await t.json('GET', '/v1/customers/cus_1/usage?meter=gpu&groupBy=color')).body.error.message).toContain('groupBy: "color"')
    expect((await t.json('GET', '/v1/customers/cus_1/usage?meter=gpu&window=week')).status).toBe(400)
    expect((await t.json('GET', '/v1/customers/cus_9/usage?meter=gpu')).status).toBe(404)
  })

  it('lists the exact source events behind a figure, paged, by group', async () => {
    const events = Array.from({ length: 5 }, (_, i) => ev(`s${i}`, `2026-11-25T0${i}:00:00Z`, { gpuSeconds: i, resolution: i % 2 ? '4k' : 'hd', status: 'succeeded' }))
    await t.json('POST', '/v1/events', { events: [...events, ev('s9', '2026-11-25T06:00:00Z', { gpuSeconds: 9, resolution: '4k', status: 'failed' })] })
    const base = '/v1/customers/cus_1/usage/events?meter=gpu&from=2026-11-25T00:00:00Z&to=2026-11-26T00:00:00Z'
    const p1 = await t.json('GET', `${base}&limit=2`)
    expect(p1.body.data.map((e: { id: string }) => e.id)).toEqual(['s0', 's1'])
    const p2 = await t.json('GET', `${base}&limit=2&cursor=${p1.body.nextCursor}`)
    expect(p2.body.data.map((e: { id: string }) => e.id)).toEqual(['s2', 's3'])
    const p3 = await t.json('GET', `${base}&limit=2&cursor=${p2.body.nextCursor}`)
    expect(p3.body).toMatchObject({ data: [{ id: 's4', value: '4', group: { resolution: 'hd' } }], nextCursor: null })
    const fourK = await t.json('GET', `${base}&group.resolution=4k`)
    expect(fourK.body.data.map((e: { id: string }) => e.id)).toEqual(['s1', 's3'])
  })
})

describe('corrections and backfill', () => {
  beforeEach(async () => {
    await t.json('PUT', '/v1/config', CONFIG)
    await t.store.foldAll()
  })

  const usage = async () => (await t.json('GET', '/v1/customers/cus_1/usage?meter=gpu&from=2026-11-01T00:00:00Z&to=2026-11-26T00:00:00Z')).body.value

  it('void and amend recompute the figures, are audit-logged, and keep the original for dedup', async () => {
    const a = ev('a', '2026-11-25T08:00:00Z', { gpuSeconds: 10, status: 'succeeded' })
    await t.json('POST', '/v1/events', { events: [a, ev('b', '2026-11-25T08:01:00Z', { gpuSeconds: 5, status: 'succeeded' })] })
    await t.store.foldAll()
    expect(await usage()).toBe('15')
    const amended = await t.json('POST', '/v1/events/a/amend', { properties: { gpuSeconds: 7.5, status: 'succeeded' }, reason: 'pipeline double-counted' })
    expect(amended.body).toMatchObject({ status: 'amended', properties: { gpuSeconds: 7.5 } })
    expect(amended.body.versions.map((v: { action: string; reason: string | null }) => [v.action, v.reason])).toEqual([['receive', null], ['amend', 'pipeline double-counted']])
    expect(amended.body.versions[1].keyId).toMatch(/^key_/)
    expect(await usage()).toBe('12.5')
    // A retry of the original is still a duplicate and changes nothing.
    expect((await t.json('POST', '/v1/events', { events: [a] })).body.results[0].status).toBe('duplicate')
    expect(await usage()).toBe('12.5')
    const voided = await t.json('POST', '/v1/events/b/void', { reason: 'test job' })
    expect(voided.body.status).toBe('voided')
    expect(await usage()).toBe('7.5')
    // Lists keep voided events, with their status.
    const listed = (await t.json('GET', '/v1/events?customerId=cus_1')).body.data as { id: string; status: string }[]
    expect(listed.map((e) => [e.id, e.status])).toEqual([['b', 'voided'], ['a', 'amended']])
    expect((await t.json('POST', '/v1/events/b/void', { reason: 'again' })).status).toBe(409)
    expect((await t.json('POST', '/v1/events/b/amend', { properties: {}, reason: 'x' })).status).toBe(409)
    expect((await t.json('POST', '/v1/events/zz/void', { reason: 'x' })).status).toBe(404)
    expect((await t.json('POST', '/v1/events/a/void', {})).body.error.message).toContain('reason')
    expect((await t.store.verify()).differences).toEqual([])
  })

  it('imports NDJSON past the lateness window, with per-line results', async () => {
    const lines = [
      JSON.stringify(ev('old', '2025-01-15T00:00:00Z', { gpuSeconds: 2, status: 'succeeded' })),
      '',
      '{not json',
      JSON.stringify(ev('bad', '2025-01-15T00:00:00Z', { gpuSeconds: 2 }, 'render.completed', '')),
      JSON.stringify(ev('old', '2025-01-15T00:00:00Z', { gpuSeconds: 2, status: 'succeeded' })),
      JSON.stringify(ev('future', new Date(T0 + 3_600_000).toISOString(), {})),
    ].join('\n')
    const res = await t.json('POST', '/v1/events/import', lines, { 'content-type': 'application/x-ndjson' })
    expect(res.body).toEqual({
      accepted: 1, duplicates: 1, conflicts: 0, rejected: 3,
      errors: [
        { line: 3, id: null, code: 'invalid_json', message: expect.stringContaining('line 3') },
        { line: 4, id: 'bad', code: 'invalid_customer', message: expect.stringContaining('customerId') },
        { line: 6, id: 'future', code: 'timestamp_in_future', message: expect.stringContaining('timestamp') },
      ],
    })
    expect((await t.json('GET', '/v1/events/old')).body.source).toBe('import')
    const old = await t.json('GET', '/v1/customers/cus_1/usage?meter=gpu&from=2025-01-01T00:00:00Z&to=2025-02-01T00:00:00Z')
    expect(old.body.value).toBe('2')
    expect((await t.json('POST', '/v1/events', { events: [ev('late', '2025-01-15T00:00:00Z', {})] })).body.results[0].code).toBe('timestamp_too_old')
    expect((await t.json('POST', '/v1/events/import', lines, { 'content-type': 'application/json' })).status).toBe(415)
  })
})

describe('customers', () => {
  it('creates, updates and reads a customer; a bad time zone is named', async () => {
    const created = await t.json('POST', '/v1/customers', { id: 'cus_7', name: 'Acme', timezone: 'Europe/Paris', metadata: { tier: 'gold' } })
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({ id: 'cus_7', name: 'Acme', timezone: 'Europe/Paris', metadata: { tier: 'gold' } })
    const updated = await t.json('POST', '/v1/customers', { id: 'cus_7', email: 'ops@acme.test' })
    expect(updated.status).toBe(200)
    expect(updated.body).toMatchObject({ name: 'Acme', email: 'ops@acme.test', timezone: 'Europe/Paris' })
    const bad = await t.json('POST', '/v1/customers', { id: 'cus_8', timezone: 'Mars/Olympus' })
    expect(bad.status).toBe(400)
    expect(bad.body.error.message).toContain('timezone')
    expect((await t.json('GET', '/v1/customers/cus_8')).status).toBe(404)
  })

  it('an event for an unknown customer creates it with UTC', async () => {
    await t.json('POST', '/v1/events', { events: [ev('n1', '2026-11-25T08:00:00Z', {}, 'x', 'cus_new')] })
    expect((await t.json('GET', '/v1/customers/cus_new')).body).toMatchObject({ id: 'cus_new', timezone: 'UTC', name: null })
  })
})

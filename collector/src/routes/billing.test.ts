// Subscriptions, billing runs and invoices over HTTP, with amounts worked out by hand.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type TestApp, event, testApp } from '../testing.js'

const at = (iso: string) => Date.parse(iso)

const CONFIG = {
  meters: [
    { key: 'render_seconds', event: 'render.completed', aggregation: 'sum', property: 'gpuSeconds', groupBy: ['resolution'] },
    { key: 'renders', event: 'render.completed', aggregation: 'count' },
  ],
  plans: [
    {
      key: 'pro', currency: 'USD', interval: 'month', anchor: 'calendar',
      charges: [
        { key: 'base', model: 'flat', amount: '49', timing: 'advance' },
        { key: 'render', meter: 'render_seconds', model: 'per_unit', unitAmount: '0.1' },
        { key: 'renders', meter: 'renders', model: 'graduated', tiers: [{ upTo: '100', unitAmount: '0' }, { upTo: null, unitAmount: '0.5' }] },
      ],
    },
    { key: 'team', currency: 'USD', interval: 'month', anchor: 'calendar', charges: [{ key: 'base', model: 'flat', amount: '99' }] },
    {
      key: 'studio', currency: 'USD', interval: 'month', anchor: 'calendar',
      charges: [
        { key: 'render', meter: 'render_seconds', model: 'dimensional', dimension: 'resolution',
          prices: { '4k': { model: 'per_unit', unitAmount: '0.4' }, '*': { model: 'per_unit', unitAmount: '0.1' } } },
        { key: 'support', model: 'flat', amount: '10', timing: 'arrears' },
      ],
    },
    { key: 'anniv', currency: 'USD', interval: 'month', anchor: 'anniversary', charges: [{ key: 'base', model: 'flat', amount: '30' }] },
    { key: 'yen', currency: 'JPY', interval: 'month', anchor: 'calendar', charges: [{ key: 'render', meter: 'render_seconds', model: 'per_unit', unitAmount: '0.15' }] },
  ],
}

let t: TestApp
beforeEach(async () => {
  t = await testApp({ latenessWindowMs: 60 * 86_400_000 })
  t.clock.set(at('2026-11-25T10:00:00.000Z'))
  expect((await t.json('PUT', '/v1/config', CONFIG)).status).toBe(200)
})
afterEach(() => t.close())

async function track(...events: Record<string, unknown>[]) {
  const res = await t.json('POST', '/v1/events', { events: events.map((e) => event(e)) })
  expect(res.body.accepted).toBe(events.length)
}

async function run(until: string) {
  const res = await t.json('POST', '/v1/billing/run', { until })
  expect(res.status).toBe(200)
  return res.body as { finalized: string[]; drafts: string[]; adjustments: number }
}

async function invoices(customerId: string) {
  const res = await t.json('GET', `/v1/invoices?customerId=${customerId}`)
  expect(res.status).toBe(200)
  // Oldest first reads more naturally in the tests.
  return (res.body.data as Record<string, any>[]).reverse() // eslint-disable-line @typescript-eslint/no-explicit-any
}

const amounts = (inv: { lines: { chargeKey: string; kind: string; amount: string }[] }) => inv.lines.map((l) => `${l.kind}:${l.chargeKey}:${l.amount}`)

describe('a monthly subscription', () => {
  it('bills the advance fee at the start, usage at the period close, and a second run changes nothing', async () => {
    const sub = await t.json('POST', '/v1/subscriptions', { id: 'sub_1', customerId: 'cus_1', plan: 'pro', startAt: '2026-11-01T00:00:00Z' })
    expect(sub.status).toBe(201)
    expect(sub.body).toMatchObject({ id: 'sub_1', status: 'active', plan: 'pro', currentPeriodStart: '2026-11-01T00:00:00.000Z', currentPeriodEnd: '2026-12-01T00:00:00.000Z' })

    await track(
      { customerId: 'cus_1', timestamp: '2026-11-03T00:00:00Z', properties: { gpuSeconds: 12.5, resolution: '4k' } },
      { customerId: 'cus_1', timestamp: '2026-11-20T00:00:00Z', properties: { gpuSeconds: 7.5, resolution: '1080p' } },
      { customerId: 'cus_2', timestamp: '2026-11-20T00:00:00Z', properties: { gpuSeconds: 100, resolution: '4k' } },
    )
    const first = await run('2026-11-25T10:00:00Z')
    expect(first.finalized).toHaveLength(1)
    let list = await invoices('cus_1')
    expect(list).toHaveLength(1)
    expect(list[0]).toMatchObject({ number: 1, status: 'finalized', periodStart: '2026-11-01T00:00:00.000Z', periodEnd: '2026-12-01T00:00:00.000Z', total: '49.00', amountDue: '49.00' })
    expect(amounts(list[0]!)).toEqual(['flat:base:49.00'])

    // At the period's end, inside the grace period: a draft that may still change.
    t.clock.set(at('2026-12-01T00:30:00Z'))
    const inGrace = await run('2026-12-01T00:30:00Z')
    expect(inGrace.finalized).toEqual([])
    expect(inGrace.drafts).toHaveLength(1)
    list = await invoices('cus_1')
    expect(list[1]).toMatchObject({ status: 'draft', number: null })

    t.clock.set(at('2026-12-01T01:00:00Z'))
    const closed = await run('2026-12-01T01:00:00Z')
    expect(closed.finalized).toEqual(inGrace.drafts)
    list = await invoices('cus_1')
    expect(list).toHaveLength(2)
    // 20 GPU seconds × 0.1 = 2.00; 2 renders fall in the free tier; December's base in advance.
    expect(amounts(list[1]!)).toEqual(['usage:render:2.00', 'usage:renders:0.00', 'flat:base:49.00'])
    expect(list[1]).toMatchObject({ number: 2, status: 'finalized', subtotal: '51.00', total: '51.00', periodStart: '2026-11-01T00:00:00.000Z', periodEnd: '2026-12-01T00:00:00.000Z' })
    const base = list[1]!.lines[2]
    expect(base).toMatchObject({ periodStart: '2026-12-01T00:00:00.000Z', periodEnd: '2027-01-01T00:00:00.000Z' })

    const again = await run('2026-12-01T01:00:00Z')
    expect(again).toMatchObject({ finalized: [], drafts: [], adjustments: 0 })
    expect(await invoices('cus_1')).toEqual(list)
  })

  it('lists the exact events behind a usage line, paged', async () => {
    await t.json('POST', '/v1/subscriptions', { customerId: 'cus_1', plan: 'pro', startAt: '2026-11-01T00:00:00Z' })
    await track(
      { id: 'a', customerId: 'cus_1', timestamp: '2026-11-03T00:00:00Z', properties: { gpuSeconds: 1, resolution: '4k' } },
      { id: 'b', customerId: 'cus_1', timestamp: '2026-11-04T00:00:00Z', properties: { gpuSeconds: 2, resolution: '4k' } },
      { id: 'c', customerId: 'cus_1', timestamp: '2026-11-05T00:00:00Z', properties: { gpuSeconds: 3, resolution: '4k' } },
      { id: 'other', customerId: 'cus_1', event: 'clip.generated', timestamp: '2026-11-05T00:00:00Z' },
    )
    t.clock.set(at('2026-12-02T00:00:00Z'))
    await run('2026-12-02T00:00:00Z')
    const [, closing] = await invoices('cus_1')
    const line = closing!.lines.find((l: { chargeKey: string }) => l.chargeKey === 'render')
    expect(line).toMatchObject({ quantity: '6', amount: '0.60', eventCount: 3 })
    const page1 = await t.json('GET', `/v1/invoices/${closing!.id}/lines/${line.id}/events?limit=2`)
    expect(page1.body.data.map((e: { id: string }) => e.id)).toEqual(['a', 'b'])
    const page2 = await t.json('GET', `/v1/invoices/${closing!.id}/lines/${line.id}/events?limit=2&cursor=${page1.body.nextCursor}`)
    expect(page2.body).toMatchObject({ data: [{ id: 'c', timestamp: '2026-11-05T00:00:00.000Z' }], nextCursor: null })
    expect((await t.json('GET', `/v1/invoices/${closing!.id}/lines/li_99/events`)).status).toBe(404)
  })

  it('turns a late event into an adjustment line on the next invoice, naming its period and event', async () => {
    await t.json('POST', '/v1/subscriptions', { customerId: 'cus_1', plan: 'pro', startAt: '2026-11-01T00:00:00Z' })
    await track({ customerId: 'cus_1', timestamp: '2026-11-03T00:00:00Z', properties: { gpuSeconds: 10, resolution: '4k' } })
    t.clock.set(at('2026-12-01T02:00:00Z'))
    await run('2026-12-01T02:00:00Z')
    // Arrives after November's invoice was final.
    await track({ id: 'late-1', customerId: 'cus_1', timestamp: '2026-11-30T23:00:00Z', properties: { gpuSeconds: 25, resolution: '4k' } })
    t.clock.set(at('2027-01-01T02:00:00Z'))
    const result = await run('2027-01-01T02:00:00Z')
    expect(result.adjustments).toBe(1)
    const list = await invoices('cus_1')
    expect(list).toHaveLength(3)
    const adjustment = list[2]!.lines.find((l: { kind: string }) => l.kind === 'adjustment')
    expect(adjustment).toMatchObject({ chargeKey: 'render', amount: '2.50', quantity: '25', periodStart: '2026-11-01T00:00:00.000Z', periodEnd: '2026-12-01T00:00:00.000Z' })
    expect(adjustment.description).toContain('2026-11-01')
    const events = await t.json('GET', `/v1/invoices/${list[2]!.id}/lines/${adjustment.id}/events`)
    expect(events.body.data.map((e: { id: string }) => e.id)).toEqual(['late-1'])
    // The total is the sum of the rounded lines: 0 usage in December + 2.50 + 49 advance.
    expect(list[2]!.total).toBe('51.50')
  })

  it('names only the late event on an adjustment, not a correction the period had already billed', async () => {
    await t.json('POST', '/v1/subscriptions', { customerId: 'cus_1', plan: 'pro', startAt: '2026-11-01T00:00:00Z' })
    t.clock.set(at('2026-12-01T02:00:00Z'))
    await run('2026-12-01T02:00:00Z') // November invoiced
    t.clock.set(at('2026-12-05T00:00:00Z'))
    await track({ id: 'dec', customerId: 'cus_1', timestamp: '2026-12-03T00:00:00Z', properties: { gpuSeconds: 10, resolution: '4k' } })
    // Corrected while December is open: its invoice reads the amended event.
    expect((await t.json('POST', '/v1/events/dec/amend', { properties: { gpuSeconds: 20, resolution: '4k' }, reason: 'rerun' })).status).toBe(200)
    t.clock.set(at('2027-01-01T02:00:00Z'))
    await run('2027-01-01T02:00:00Z')
    await track({ id: 'late-dec', customerId: 'cus_1', timestamp: '2026-12-31T23:00:00Z', properties: { gpuSeconds: 25, resolution: '4k' } })
    t.clock.set(at('2027-02-01T02:00:00Z'))
    await run('2027-02-01T02:00:00Z')
    const list = await invoices('cus_1')
    expect(list[2]!.lines.find((l: { chargeKey: string }) => l.chargeKey === 'render')).toMatchObject({ amount: '2.00', eventCount: 1 })
    const adjustment = list[3]!.lines.find((l: { kind: string }) => l.kind === 'adjustment')
    expect(adjustment).toMatchObject({ chargeKey: 'render', amount: '2.50', periodStart: '2026-12-01T00:00:00.000Z' })
    const events = await t.json('GET', `/v1/invoices/${list[3]!.id}/lines/${adjustment.id}/events`)
    expect(events.body.data.map((e: { id: string }) => e.id)).toEqual(['late-dec'])
  })

  it('adjusts for a voided event of an invoiced period', async () => {
    await t.json('POST', '/v1/subscriptions', { customerId: 'cus_1', plan: 'pro', startAt: '2026-11-01T00:00:00Z' })
    await track(
      { id: 'keep', customerId: 'cus_1', timestamp: '2026-11-03T00:00:00Z', properties: { gpuSeconds: 10, resolution: '4k' } },
      { id: 'wrong', customerId: 'cus_1', timestamp: '2026-11-04T00:00:00Z', properties: { gpuSeconds: 30, resolution: '4k' } },
    )
    t.clock.set(at('2026-12-01T02:00:00Z'))
    await run('2026-12-01T02:00:00Z')
    expect((await t.json('POST', '/v1/events/wrong/void', { reason: 'duplicate job' })).status).toBe(200)
    t.clock.set(at('2027-01-01T02:00:00Z'))
    await run('2027-01-01T02:00:00Z')
    const list = await invoices('cus_1')
    const adjustment = list[2]!.lines.find((l: { kind: string }) => l.kind === 'adjustment')
    expect(adjustment).toMatchObject({ amount: '-3.00', quantity: '-30' })
    const events = await t.json('GET', `/v1/invoices/${list[2]!.id}/lines/${adjustment.id}/events`)
    expect(events.body.data.map((e: { id: string }) => e.id)).toEqual(['wrong'])
  })
})

describe('proration', () => {
  it('prorates the first period of a calendar plan started mid-month by the second', async () => {
    // 2026-11-10 → 2026-12-01 is 21 of November's 30 days: 49 × 21/30 = 34.30.
    await t.json('POST', '/v1/subscriptions', { customerId: 'cus_1', plan: 'pro', startAt: '2026-11-10T00:00:00Z' })
    await run('2026-11-25T10:00:00Z')
    const [opening] = await invoices('cus_1')
    expect(amounts(opening!)).toEqual(['proration:base:34.30'])
    expect(opening).toMatchObject({ periodStart: '2026-11-10T00:00:00.000Z', periodEnd: '2026-12-01T00:00:00.000Z' })
  })

  it('credits the unused part of the old plan and charges the rest of the period on the new one', async () => {
    await t.json('POST', '/v1/subscriptions', { id: 'sub_c', customerId: 'cus_1', plan: 'pro', startAt: '2026-11-01T00:00:00Z' })
    await run('2026-11-25T10:00:00Z')
    // Nov 20 12:00 → Dec 1 is 10.5 of 30 days: pro 49 × 10.5/30 = 17.15 back, team 99 × 10.5/30 = 34.65.
    const change = await t.json('POST', '/v1/subscriptions/sub_c/change', { plan: 'team', at: '2026-11-20T12:00:00Z' })
    expect(change.status).toBe(200)
    expect(change.body.phases).toEqual([{ plan: 'pro', startAt: '2026-11-01T00:00:00.000Z' }, { plan: 'team', startAt: '2026-11-20T12:00:00.000Z' }])
    t.clock.set(at('2026-12-01T01:00:00Z'))
    await run('2026-12-01T01:00:00Z')
    const [, closing] = await invoices('cus_1')
    expect(amounts(closing!)).toEqual([
      'usage:render:0.00', 'usage:renders:0.00', // pro's usage up to the change
      'proration:base:34.65', 'proration:base:-17.15', 'flat:base:99.00',
    ])
    expect(closing!.total).toBe('116.50')
  })

  it('credits the old plan in full for a change dated at the start of a period already invoiced', async () => {
    await t.json('POST', '/v1/subscriptions', { id: 'sub_s', customerId: 'cus_1', plan: 'pro', startAt: '2026-11-01T00:00:00Z' })
    t.clock.set(at('2026-12-01T02:00:00Z'))
    await run('2026-12-01T02:00:00Z') // December's 49.00 billed in advance under pro
    const change = await t.json('POST', '/v1/subscriptions/sub_s/change', { plan: 'team', at: '2026-12-01T00:00:00Z' })
    expect(change.status).toBe(200)
    t.clock.set(at('2027-01-01T02:00:00Z'))
    await run('2027-01-01T02:00:00Z')
    const [, , closing] = await invoices('cus_1')
    // December was team's from its first instant: pro's 49 back, team's 99, then January's 99.
    expect(amounts(closing!)).toEqual(['flat:base:99.00', 'proration:base:-49.00', 'flat:base:99.00'])
    expect(closing!.total).toBe('149.00')
  })

  it('refuses a cancel dated at the start of a period already invoiced: no later invoice could credit it', async () => {
    await t.json('POST', '/v1/subscriptions', { id: 'sub_e', customerId: 'cus_1', plan: 'pro', startAt: '2026-11-01T00:00:00Z' })
    t.clock.set(at('2026-12-01T02:00:00Z'))
    await run('2026-12-01T02:00:00Z')
    const refused = await t.json('POST', '/v1/subscriptions/sub_e/cancel', { at: '2026-12-01T00:00:00Z' })
    expect(refused.status).toBe(400)
    expect(refused.body.error.message).toBe('at: must be after 2026-12-01T00:00:00.000Z, the start of a period already invoiced')
    expect((await t.json('POST', '/v1/subscriptions/sub_e/cancel', { at: '2026-12-01T00:00:00.001Z' })).status).toBe(200)
    await run('2026-12-01T02:00:00Z')
    const [, , last] = await invoices('cus_1')
    // 1 ms of December used: 49 × (1 − 1/2,678,400,000) back.
    expect(amounts(last!)).toEqual(['usage:render:0.00', 'usage:renders:0.00', 'proration:base:-49.00'])
  })

  it('refuses a change dated in an invoiced period', async () => {
    await t.json('POST', '/v1/subscriptions', { id: 'sub_d', customerId: 'cus_1', plan: 'pro', startAt: '2026-10-01T00:00:00Z' })
    await run('2026-11-25T10:00:00Z')
    const res = await t.json('POST', '/v1/subscriptions/sub_d/change', { plan: 'team', at: '2026-10-20T00:00:00Z' })
    expect(res.status).toBe(400)
    expect(res.body.error.message).toMatch(/^at: must not be before the current period's start \(2026-11-01/)
  })

  it('closes the period at a cancel and credits the unused advance fee', async () => {
    await t.json('POST', '/v1/subscriptions', { id: 'sub_x', customerId: 'cus_1', plan: 'pro', startAt: '2026-11-01T00:00:00Z' })
    await run('2026-11-25T10:00:00Z')
    await track({ customerId: 'cus_1', timestamp: '2026-11-15T00:00:00Z', properties: { gpuSeconds: 5, resolution: '4k' } })
    expect((await t.json('POST', '/v1/subscriptions/sub_x/cancel', { at: '2026-11-16T00:00:00Z' })).body).toMatchObject({ endAt: '2026-11-16T00:00:00.000Z' })
    await run('2026-11-25T10:00:00Z')
    const list = await invoices('cus_1')
    expect(list).toHaveLength(2)
    // Nov 16 → Dec 1 is 15 of 30 days: 49 × 15/30 = 24.50 back; usage 5 × 0.1 = 0.50.
    expect(amounts(list[1]!)).toEqual(['usage:render:0.50', 'usage:renders:0.00', 'proration:base:-24.50'])
    expect(list[1]).toMatchObject({ periodStart: '2026-11-01T00:00:00.000Z', periodEnd: '2026-11-16T00:00:00.000Z', total: '-24.00', amountDue: '0.00', status: 'paid' })
    // Nothing more is ever billed.
    t.clock.set(at('2027-03-01T00:00:00Z'))
    expect((await run('2027-03-01T00:00:00Z')).finalized).toEqual([])
  })

  it('invoices late and corrected events of a canceled subscription on a final adjustment invoice', async () => {
    await t.json('POST', '/v1/subscriptions', { id: 'sub_c', customerId: 'cus_1', plan: 'pro', startAt: '2026-11-01T00:00:00Z' })
    await track({ id: 'early', customerId: 'cus_1', timestamp: '2026-11-10T00:00:00Z', properties: { gpuSeconds: 30, resolution: '4k' } })
    expect((await t.json('POST', '/v1/subscriptions/sub_c/cancel', { at: '2026-11-20T00:00:00Z' })).status).toBe(200)
    t.clock.set(at('2026-11-25T10:00:00Z'))
    await run('2026-11-25T10:00:00Z')
    expect(await invoices('cus_1')).toHaveLength(2)
    // After the last invoice: one event arrives late, another is voided.
    await track({ id: 'late-c', customerId: 'cus_1', timestamp: '2026-11-19T23:00:00Z', properties: { gpuSeconds: 25, resolution: '4k' } })
    expect((await t.json('POST', '/v1/events/early/void', { reason: 'test render' })).status).toBe(200)
    t.clock.set(at('2026-11-26T00:00:00Z'))
    const result = await run('2026-11-26T00:00:00Z')
    expect(result.finalized).toHaveLength(1)
    expect(result.adjustments).toBe(1)
    const list = await invoices('cus_1')
    expect(list).toHaveLength(3)
    // 25 − 30 = −5 GPU seconds at 0.10: a credit of 0.50, so nothing is due.
    expect(list[2]).toMatchObject({ id: result.finalized[0], periodStart: '2026-11-26T00:00:00.000Z', periodEnd: '2026-11-26T00:00:00.000Z', total: '-0.50', status: 'paid' })
    expect(list[2]!.number).toBeGreaterThan(list[1]!.number)
    const adjustment = list[2]!.lines[0]
    expect(list[2]!.lines).toHaveLength(1)
    expect(adjustment).toMatchObject({ kind: 'adjustment', chargeKey: 'render', quantity: '-5', amount: '-0.50', periodStart: '2026-11-01T00:00:00.000Z', periodEnd: '2026-11-20T00:00:00.000Z' })
    const events = await t.json('GET', `/v1/invoices/${list[2]!.id}/lines/${adjustment.id}/events`)
    expect(events.body.data.map((e: { id: string }) => e.id).sort()).toEqual(['early', 'late-c'])
    // A repeated run, and a later one with nothing new, add nothing.
    expect((await run('2026-11-26T00:00:00Z')).finalized).toEqual([])
    t.clock.set(at('2027-01-05T00:00:00Z'))
    expect((await run('2027-01-05T00:00:00Z')).finalized).toEqual([])
    // A second late event gets an invoice of its own, after the first.
    await track({ id: 'late-d', customerId: 'cus_1', timestamp: '2026-11-12T00:00:00Z', properties: { gpuSeconds: 40, resolution: '4k' } })
    const again = await run('2027-01-05T00:00:00Z')
    expect(again.finalized).toHaveLength(1)
    const last = (await invoices('cus_1'))[3]!
    expect(last).toMatchObject({ total: '4.00', status: 'finalized', periodStart: '2027-01-05T00:00:00.000Z' })
    expect(amounts(last)).toEqual(['adjustment:render:4.00'])
  })
})

describe('anniversary periods', () => {
  it('bills a subscription started on Jan 31 on Feb 28, then Mar 31', async () => {
    t.clock.set(at('2027-04-01T00:00:00Z'))
    await t.json('POST', '/v1/subscriptions', { customerId: 'cus_a', plan: 'anniv', startAt: '2027-01-31T00:00:00Z' })
    await run('2027-04-01T00:00:00Z')
    const list = await invoices('cus_a')
    expect(list.map((i) => [i.periodStart.slice(0, 10), i.periodEnd.slice(0, 10), i.total])).toEqual([
      ['2027-01-31', '2027-02-28', '30.00'], // opening: the first period's fee
      ['2027-01-31', '2027-02-28', '30.00'], // closes January's period, bills Feb 28 – Mar 31
      ['2027-02-28', '2027-03-31', '30.00'],
    ])
    expect(list[2]!.lines[0]).toMatchObject({ periodStart: '2027-03-31T00:00:00.000Z', periodEnd: '2027-04-30T00:00:00.000Z' })
  })
})

describe('lines', () => {
  it('bills a dimensional charge per dimension value and an arrears fee; JPY rounds to whole yen', async () => {
    await t.json('POST', '/v1/subscriptions', { customerId: 'cus_s', plan: 'studio', startAt: '2026-11-01T00:00:00Z' })
    await t.json('POST', '/v1/subscriptions', { customerId: 'cus_y', plan: 'yen', startAt: '2026-11-01T00:00:00Z' })
    await track(
      { customerId: 'cus_s', timestamp: '2026-11-03T00:00:00Z', properties: { gpuSeconds: 10, resolution: '4k' } },
      { customerId: 'cus_s', timestamp: '2026-11-03T00:00:00Z', properties: { gpuSeconds: 3, resolution: '720p' } },
      { customerId: 'cus_y', timestamp: '2026-11-03T00:00:00Z', properties: { gpuSeconds: 10, resolution: '4k' } },
    )
    t.clock.set(at('2026-12-02T00:00:00Z'))
    await run('2026-12-02T00:00:00Z')
    const studio = await invoices('cus_s')
    expect(studio).toHaveLength(1) // no advance fee: no opening invoice
    // 4k: 10 × 0.4 = 4.00; 720p under "*": 3 × 0.1 = 0.30; support 10 in arrears.
    expect(studio[0]!.lines.map((l: { dimension?: string; amount: string }) => [l.dimension ?? null, l.amount])).toEqual([['4k', '4.00'], ['720p', '0.30'], [null, '10.00']])
    expect(studio[0]!.total).toBe('14.30')
    const yen = await invoices('cus_y')
    // 10 × 0.15 = 1.5 yen → 2 (half-up, JPY has no minor unit).
    expect(yen[0]).toMatchObject({ currency: 'JPY', total: '2' })
  })
})

describe('invoices', () => {
  async function finalizedInvoice() {
    await t.json('POST', '/v1/subscriptions', { customerId: 'cus_1', plan: 'pro', startAt: '2026-11-01T00:00:00Z' })
    await run('2026-11-25T10:00:00Z')
    return (await invoices('cus_1'))[0]!
  }

  it('records offline payments, partial then full', async () => {
    const inv = await finalizedInvoice()
    const partial = await t.json('POST', `/v1/invoices/${inv.id}/payments`, { amount: '20', method: 'wire', reference: 'WIRE-1' })
    expect(partial.status).toBe(201)
    expect(partial.body).toMatchObject({ status: 'finalized', amountPaid: '20.00', amountDue: '29.00' })
    const over = await t.json('POST', `/v1/invoices/${inv.id}/payments`, { amount: '29.01', method: 'wire' })
    expect(over.status).toBe(400)
    expect(over.body.error.message).toMatch(/^amount: exceeds the amount due \(29\.00\)/)
    const cents = await t.json('POST', `/v1/invoices/${inv.id}/payments`, { amount: '1.001', method: 'wire' })
    expect(cents.body.error.message).toMatch(/^amount: USD has 2 decimal places/)
    const rest = await t.json('POST', `/v1/invoices/${inv.id}/payments`, { amount: '29', method: 'check' })
    expect(rest.body).toMatchObject({ status: 'paid', amountPaid: '49.00', amountDue: '0.00' })
    expect(rest.body.payments.map((p: { method: string }) => p.method)).toEqual(['wire', 'check'])
    expect((await t.json('POST', `/v1/invoices/${inv.id}/payments`, { amount: '1', method: 'wire' })).status).toBe(409)
    expect((await t.json('POST', `/v1/invoices/${inv.id}/payments`, { amount: 1, method: 'wire' })).body.error.message).toMatch(/^amount: must be a decimal string/)
  })

  it('voids with a credit note', async () => {
    const inv = await finalizedInvoice()
    const voided = await t.json('POST', `/v1/invoices/${inv.id}/void`, { reason: 'goodwill' })
    expect(voided.body).toMatchObject({ status: 'void', amountDue: '0.00', creditNote: { amount: '49.00', reason: 'goodwill' } })
    expect(voided.body.creditNote.id).toMatch(/^cn_/)
    expect((await t.json('POST', `/v1/invoices/${inv.id}/void`)).status).toBe(409)
  })

  it('renders as HTML for a person', async () => {
    const inv = await finalizedInvoice()
    for (const res of [await t.request('GET', `/v1/invoices/${inv.id}`, undefined, { accept: 'text/html' }), await t.request('GET', `/v1/invoices/${inv.id}.html`)]) {
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toMatch(/^text\/html/)
      const html = await res.text()
      expect(html).toContain('Invoice 1')
      expect(html).toContain('49.00 USD')
      expect(html).toContain('finalized')
    }
  })

  it('previews the open period as the upcoming invoice', async () => {
    await t.json('POST', '/v1/subscriptions', { customerId: 'cus_1', plan: 'pro', startAt: '2026-11-01T00:00:00Z' })
    await run('2026-11-25T10:00:00Z')
    await track({ customerId: 'cus_1', timestamp: '2026-11-20T00:00:00Z', properties: { gpuSeconds: 12.5, resolution: '4k' } })
    const upcoming = await t.json('GET', '/v1/customers/cus_1/invoices/upcoming')
    expect(upcoming.status).toBe(200)
    expect(upcoming.body).toMatchObject({ status: 'draft', number: null, periodStart: '2026-11-01T00:00:00.000Z', periodEnd: '2026-12-01T00:00:00.000Z', total: '50.25' })
    expect(amounts(upcoming.body)).toEqual(['usage:render:1.25', 'usage:renders:0.00', 'flat:base:49.00'])
    expect((await t.json('GET', '/v1/customers/nobody/invoices/upcoming')).status).toBe(404)
    // A preview is not an invoice.
    expect(await invoices('cus_1')).toHaveLength(1)
  })

  it('previews the open period before any billing run', async () => {
    // studio has no advance fee, so its opening invoice is empty: the preview is the open period's.
    await t.json('POST', '/v1/subscriptions', { customerId: 'cus_s', plan: 'studio', startAt: '2026-10-20T00:00:00Z' })
    await track({ customerId: 'cus_s', timestamp: '2026-11-20T00:00:00Z', properties: { gpuSeconds: 10, resolution: '4k' } })
    const upcoming = await t.json('GET', '/v1/customers/cus_s/invoices/upcoming')
    expect(upcoming.status).toBe(200)
    expect(upcoming.body).toMatchObject({ periodStart: '2026-11-01T00:00:00.000Z', periodEnd: '2026-12-01T00:00:00.000Z', total: '14.00' })
  })

  it('numbers invoices in sequence per tenant', async () => {
    for (const c of ['a', 'b', 'c']) await t.json('POST', '/v1/subscriptions', { customerId: c, plan: 'pro', startAt: '2026-11-01T00:00:00Z' })
    await run('2026-11-25T10:00:00Z')
    const all = await t.json('GET', '/v1/invoices')
    expect(all.body.data.map((i: { number: number }) => i.number).sort()).toEqual([1, 2, 3])
  })
})

describe('simulations', () => {
  it('re-rates past usage under a candidate plan without touching invoices', async () => {
    await t.json('POST', '/v1/subscriptions', { customerId: 'cus_1', plan: 'pro', startAt: '2026-10-01T00:00:00Z' })
    await track({ customerId: 'cus_1', timestamp: '2026-11-03T00:00:00Z', properties: { gpuSeconds: 20, resolution: '4k' } })
    const candidate = {
      key: 'pro_2027', currency: 'USD', interval: 'month', anchor: 'calendar',
      charges: [{ key: 'render', meter: 'render_seconds', model: 'per_unit', unitAmount: '0.25' }],
    }
    const res = await t.json('POST', '/v1/simulations', { plan: candidate, from: '2026-11-01T00:00:00Z', to: '2026-12-01T00:00:00Z' })
    expect(res.status).toBe(200)
    // Actual: 20 × 0.1 = 2.00 (+ 0 for renders); simulated 20 × 0.25 = 5.00.
    expect(res.body.data).toEqual([{ customerId: 'cus_1', currency: 'USD', actual: '2.00', simulated: '5.00', difference: '3.00' }])
    expect(await invoices('cus_1')).toHaveLength(0)
    const byKey = await t.json('POST', '/v1/simulations', { plan: 'studio', from: '2026-11-01T00:00:00Z', to: '2026-12-01T00:00:00Z', customerIds: ['cus_1'] })
    expect(byKey.body.data[0]).toMatchObject({ actual: '2.00', simulated: '8.00' })
    const bad = await t.json('POST', '/v1/simulations', { plan: { ...candidate, charges: [{ key: 'x', meter: 'nope', model: 'per_unit', unitAmount: '1' }] }, from: '2026-11-01T00:00:00Z', to: '2026-12-01T00:00:00Z' })
    expect(bad.status).toBe(400)
    expect(bad.body.error.message).toContain('nope')
  })
})

describe('subscriptions', () => {
  it('makes the current billing period the default range of usage', async () => {
    await t.json('POST', '/v1/subscriptions', { customerId: 'cus_p', plan: 'pro', startAt: '2026-10-15T00:00:00Z' })
    const usage = await t.json('GET', '/v1/customers/cus_p/usage?meter=renders')
    expect(usage.body).toMatchObject({ from: '2026-11-01T00:00:00.000Z', to: '2026-11-25T10:00:00.000Z' })
  })

  it('names the field of a bad request and answers an unknown plan with 400', async () => {
    const unknown = await t.json('POST', '/v1/subscriptions', { customerId: 'cus_1', plan: 'gold' })
    expect(unknown.status).toBe(400)
    expect(unknown.body.error.message).toBe('plan: no plan "gold" in configuration version 1')
    const bad = await t.json('POST', '/v1/subscriptions', { customerId: 'cus_1', plan: 'pro', startAt: 'yesterday' })
    expect(bad.body.error.message).toBe('startAt: must be an RFC 3339 date-time')
    expect((await t.json('GET', '/v1/subscriptions/nope')).status).toBe(404)
    expect((await t.json('POST', '/v1/subscriptions/nope/cancel')).status).toBe(404)
  })

  it('is idempotent by id', async () => {
    const body = { id: 'sub_same', customerId: 'cus_1', plan: 'pro', startAt: '2026-11-01T00:00:00Z' }
    expect((await t.json('POST', '/v1/subscriptions', body)).status).toBe(201)
    expect((await t.json('POST', '/v1/subscriptions', body)).status).toBe(200)
    expect((await t.json('POST', '/v1/subscriptions', { ...body, plan: 'team' })).status).toBe(409)
  })
})

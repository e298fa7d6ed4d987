// Credits end to end over HTTP: a video product's month, every figure worked out by hand.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type TestApp, testApp } from '../testing.js'

const at = (iso: string) => Date.parse(iso)

const CONFIG = {
  meters: [
    { key: 'render_seconds', event: 'render.completed', aggregation: 'sum', property: 'seconds', filter: { status: ['succeeded'] }, groupBy: ['resolution'] },
  ],
  features: [{ key: 'renders', type: 'metered', meter: 'render_seconds', limit: '100', hard: true }],
  plans: [
    {
      key: 'creator', currency: 'USD', interval: 'month', anchor: 'calendar', creditPrice: '0.01',
      charges: [{
        key: 'render', meter: 'render_seconds', unit: 'credits', model: 'dimensional', dimension: 'resolution',
        prices: { '4k': { model: 'per_unit', unitAmount: '4' }, '*': { model: 'per_unit', unitAmount: '1' } },
      }],
      grants: [{ credits: '1000', recurring: 'P1M', rollover: { max: '500' }, priority: 10 }],
    },
    {
      key: 'strict', currency: 'USD', interval: 'month', anchor: 'calendar', creditPrice: '0.01', overage: 'block', features: ['renders'],
      charges: [{ key: 'render', meter: 'render_seconds', unit: 'credits', model: 'per_unit', unitAmount: '1' }],
    },
  ],
}

let t: TestApp
beforeEach(async () => {
  t = await testApp()
  t.clock.set(at('2026-11-01T00:00:00Z'))
  expect((await t.json('PUT', '/v1/config', CONFIG)).status).toBe(200)
})
afterEach(() => t.close())

let n = 0
async function render(customerId: string, timestamp: string, seconds: number, resolution: string, extra: Record<string, unknown> = {}) {
  const id = `render-${++n}`
  const res = await t.json('POST', '/v1/events', { events: [{ id, event: 'render.completed', customerId, timestamp, properties: { seconds, resolution, status: 'succeeded' }, ...extra }] })
  expect(res.body.results[0]).toMatchObject({ status: 'accepted' })
  return id
}

const balance = async (c: string) => (await t.json('GET', `/v1/customers/${c}/balance`)).body
const remaining = (b: { grants: { id: string; remaining: string }[] }) => Object.fromEntries(b.grants.map((g) => [g.id.replace(/^sub_v:creator:0@2026-(\d\d)-01T00:00:00.000Z/, 'monthly-$1'), g.remaining]))

describe('a video product’s credits', () => {
  it('burns trial, monthly and purchased credits in order, holds and settles renders, rolls over capped, and invoices the overage', async () => {
    expect((await t.json('POST', '/v1/subscriptions', { id: 'sub_v', customerId: 'cus_v', plan: 'creator', startAt: '2026-11-01T00:00:00Z' })).status).toBe(201)
    const trial = await t.json('POST', '/v1/customers/cus_v/grants', { id: 'trial', credits: '200', priority: 1, expiresAt: '2026-11-15T00:00:00Z' })
    expect(trial.status).toBe(201)
    // Like every create call, the answer names what it created as `id`.
    expect(trial.body).toMatchObject({ id: 'trial', balance: '1200', grants: expect.arrayContaining([expect.objectContaining({ id: 'trial', remaining: '200' })]) })
    expect(trial.body).not.toHaveProperty('grantId')
    const pack = await t.json('POST', '/v1/customers/cus_v/top-ups', { id: 'pack', credits: '500', amount: '4.00' })
    expect(pack.status).toBe(201)
    expect(pack.body).toMatchObject({ id: 'pack', credits: '500', amount: '4.00', created: true, balance: { balance: '1700' } })
    expect(pack.body).not.toHaveProperty('grantId')
    // The same grant sent twice counts once.
    const again = await t.json('POST', '/v1/customers/cus_v/top-ups', { id: 'pack', credits: '500', amount: '4.00' })
    expect(again.status).toBe(200)
    expect(again.body).toMatchObject({ id: 'pack', created: false })
    expect((await t.json('POST', '/v1/customers/cus_v/grants', { id: 'trial', credits: '200', priority: 1, expiresAt: '2026-11-15T00:00:00Z' })).body).toMatchObject({ id: 'trial' })
    let b = await balance('cus_v')
    expect(b).toMatchObject({ balance: '1700', available: '1700', reserved: '0' })

    // 4K, 30 s at 4 credits/s = 120, from the trial (priority 1); 1080p, 100 s = 100: 80 trial + 20 monthly.
    t.clock.set(at('2026-11-02T12:00:00Z'))
    const r1 = await render('cus_v', '2026-11-02T11:00:00Z', 30, '4k')
    const r2 = await render('cus_v', '2026-11-02T11:30:00Z', 100, '1080p')
    b = await balance('cus_v')
    expect(b.balance).toBe('1480')
    expect(remaining(b)).toEqual({ trial: '0', 'monthly-11': '980', pack: '500' })

    // A 4K render of 60 s reserves 240 credits; it fails, and the hold is released.
    const hold = await t.json('POST', '/v1/reservations', { id: 'job-1', customerId: 'cus_v', credits: '240', ttlMs: 600_000 })
    expect(hold.status).toBe(201)
    expect(hold.body).toMatchObject({ id: 'job-1', granted: true, available: '1240', expiresAt: '2026-11-02T12:10:00.000Z' })
    expect(await balance('cus_v')).toMatchObject({ balance: '1480', available: '1240', reserved: '240' })
    expect((await t.json('POST', '/v1/reservations/job-1/release')).body).toMatchObject({ released: true, available: '1480' })

    // A 4K render of 50 s reserves 200 and settles with its event: 200 deducted, the hold gone.
    expect((await t.json('POST', '/v1/reservations', { id: 'job-2', customerId: 'cus_v', credits: '200' })).body.granted).toBe(true)
    const r3 = await render('cus_v', '2026-11-02T11:45:00Z', 50, '4k', { reservationId: 'job-2' })
    b = await balance('cus_v')
    expect(b).toMatchObject({ balance: '1280', available: '1280', reserved: '0' })
    expect(remaining(b)).toEqual({ trial: '0', 'monthly-11': '780', pack: '500' })

    // Every deduction names its source events; the ledger sums to the balance.
    const ledger = (await t.json('GET', '/v1/customers/cus_v/ledger?limit=1000')).body.data as { type: string; credits: string; eventIds?: string[]; reservationId?: string }[]
    const deductions = ledger.filter((e) => e.type === 'deduction')
    expect(deductions.every((e) => (e.eventIds ?? []).length > 0)).toBe(true)
    expect(new Set(deductions.flatMap((e) => e.eventIds))).toEqual(new Set([r1, r2, r3]))
    expect(ledger.reduce((sum, e) => sum + Number(e.credits), 0)).toBe(1280)
    expect(ledger.filter((e) => e.type === 'hold' || e.type === 'release').map((e) => e.type)).toEqual(['hold', 'release', 'hold', 'release'])

    // December: the trial expired on Nov 15; November's 780 left rolls over capped at 500.
    t.clock.set(at('2026-12-01T00:10:00Z'))
    b = await balance('cus_v')
    expect(b.balance).toBe('2000')
    expect(b.grants.map((g: { id: string }) => g.id)).toContain('sub_v:creator:0@2026-12-01T00:00:00.000Z/rollover')

    // 4K, 600 s = 2400: rollover 500, December's 1000, the pack's 500, then 400 of overage.
    t.clock.set(at('2026-12-10T00:00:00Z'))
    const r4 = await render('cus_v', '2026-12-09T00:00:00Z', 600, '4k')
    b = await balance('cus_v')
    expect(b).toMatchObject({ balance: '-400', available: '-400' })

    // Invoices: November's closes with the pack bought (4.00) and December's with 400 × 0.01 = 4.00.
    t.clock.set(at('2027-01-01T02:00:00Z'))
    await t.json('POST', '/v1/billing/run', { until: '2027-01-01T02:00:00Z' })
    const invoices = ((await t.json('GET', '/v1/invoices?customerId=cus_v')).body.data as { periodStart: string; total: string; creditsApplied: string; lines: { kind: string; amount: string; quantity: string; credits?: string; id: string }[]; id: string }[]).reverse()
    expect(invoices.map((i) => [i.periodStart.slice(0, 10), i.total])).toEqual([['2026-11-01', '4.00'], ['2026-12-01', '4.00']])
    const nov = invoices[0]!
    expect(nov.lines.map((l) => [l.kind, l.amount, l.credits ?? null])).toEqual([
      ['usage', '0.00', '320'], // 4k: 80 s × 4
      ['usage', '0.00', '100'], // 1080p: 100 s × 1
      ['top_up', '4.00', null],
    ])
    expect(nov.creditsApplied).toBe('420')
    const dec = invoices[1]!
    expect(dec.lines.map((l) => [l.kind, l.quantity, l.amount])).toEqual([['usage', '600', '0.00'], ['overage', '400', '4.00']])
    const events = await t.json('GET', `/v1/invoices/${dec.id}/lines/${dec.lines[0]!.id}/events`)
    expect(events.body.data.map((e: { id: string }) => e.id)).toEqual([r4])
    // The overage is settled: January's 1000 are whole.
    expect((await balance('cus_v')).balance).toBe('1000')
    const settled = ((await t.json('GET', '/v1/customers/cus_v/ledger?limit=1000')).body.data as { type: string; credits: string; invoiceId?: string }[]).find((e) => e.type === 'overage_settled')
    expect(settled).toMatchObject({ credits: '400', invoiceId: dec.id })
  })

  it('refunds a voided render to the grant it came from', async () => {
    await t.json('POST', '/v1/subscriptions', { id: 'sub_v', customerId: 'cus_v', plan: 'creator', startAt: '2026-11-01T00:00:00Z' })
    t.clock.set(at('2026-11-02T12:00:00Z'))
    const id = await render('cus_v', '2026-11-02T11:00:00Z', 30, '4k')
    expect((await balance('cus_v')).balance).toBe('880')
    expect((await t.json('POST', `/v1/events/${id}/void`, { reason: 'failed upload' })).status).toBe(200)
    const b = await balance('cus_v')
    expect(b.balance).toBe('1000')
    const refund = ((await t.json('GET', '/v1/customers/cus_v/ledger')).body.data as { type: string; credits: string; eventIds?: string[] }[]).at(-1)
    expect(refund).toMatchObject({ type: 'deduction', credits: '120', eventIds: [id] })
    // Amended to 10 s: charged 40, not 120.
    const id2 = await render('cus_v', '2026-11-02T11:10:00Z', 30, '4k')
    await t.json('POST', `/v1/events/${id2}/amend`, { properties: { seconds: 10, resolution: '4k', status: 'succeeded' }, reason: 'wrong length' })
    expect((await balance('cus_v')).balance).toBe('960')
  })
})

describe('overage at the close of a period', () => {
  // As the contract reads (§5 Credits, §8 Billing and Credits): a peak-GPU meter priced in credits
  // is charged when the period closes; what the grants do not cover is invoiced at creditPrice.
  const overageConfig = {
    meters: [
      { key: 'peak_gpus', event: 'cluster.sample', aggregation: 'max', property: 'gpus' },
      { key: 'render_seconds', event: 'render.completed', aggregation: 'sum', property: 'seconds' },
    ],
    plans: [{
      key: 'gpu', currency: 'USD', interval: 'month', anchor: 'calendar', creditPrice: '0.01', overage: 'invoice',
      charges: [
        { key: 'gpus', meter: 'peak_gpus', unit: 'credits', model: 'per_unit', unitAmount: '5' },
        { key: 'render', meter: 'render_seconds', unit: 'credits', model: 'per_unit', unitAmount: '1' },
      ],
    }],
    billing: { gracePeriod: 'PT1H' },
  }
  const send = async (...events: Record<string, unknown>[]) => {
    const res = await t.json('POST', '/v1/events', { events })
    expect(res.body.accepted).toBe(events.length)
  }
  const invoicesOf = async (c: string) => ((await t.json('GET', `/v1/invoices?customerId=${c}`)).body.data as { id: string; periodStart: string; total: string; lines: { kind: string; quantity: string; amount: string; credits?: string; periodStart: string; periodEnd: string }[] }[]).reverse()

  beforeEach(async () => {
    expect((await t.json('PUT', '/v1/config', overageConfig)).status).toBe(200)
    expect((await t.json('POST', '/v1/customers', { id: 'cus_o' })).status).toBe(201)
    expect((await t.json('POST', '/v1/subscriptions', { id: 'sub_o', customerId: 'cus_o', plan: 'gpu', startAt: '2026-11-01T00:00:00Z' })).status).toBe(201)
    const grant = await t.json('POST', '/v1/customers/cus_o/grants', { credits: '10' })
    expect(grant.status).toBe(201)
    expect(grant.body.id).toMatch(/^grant_/)
  })

  it('invoices the credits a charge priced at the close owes beyond the grants, and settles them', async () => {
    t.clock.set(at('2026-11-20T00:00:00Z'))
    // A peak of 5 GPUs at 5 credits each: 25 credits, owed when November closes.
    await send(
      { id: 'gpu-1', event: 'cluster.sample', customerId: 'cus_o', timestamp: '2026-11-10T00:00:00Z', properties: { gpus: 3 } },
      { id: 'gpu-2', event: 'cluster.sample', customerId: 'cus_o', timestamp: '2026-11-19T00:00:00Z', properties: { gpus: 5 } },
    )
    expect((await balance('cus_o')).balance).toBe('10')
    // Past the grace period: November is final.
    t.clock.set(at('2026-12-01T01:00:00Z'))
    expect((await t.json('POST', '/v1/billing/run', { until: '2026-12-01T01:00:00Z' })).body.finalized).toHaveLength(1)
    const [nov] = await invoicesOf('cus_o')
    expect(nov!.lines.map((l) => [l.kind, l.quantity, l.amount, l.credits ?? null])).toEqual([
      ['usage', '5', '0.00', '25'],
      ['usage', '0', '0.00', '0'],
      ['overage', '15', '0.15', null], // 25 − 10 granted, at 0.01 USD
    ])
    expect(nov!.lines[2]).toMatchObject({ periodStart: '2026-11-01T00:00:00.000Z', periodEnd: '2026-12-01T00:00:00.000Z' })
    expect(nov!.total).toBe('0.15')
    // The invoice paid the overage: the balance is back at zero, and the ledger says so.
    expect((await balance('cus_o')).balance).toBe('0')
    const ledger = (await t.json('GET', '/v1/customers/cus_o/ledger')).body.data as { type: string; credits: string; invoiceId?: string; eventIds?: string[] }[]
    expect(ledger.filter((e) => e.type === 'deduction').map((e) => [e.credits, e.eventIds])).toEqual([['-10', ['gpu-1', 'gpu-2']], ['-15', ['gpu-1', 'gpu-2']]])
    expect(ledger.at(-1)).toMatchObject({ type: 'overage_settled', credits: '15', invoiceId: nov!.id })
    // A second run changes nothing.
    await t.json('POST', '/v1/billing/run', { until: '2026-12-01T01:00:00Z' })
    expect(await invoicesOf('cus_o')).toEqual([nov])
  })

  it('counts a late event of the grace period in the closing period, and leaves the next period’s overage to its own invoice', async () => {
    t.clock.set(at('2026-11-30T12:00:00Z'))
    await send({ id: 'r-nov', event: 'render.completed', customerId: 'cus_o', timestamp: '2026-11-30T11:00:00Z', properties: { seconds: 8 } })
    // Inside the grace period: a late November render (12 s) and a December one (30 s), deducted as they arrive.
    t.clock.set(at('2026-12-01T00:30:00Z'))
    await send(
      { id: 'r-late', event: 'render.completed', customerId: 'cus_o', timestamp: '2026-11-30T23:50:00Z', properties: { seconds: 12 } },
      { id: 'r-dec', event: 'render.completed', customerId: 'cus_o', timestamp: '2026-12-01T00:20:00Z', properties: { seconds: 30 } },
    )
    expect((await balance('cus_o')).balance).toBe('-40')
    t.clock.set(at('2026-12-01T01:00:00Z'))
    await t.json('POST', '/v1/billing/run', { until: '2026-12-01T01:00:00Z' })
    // November: 20 credits against the 10 granted, 10 over; December's 30 are still owed.
    const [nov] = await invoicesOf('cus_o')
    expect(nov!.lines.filter((l) => l.kind === 'overage').map((l) => [l.quantity, l.amount])).toEqual([['10', '0.10']])
    expect((await balance('cus_o')).balance).toBe('-30')
    t.clock.set(at('2027-01-01T01:00:00Z'))
    await t.json('POST', '/v1/billing/run', { until: '2027-01-01T01:00:00Z' })
    const [, dec] = await invoicesOf('cus_o')
    expect(dec!.lines.filter((l) => l.kind === 'overage').map((l) => [l.quantity, l.amount, l.periodStart])).toEqual([['30', '0.30', '2026-12-01T00:00:00.000Z']])
    expect((await balance('cus_o')).balance).toBe('0')
  })
})

describe('quotes', () => {
  it('prices a render before it starts, at the margin of the period’s usage', async () => {
    await t.json('POST', '/v1/subscriptions', { customerId: 'cus_q', plan: 'creator', startAt: '2026-11-01T00:00:00Z' })
    const q = await t.json('POST', '/v1/quotes', { customerId: 'cus_q', event: 'render.completed', properties: { seconds: 90, resolution: '4k', status: 'succeeded' } })
    expect(q.status).toBe(200)
    // 90 s × 4 credits = 360 credits = 3.60 USD at 0.01 a credit.
    expect(q.body).toMatchObject({ credits: '360', amount: '3.60', currency: 'USD', plan: 'creator' })
    expect(q.body.lines).toEqual([expect.objectContaining({ chargeKey: 'render', quantity: '90', credits: '360', amount: '3.60' })])
    const failed = await t.json('POST', '/v1/quotes', { customerId: 'cus_q', event: 'render.completed', properties: { seconds: 90, resolution: '4k', status: 'failed' } })
    expect(failed.body).toMatchObject({ credits: '0', amount: '0.00', lines: [] })
    expect((await t.json('POST', '/v1/quotes', { customerId: 'nobody', event: 'render.completed' })).status).toBe(404)
  })
})

describe('reservations and entitlements', () => {
  it('refuses a hold a blocking plan cannot cover, answers repeated ids alike, and checks a hard limit', async () => {
    await t.json('POST', '/v1/subscriptions', { customerId: 'cus_b', plan: 'strict', startAt: '2026-11-01T00:00:00Z' })
    await t.json('POST', '/v1/customers/cus_b/grants', { id: 'g', credits: '100' })
    const refused = await t.json('POST', '/v1/reservations', { id: 'big', customerId: 'cus_b', credits: '150' })
    expect(refused.body).toMatchObject({ granted: false, available: '100' })
    const again = await t.json('POST', '/v1/reservations', { id: 'big', customerId: 'cus_b', credits: '150' })
    expect(again.status).toBe(200)
    expect(again.body).toEqual(refused.body)
    expect((await t.json('POST', '/v1/reservations', { id: 'big', customerId: 'cus_b', credits: '1' })).status).toBe(409)
    expect((await t.json('POST', '/v1/reservations', { id: 'ok', customerId: 'cus_b', credits: '100' })).body).toMatchObject({ granted: true, available: '0' })
    expect((await t.json('POST', '/v1/reservations/nope/release')).status).toBe(404)

    let ent = await t.json('GET', '/v1/customers/cus_b/entitlements/renders')
    expect(ent.body).toEqual({ allowed: true, limit: '100', used: '0', remaining: '100' })
    t.clock.set(at('2026-11-02T00:00:00Z'))
    await render('cus_b', '2026-11-01T12:00:00Z', 100, '1080p')
    ent = await t.json('GET', '/v1/customers/cus_b/entitlements/renders')
    expect(ent.body).toEqual({ allowed: false, limit: '100', used: '100', remaining: '0' })
    expect((await t.json('GET', '/v1/customers/cus_b/entitlements/nope')).status).toBe(404)
    expect((await t.json('GET', '/v1/customers/nobody/entitlements/renders')).status).toBe(404)
  })

  it('holds for less than a second, and the hold lapses at exactly its ttlMs', async () => {
    await t.json('POST', '/v1/customers/cus_s/grants', { id: 'g', credits: '100' })
    // A render step of 50 ms holds its credits for 50 ms.
    const hold = await t.json('POST', '/v1/reservations', { id: 'step-1', customerId: 'cus_s', credits: '30', ttlMs: 50 })
    expect(hold.status).toBe(201)
    expect(hold.body).toMatchObject({ id: 'step-1', granted: true, available: '70', expiresAt: '2026-11-01T00:00:00.050Z' })
    t.clock.advance(49)
    expect(await balance('cus_s')).toMatchObject({ balance: '100', available: '70', reserved: '30' })
    t.clock.advance(1)
    expect(await balance('cus_s')).toMatchObject({ balance: '100', available: '100', reserved: '0' })
    // Releasing it now frees nothing: it lapsed, and the ledger dates the lapse at its expiry.
    expect((await t.json('POST', '/v1/reservations/step-1/release')).body).toMatchObject({ released: false, available: '100' })
    const ledger = (await t.json('GET', '/v1/customers/cus_s/ledger')).body.data as { type: string; reservationId?: string; at: string; reason?: string }[]
    expect(ledger.filter((e) => e.reservationId === 'step-1').map((e) => [e.type, e.at, e.reason ?? null])).toEqual([
      ['hold', '2026-11-01T00:00:00.000Z', null],
      ['release', '2026-11-01T00:00:00.050Z', 'expired'],
    ])
    // The shortest hold there is: 1 ms.
    expect((await t.json('POST', '/v1/reservations', { id: 'step-2', customerId: 'cus_s', credits: '1', ttlMs: 1 })).body).toMatchObject({ granted: true, expiresAt: '2026-11-01T00:00:00.051Z' })
  })

  it('names ttlMs and its rule when a hold’s length is not one', async () => {
    const bad = async (ttlMs: unknown) => {
      const res = await t.json('POST', '/v1/reservations', { customerId: 'cus_s', credits: '1', ttlMs })
      expect(res.status).toBe(400)
      expect(res.body.error.code).toBe('invalid_body')
      return res.body.error.message as string
    }
    expect(await bad(0)).toBe('ttlMs: must be at least 1 (milliseconds)')
    expect(await bad(-5)).toBe('ttlMs: must be at least 1 (milliseconds)')
    expect(await bad(1.5)).toBe('ttlMs: must be a whole number of milliseconds')
    expect(await bad(7 * 86_400_000 + 1)).toBe('ttlMs: must be at most 604800000 (7 days, in milliseconds)')
    expect(await bad('50')).toMatch(/^ttlMs: /)
    expect((await t.json('POST', '/v1/reservations', { customerId: 'cus_s', credits: '1', ttlMs: 7 * 86_400_000 })).status).toBe(201)
  })

  it('tops up automatically once per crossing of the threshold', async () => {
    await t.json('POST', '/v1/subscriptions', { customerId: 'cus_a', plan: 'strict', startAt: '2026-11-01T00:00:00Z' })
    await t.json('POST', '/v1/customers/cus_a/grants', { id: 'g', credits: '100' })
    expect((await t.json('PUT', '/v1/customers/cus_a/auto-top-up', { threshold: '50', credits: '200', amount: '2' })).status).toBe(200)
    t.clock.set(at('2026-11-02T00:00:00Z'))
    await render('cus_a', '2026-11-01T12:00:00Z', 60, '1080p') // 100 → 40: below 50, +200
    expect((await balance('cus_a')).balance).toBe('240')
    await render('cus_a', '2026-11-01T13:00:00Z', 10, '1080p') // 240 → 230: no crossing
    expect((await balance('cus_a')).balance).toBe('230')
    const topUps = ((await t.json('GET', '/v1/customers/cus_a/ledger')).body.data as { type: string }[]).filter((e) => e.type === 'top_up')
    expect(topUps).toHaveLength(1)
  })

  it('sends balance.low and top_up.created webhooks once per crossing', async () => {
    const plans = CONFIG.plans.map((p) => (p.key === 'strict' ? { ...p, lowBalance: '50' } : p))
    const hooks = [{ url: 'https://hooks.example.com/meterkit', events: ['balance.low', 'top_up.created'], secret: 'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=' }]
    expect((await t.json('PUT', '/v1/config', { ...CONFIG, plans, webhooks: hooks })).status).toBe(200)
    await t.json('POST', '/v1/subscriptions', { customerId: 'cus_w', plan: 'strict', startAt: '2026-11-01T00:00:00Z' })
    await t.json('POST', '/v1/customers/cus_w/top-ups', { id: 'tu1', credits: '100', amount: '1' })
    t.clock.set(at('2026-11-02T00:00:00Z'))
    await render('cus_w', '2026-11-01T12:00:00Z', 60, '1080p') // 100 → 40: below 50
    await render('cus_w', '2026-11-01T12:30:00Z', 10, '1080p') // 40 → 30: still below, no second alert
    expect((await balance('cus_w')).balance).toBe('30')
    const deliveries = await t.store.webhooks.list(t.tenant.id, { limit: 100 })
    const bodies = deliveries.data.map((d) => d.payload as unknown as { type: string; data: Record<string, unknown> })
    expect(bodies.map((b) => b.type).sort()).toEqual(['balance.low', 'top_up.created'])
    expect(bodies.find((b) => b.type === 'balance.low')!.data).toMatchObject({ customerId: 'cus_w', available: '30', threshold: '50' }) // both renders folded in one pass: one crossing
    expect(bodies.find((b) => b.type === 'top_up.created')!.data).toMatchObject({ customerId: 'cus_w', grantId: 'tu1', credits: '100', amount: '1', automatic: false })
  })

  it('sends limit.reached once when a metered feature reaches its limit in the period', async () => {
    const hooks = [{ url: 'https://hooks.example.com/meterkit', events: ['limit.reached'], secret: 'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=' }]
    expect((await t.json('PUT', '/v1/config', { ...CONFIG, webhooks: hooks })).status).toBe(200)
    await t.json('POST', '/v1/subscriptions', { customerId: 'cus_l', plan: 'strict', startAt: '2026-11-01T00:00:00Z' })
    t.clock.set(at('2026-11-02T00:00:00Z'))
    const alerts = async () => (await t.store.webhooks.list(t.tenant.id, { limit: 100 })).data.map((d) => d.payload as unknown as { data: Record<string, unknown> })
    await render('cus_l', '2026-11-01T12:00:00Z', 60, '1080p')
    await balance('cus_l')
    expect(await alerts()).toEqual([])
    await render('cus_l', '2026-11-01T13:00:00Z', 50, '1080p')
    await balance('cus_l')
    await render('cus_l', '2026-11-01T14:00:00Z', 5, '1080p')
    await balance('cus_l')
    const sent = await alerts()
    expect(sent).toHaveLength(1)
    expect(sent[0]!.data).toMatchObject({ customerId: 'cus_l', feature: 'renders', limit: '100', used: '110', hard: true, periodStart: '2026-11-01T00:00:00.000Z' })
  })

  it('voids what is left of a grant', async () => {
    await t.json('POST', '/v1/customers/cus_g/grants', { id: 'g1', credits: '100' })
    await t.json('POST', '/v1/customers/cus_g/grants', { id: 'g2', credits: '50' })
    const voided = await t.json('POST', '/v1/customers/cus_g/grants/g1/void', { reason: 'sent by mistake' })
    expect(voided.status).toBe(200)
    expect(voided.body).toMatchObject({ balance: '50' })
    expect(voided.body.grants.map((g: { id: string }) => g.id)).toEqual(['g2'])
    const last = ((await t.json('GET', '/v1/customers/cus_g/ledger')).body.data as { type: string; credits: string; grantId: string; reason: string }[]).at(-1)
    expect(last).toMatchObject({ type: 'void', credits: '-100', grantId: 'g1', reason: 'sent by mistake' })
    expect((await t.json('POST', '/v1/customers/cus_g/grants/nope/void')).status).toBe(404)
  })

  it('names the field of a bad grant', async () => {
    const res = await t.json('POST', '/v1/customers/cus_x/grants', { credits: 5 })
    expect(res.status).toBe(400)
    expect(res.body.error.message).toMatch(/^credits: must be a decimal string/)
    const both = await t.json('POST', '/v1/customers/cus_x/grants', { credits: '5', expiresAt: '2027-01-01T00:00:00Z', expiresAfter: 'P1D' })
    expect(both.body.error.message).toBe('expiresAt: give expiresAt or expiresAfter, not both')
  })
})

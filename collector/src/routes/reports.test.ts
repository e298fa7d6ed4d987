// Reports and CSV exports over HTTP, on a seeded tenant: two billed months, payments, credits
// granted, burned and expired. The figures are worked out by hand and checked against the API's
// own invoices and ledger; every CSV parses back (csv-parse) to the API's figures.
import { parse } from 'csv-parse/sync'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type TestApp, event, testApp } from '../testing.js'

const at = (iso: string) => Date.parse(iso)

const CONFIG = {
  meters: [
    { key: 'render_seconds', event: 'render.completed', aggregation: 'sum', property: 'gpuSeconds' },
    { key: 'renders', event: 'render.completed', aggregation: 'count' },
  ],
  plans: [
    { key: 'pro', currency: 'USD', interval: 'month', charges: [
      { key: 'base', model: 'flat', amount: '49', timing: 'advance' },
      { key: 'render', meter: 'render_seconds', model: 'per_unit', unitAmount: '0.1' },
    ] },
    { key: 'creator', currency: 'USD', interval: 'month', creditPrice: '0.01', charges: [
      { key: 'render', meter: 'render_seconds', unit: 'credits', model: 'per_unit', unitAmount: '1' },
      { key: 'renders', meter: 'renders', model: 'per_unit', unitAmount: '0.5' },
    ] },
  ],
}

let t: TestApp
beforeEach(async () => {
  t = await testApp({ latenessWindowMs: 400 * 86_400_000 })
  t.clock.set(at('2026-09-01T00:00:00Z'))
  expect((await t.json('PUT', '/v1/config', CONFIG)).status).toBe(200)
})
afterEach(() => t.close())

async function ok(method: string, path: string, body?: unknown) {
  const res = await t.json(method, path, body)
  expect(res.status, JSON.stringify(res.body)).toBeLessThan(300)
  return res.body
}

const render = (customerId: string, timestamp: string, gpuSeconds: number, id?: string) =>
  event({ customerId, timestamp, properties: { gpuSeconds }, ...(id ? { id } : {}) })

/** Sept and Oct billed for cus_a (pro) and cus_b (creator, credits with a 100-credit grant that expires). */
async function seed() {
  await ok('POST', '/v1/customers', { id: 'cus_a', name: 'Acme Films', email: 'billing@acme.test' })
  await ok('POST', '/v1/customers', { id: 'cus_b', name: 'Beta, "the studio"' })
  await ok('POST', '/v1/subscriptions', { id: 'sub_a', customerId: 'cus_a', plan: 'pro', startAt: '2026-09-01T00:00:00Z' })
  await ok('POST', '/v1/subscriptions', { id: 'sub_b', customerId: 'cus_b', plan: 'creator', startAt: '2026-09-01T00:00:00Z' })
  await ok('POST', '/v1/customers/cus_b/grants', { id: 'trial', credits: '100', expiresAt: '2026-10-15T00:00:00Z' })
  t.clock.set(at('2026-09-20T00:00:00Z'))
  // Sept: cus_a 30 s (3.00); cus_b 40 s = 40 credits from the trial, 2 renders = 1.00.
  await ok('POST', '/v1/events', { events: [render('cus_a', '2026-09-10T00:00:00Z', 30), render('cus_b', '2026-09-11T00:00:00Z', 25), render('cus_b', '2026-09-12T00:00:00Z', 15)] })
  t.clock.set(at('2026-10-02T00:00:00Z'))
  await ok('POST', '/v1/billing/run', { until: '2026-10-02T00:00:00Z' })
  t.clock.set(at('2026-10-20T00:00:00Z'))
  // The trial's 60 left expired on Oct 15. Oct: cus_a 12.5 s (1.25); cus_b 80 s: 80 credits of overage (0.80), 1 render 0.50.
  await ok('POST', '/v1/events', { events: [render('cus_a', '2026-10-05T00:00:00Z', 12.5), render('cus_b', '2026-10-16T00:00:00Z', 80)] })
  t.clock.set(at('2026-11-02T00:00:00Z'))
  await ok('POST', '/v1/billing/run', { until: '2026-11-02T00:00:00Z' })
  const invoices = (await ok('GET', '/v1/invoices?limit=100')).data as Invoice[]
  const octA = invoices.find((i) => i.customerId === 'cus_a' && i.periodEnd === '2026-10-01T00:00:00.000Z')!
  await ok('POST', `/v1/invoices/${octA.id}/payments`, { amount: octA.total, method: 'wire' })
  const novA = invoices.find((i) => i.customerId === 'cus_a' && i.periodEnd === '2026-11-01T00:00:00.000Z')!
  await ok('POST', `/v1/invoices/${novA.id}/payments`, { amount: '10.00', method: 'check', reference: 'chk 7, "late"' })
  return (await ok('GET', '/v1/invoices?limit=100')).data as Invoice[]
}

interface Invoice { id: string; number: number; customerId: string; status: string; periodStart: string; periodEnd: string; currency: string; total: string; amountPaid: string; amountDue: string; lines: { id: string; chargeKey: string; kind: string; amount: string; quantity: string; credits?: string; description: string; eventCount: number }[] }

const Q = 'from=2026-09-01T00:00:00Z&to=2026-12-01T00:00:00Z'

describe('reports', () => {
  it('revenue by month: invoiced, paid and due of final invoices, in the month they are issued', async () => {
    const invoices = await seed()
    const body = await ok('GET', `/v1/reports/revenue?${Q}`)
    // Sept 1: cus_a's opening invoice (49.00 in advance); cus_b has nothing to bill in advance, so no invoice.
    // Oct 1: cus_a 3.00 + 49.00 = 52.00, paid; cus_b 1.00 (credits covered the renders' seconds).
    // Nov 1: cus_a 1.25 + 49.00 = 50.25, 10.00 paid; cus_b 0.80 overage + 0.50 = 1.30.
    expect(body.data.map((m: { month: string; totals: unknown[] }) => [m.month, m.totals])).toEqual([
      ['2026-09', [{ currency: 'USD', invoiced: '49', paid: '0', due: '49', invoices: 1 }]],
      ['2026-10', [{ currency: 'USD', invoiced: '53', paid: '52', due: '1', invoices: 2 }]],
      ['2026-11', [{ currency: 'USD', invoiced: '51.55', paid: '10', due: '41.55', invoices: 2 }]],
    ])
    // The same totals as the invoices themselves.
    const sum = (k: 'total' | 'amountPaid') => invoices.filter((i) => i.status !== 'draft' && i.status !== 'void').reduce((s, i) => s + Number(i[k]) * 100, 0) / 100
    expect(sum('total')).toBe(49 + 53 + 51.55)
    expect(sum('amountPaid')).toBe(62)
  })

  it('a void invoice leaves the revenue, with its credit note', async () => {
    const invoices = await seed()
    const novB = invoices.find((i) => i.customerId === 'cus_b' && i.periodEnd === '2026-11-01T00:00:00.000Z')!
    await ok('POST', `/v1/invoices/${novB.id}/void`, { reason: 'goodwill' })
    const body = await ok('GET', `/v1/reports/revenue?${Q}`)
    expect(body.data[2].totals).toEqual([{ currency: 'USD', invoiced: '50.25', paid: '10', due: '40.25', invoices: 1 }])
  })

  it('usage revenue by meter, plan, customer and month, from the invoice lines', async () => {
    await seed()
    const byMeter = await ok('GET', `/v1/reports/usage-revenue?${Q}&groupBy=meter`)
    expect(byMeter.groupBy).toEqual(['meter'])
    expect(byMeter.data).toEqual([
      // Credit overage: 80 credits at 0.01 (the credits themselves count on the meter's lines).
      { meter: null, currency: 'USD', amount: '0.8', credits: '0', lines: 1 },
      { meter: 'render_seconds', currency: 'USD', amount: '4.25', credits: '120', lines: 4 },
      { meter: 'renders', currency: 'USD', amount: '1.5', credits: '0', lines: 2 },
    ])
    const byPlan = await ok('GET', `/v1/reports/usage-revenue?${Q}&groupBy=plan`)
    expect(byPlan.data).toEqual([
      { plan: 'creator', currency: 'USD', amount: '2.3', credits: '120', lines: 5 },
      { plan: 'pro', currency: 'USD', amount: '4.25', credits: '0', lines: 2 },
    ])
    const fine = await ok('GET', `/v1/reports/usage-revenue?${Q}&groupBy=month,customer,meter`)
    expect(fine.data.filter((r: { customerId: string }) => r.customerId === 'cus_a')).toEqual([
      { month: '2026-10', meter: 'render_seconds', customerId: 'cus_a', currency: 'USD', amount: '3', credits: '0', lines: 1 },
      { month: '2026-11', meter: 'render_seconds', customerId: 'cus_a', currency: 'USD', amount: '1.25', credits: '0', lines: 1 },
    ])
  })

  it('credits granted, burned and expired by month, as the ledger has them', async () => {
    await seed()
    const body = await ok('GET', `/v1/reports/credits?${Q}`)
    expect(body.data.map((m: Record<string, string>) => [m.month, m.granted, m.burned, m.expired, m.voided])).toEqual([
      ['2026-09', '100', '40', '0', '0'],
      ['2026-10', '0', '80', '60', '0'],
      ['2026-11', '0', '0', '0', '0'],
    ])
  })

  it('active customers by month and the ingest rate by event time', async () => {
    await seed()
    await ok('POST', '/v1/subscriptions', { id: 'sub_c', customerId: 'cus_c', plan: 'pro', startAt: '2026-11-10T00:00:00Z' })
    const active = await ok('GET', `/v1/reports/active-customers?${Q}`)
    expect(active.data.map((m: { month: string; customers: number }) => [m.month, m.customers])).toEqual([['2026-09', 2], ['2026-10', 2], ['2026-11', 3]])
    const ingest = await ok('GET', '/v1/reports/ingest?from=2026-09-10T00:00:00Z&to=2026-09-13T00:00:00Z&bucket=hour')
    expect(ingest.data).toHaveLength(72)
    expect(ingest.data.filter((p: { events: number }) => p.events > 0).map((p: { start: string; events: number }) => [p.start, p.events])).toEqual([
      ['2026-09-10T00:00:00.000Z', 1], ['2026-09-11T00:00:00.000Z', 1], ['2026-09-12T00:00:00.000Z', 1],
    ])
  })

  it('names the field of a bad query', async () => {
    expect((await t.json('GET', '/v1/reports/revenue?from=yesterday')).body.error.message).toBe('from: must be an RFC 3339 date-time')
    expect((await t.json('GET', '/v1/reports/revenue?from=2026-10-01T00:00:00Z&to=2026-09-01T00:00:00Z')).body.error.message).toBe('from: must be before to')
    expect((await t.json('GET', '/v1/reports/revenue?from=2000-01-01T00:00:00Z&to=2026-09-01T00:00:00Z')).body.error.message).toBe('to: a report covers at most 120 months')
    expect((await t.json('GET', '/v1/reports/usage-revenue?groupBy=meter,color')).body.error.message).toBe('groupBy: must list some of month, plan, meter, customer, separated by commas')
    expect((await t.json('GET', '/v1/reports/ingest?bucket=minute&from=2026-08-01T00:00:00Z&to=2026-09-01T00:00:00Z')).body.error.message)
      .toBe('to: an ingest series holds at most 1440 buckets of a minute')
  })

  it('lists and searches customers by id, name or email, paged', async () => {
    await seed()
    for (let i = 0; i < 5; i++) await ok('POST', '/v1/customers', { id: `cus_z${i}` })
    const first = await ok('GET', '/v1/customers?limit=3')
    expect(first.data.map((c: { id: string }) => c.id)).toEqual(['cus_a', 'cus_b', 'cus_z0'])
    const second = await ok('GET', `/v1/customers?limit=3&cursor=${first.nextCursor}`)
    expect(second.data.map((c: { id: string }) => c.id)).toEqual(['cus_z1', 'cus_z2', 'cus_z3'])
    expect((await ok('GET', '/v1/customers?search=ACME.TEST')).data.map((c: { id: string }) => c.id)).toEqual(['cus_a'])
    expect((await ok('GET', '/v1/customers?search=studio')).data.map((c: { id: string }) => c.id)).toEqual(['cus_b'])
    expect((await t.json('GET', '/v1/customers?cursor=nope')).status).toBe(400)
  })
})

describe('configuration versions', () => {
  it('lists every version applied, newest first, paged', async () => {
    await ok('PUT', '/v1/config', { ...CONFIG, meters: [...CONFIG.meters, { key: 'clips', event: 'clip.generated', aggregation: 'count' }] })
    const first = await ok('GET', '/v1/config/versions?limit=1')
    expect(first.data.map((v: { version: number }) => v.version)).toEqual([2])
    expect(first.data[0].config.meters.map((m: { key: string }) => m.key)).toEqual(['render_seconds', 'renders', 'clips'])
    const second = await ok('GET', `/v1/config/versions?limit=1&cursor=${first.nextCursor}`)
    expect(second.data.map((v: { version: number; appliedAt: string }) => [v.version, v.appliedAt])).toEqual([[1, '2026-09-01T00:00:00.000Z']])
    expect(second.nextCursor).toBeNull()
  })
})

async function csv(path: string): Promise<{ res: Response; records: Record<string, string>[]; text: string }> {
  const res = await t.request('GET', path)
  expect(res.status).toBe(200)
  const text = await res.text()
  return { res, text, records: parse(text, { columns: true, record_delimiter: '\r\n' }) as Record<string, string>[] }
}

describe('CSV exports', () => {
  it('invoices and their lines parse back to the API’s figures', async () => {
    const invoices = await seed()
    const { res, records, text } = await csv('/v1/exports/invoices.csv')
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8; header=present')
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="invoices.csv"')
    expect(text.split('\r\n')[0]).toBe('id,number,customerId,subscriptionId,status,periodStart,periodEnd,currency,subtotal,creditsApplied,total,amountPaid,amountDue,createdAt,finalizedAt')
    expect(records.map((r) => [r.id, r.status, r.total, r.amountPaid, r.amountDue])).toEqual(invoices.map((i) => [i.id, i.status, i.total, i.amountPaid, i.amountDue]))

    const lines = (await csv('/v1/exports/invoice-lines.csv?customerId=cus_b')).records
    const apiLines = invoices.filter((i) => i.customerId === 'cus_b').flatMap((i) => i.lines.map((l) => [i.id, l.id, l.kind, l.quantity, l.amount, l.credits ?? '', l.description]))
    expect(lines.map((r) => [r.invoiceId, r.lineId, r.kind, r.quantity, r.amount, r.credits, r.description])).toEqual(apiLines)

    const ranged = (await csv('/v1/exports/invoices.csv?from=2026-10-01T00:00:00Z&to=2026-10-02T00:00:00Z')).records
    // September's two closing invoices, and cus_a's opening one (September's fee in advance).
    expect(ranged.map((r) => r.periodEnd)).toEqual(['2026-10-01T00:00:00.000Z', '2026-10-01T00:00:00.000Z', '2026-10-01T00:00:00.000Z'])
  })

  it('ledger entries of every customer, quoted where a field needs it', async () => {
    await seed()
    await ok('POST', '/v1/customers/cus_a/grants', { id: 'promo', credits: '5', source: 'promo' })
    const { records } = await csv('/v1/exports/ledger.csv')
    for (const customerId of ['cus_a', 'cus_b']) {
      const api = (await ok('GET', `/v1/customers/${customerId}/ledger?limit=1000`)).data as { id: string; type: string; credits: string; balanceAfter: string; eventIds?: string[] }[]
      expect(records.filter((r) => r.customerId === customerId).map((r) => [r.id, r.type, r.credits, r.balanceAfter, r.eventIds]))
        .toEqual(api.map((e) => [e.id, e.type, e.credits, e.balanceAfter, e.eventIds?.join(' ') ?? '']))
    }
    expect((await t.request('GET', '/v1/exports/ledger.csv?customerId=nobody')).status).toBe(404)
  })

  it('usage by customer and meter over a range, whole or by month, from the rollups', async () => {
    await seed()
    const whole = (await csv('/v1/exports/usage.csv?from=2026-09-01T00:00:00Z&to=2026-11-01T00:00:00Z')).records
    expect(whole.map((r) => [r.customerId, r.meter, r.value])).toEqual([
      ['cus_a', 'render_seconds', '42.5'], ['cus_a', 'renders', '2'], ['cus_b', 'render_seconds', '120'], ['cus_b', 'renders', '3'],
    ])
    const api = (await ok('GET', '/v1/customers/cus_b/usage?meter=render_seconds&from=2026-09-01T00:00:00Z&to=2026-11-01T00:00:00Z&window=month'))
    const monthly = (await csv('/v1/exports/usage.csv?from=2026-09-01T00:00:00Z&to=2026-11-01T00:00:00Z&window=month&customerId=cus_b&meter=render_seconds')).records
    expect(monthly.map((r) => [r.start, r.end, r.value])).toEqual(api.buckets.map((b: { start: string; end: string; value: string }) => [b.start, b.end, b.value]))
    expect((await t.json('GET', '/v1/exports/usage.csv?meter=nope')).body.error.message).toBe('meter: no meter nope in the configuration')
  })

  it('streams an export of any size page by page', async () => {
    t.clock.set(at('2026-09-20T00:00:00Z'))
    for (let b = 0; b < 3; b++) {
      await ok('POST', '/v1/events', { events: Array.from({ length: 1000 }, (_, i) => render(`cus_${String(b * 1000 + i).padStart(5, '0')}`, '2026-09-19T00:00:00Z', 1)) })
    }
    const res = await t.request('GET', '/v1/exports/usage.csv?meter=renders&from=2026-09-01T00:00:00Z&to=2026-10-01T00:00:00Z')
    const reader = res.body!.getReader()
    let chunks = 0
    let text = ''
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      chunks++
      text += new TextDecoder().decode(r.value)
    }
    // The header, then a chunk per customer as its figures are read: never the whole file at once.
    expect(chunks).toBe(3001)
    const records = parse(text, { columns: true }) as Record<string, string>[]
    expect(records).toHaveLength(3000)
    expect(records.every((r) => r.value === '1')).toBe(true)
  })
})

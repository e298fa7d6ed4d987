// Reports on every store: one scenario (two customers, two billed months, a payment, credits
// granted, burned and expired, a second configuration) answers the same reports, figure for
// figure, on SQLite and on PostgreSQL, and the SQLite answers are the ones worked out by hand.
import type { TenantConfig } from '@meterkit/protocol'
import { describe, expect, it } from 'vitest'
import { ReportingService } from '../../reporting/index.js'
import { STORES, validEvent } from './harness.js'
import type { StoreUnderTest } from './stores.js'

const SEP = Date.UTC(2026, 8, 1)
const OCT = Date.UTC(2026, 9, 1)
const NOV = Date.UTC(2026, 10, 1)
const DEC = Date.UTC(2026, 11, 1)
const DAY = 86_400_000

const config = {
  meters: [{ key: 'render_seconds', event: 'render.completed', aggregation: 'sum', property: 'gpuSeconds' }],
  features: [],
  plans: [
    { key: 'pro', currency: 'USD', interval: 'month', charges: [
      { key: 'base', model: 'flat', amount: '49', timing: 'advance' },
      { key: 'render', meter: 'render_seconds', model: 'per_unit', unitAmount: '0.1' },
    ] },
    { key: 'creator', currency: 'USD', interval: 'month', creditPrice: '0.01', charges: [
      { key: 'render', meter: 'render_seconds', unit: 'credits', model: 'per_unit', unitAmount: '1' },
    ] },
  ],
} as unknown as TenantConfig

async function play(s: StoreUnderTest): Promise<unknown[]> {
  const { engine } = s
  const reports = new ReportingService(s.storage)
  const tenant = await s.createTenant('reports')
  await engine.applyConfig(tenant, config, null, SEP)
  await engine.putCustomer(tenant, { id: 'cus_a', name: 'Acme Films', email: 'billing@acme.test' }, SEP)
  await engine.billing.subscribe(tenant, { id: 'sub_a', customerId: 'cus_a', plan: 'pro', startMs: SEP }, SEP)
  await engine.billing.subscribe(tenant, { id: 'sub_b', customerId: 'cus_b', plan: 'creator', startMs: SEP }, SEP)
  await engine.credits.grant(tenant, 'cus_b', { id: 'trial', credits: '100', expiresAtMs: OCT + 14 * DAY } as never, SEP)
  const render = (id: string, customerId: string, at: number, gpuSeconds: number) => validEvent({ id, customerId, timestampMs: at, properties: { gpuSeconds } })
  await s.append({ tenantId: tenant, source: 'server', receivedAtMs: SEP + 10 * DAY, events: [render('a1', 'cus_a', SEP + 9 * DAY, 30), render('b1', 'cus_b', SEP + 10 * DAY, 40)] })
  await engine.foldAll()
  await engine.credits.catchUp()
  await engine.billing.run(tenant, OCT + DAY, OCT + DAY)
  await s.append({ tenantId: tenant, source: 'server', receivedAtMs: OCT + 20 * DAY, events: [render('a2', 'cus_a', OCT + 4 * DAY, 12.5), render('b2', 'cus_b', OCT + 19 * DAY, 80)] })
  await engine.foldAll()
  await engine.credits.catchUp()
  await engine.billing.run(tenant, NOV + DAY, NOV + DAY)
  const paid = (await engine.billing.listInvoices(tenant, { customerId: 'cus_a', limit: 10 })).data.find((i) => i.periodEndMs === OCT && i.lines.some((l) => l.kind === 'usage'))!
  await engine.billing.pay(tenant, paid.id, { amount: paid.total, method: 'wire' }, NOV + DAY)
  await engine.applyConfig(tenant, { ...config, meters: [...config.meters, { key: 'renders', event: 'render.completed', aggregation: 'count' }] } as TenantConfig, null, NOV + 2 * DAY)
  const range = { fromMs: SEP, toMs: DEC }
  return [
    await reports.revenue(tenant, range),
    await reports.usageRevenue(tenant, range, ['month', 'plan', 'meter', 'customer']),
    await reports.credits(tenant, range),
    await reports.activeCustomers(tenant, range),
    await reports.ingest(tenant, { fromMs: SEP + 9 * DAY, toMs: SEP + 11 * DAY }, 'hour'),
    await reports.customers(tenant, { limit: 1 }),
    await reports.customers(tenant, { search: 'ACME', limit: 10 }),
    (await reports.configVersions(tenant, { limit: 10 })).data.map((v) => [v.version, v.appliedAtMs, v.config.meters.length]),
  ]
}

describe('reports on every store', () => {
  for (const { name, factory, skip } of STORES) {
    it.skipIf(skip)(`add up as worked out by hand on ${name}`, async () => {
      const store = await factory.open()
      try {
        const [revenue, usage, credits, active, ingest, firstCustomer, acme, versions] = await play(store) as [
          { month: string; totals: unknown[] }[], unknown[], { month: string; granted: string; burned: string; expired: string }[],
          { customers: number }[], { events: number }[], { data: { id: string }[]; nextCursor: string | null }, { data: { id: string }[] }, unknown[]]
        expect(revenue.map((m) => [m.month, m.totals])).toEqual([
          ['2026-09', [{ currency: 'USD', invoiced: '49', paid: '0', due: '49', invoices: 1 }]],
          ['2026-10', [{ currency: 'USD', invoiced: '52', paid: '52', due: '0', invoices: 2 }]],
          ['2026-11', [{ currency: 'USD', invoiced: '51.05', paid: '0', due: '51.05', invoices: 2 }]],
        ])
        expect(usage).toEqual([
          { month: '2026-10', plan: 'creator', meter: 'render_seconds', customerId: 'cus_b', currency: 'USD', amount: '0', credits: '40', lines: 1 },
          { month: '2026-10', plan: 'pro', meter: 'render_seconds', customerId: 'cus_a', currency: 'USD', amount: '3', credits: '0', lines: 1 },
          { month: '2026-11', plan: 'creator', meter: null, customerId: 'cus_b', currency: 'USD', amount: '0.8', credits: '0', lines: 1 },
          { month: '2026-11', plan: 'creator', meter: 'render_seconds', customerId: 'cus_b', currency: 'USD', amount: '0', credits: '80', lines: 1 },
          { month: '2026-11', plan: 'pro', meter: 'render_seconds', customerId: 'cus_a', currency: 'USD', amount: '1.25', credits: '0', lines: 1 },
        ])
        expect(credits.map((m) => [m.month, m.granted, m.burned, m.expired])).toEqual([['2026-09', '100', '40', '0'], ['2026-10', '0', '80', '60'], ['2026-11', '0', '0', '0']])
        expect(active.map((m) => m.customers)).toEqual([2, 2, 2])
        expect(ingest).toHaveLength(48)
        expect(ingest.reduce((n, p) => n + p.events, 0)).toBe(2)
        expect(firstCustomer.data.map((c) => c.id)).toEqual(['cus_a'])
        expect(firstCustomer.nextCursor).not.toBeNull()
        expect(acme.data.map((c) => c.id)).toEqual(['cus_a'])
        expect(versions).toEqual([[2, NOV + 2 * DAY, 2], [1, SEP, 1]])
      } finally {
        await store.close()
      }
    })
  }

  const runnable = STORES.filter((s) => !s.skip)
  it.skipIf(runnable.length < 2)('answer the same on SQLite and PostgreSQL', async () => {
    const answers: string[] = []
    for (const { factory } of runnable) {
      const store = await factory.open()
      try {
        answers.push(JSON.stringify(await play(store)))
      } finally {
        await store.close()
      }
    }
    expect(answers[1]).toBe(answers[0])
  })
})

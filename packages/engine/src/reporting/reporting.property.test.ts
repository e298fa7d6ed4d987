// Property tests of the reports' arithmetic: months tile any range exactly, and the monthly
// revenue, usage revenue and credit flows add up, exactly, to the invoices and entries they read.
import Big from 'big.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { creditsByMonth } from './credit-flows.js'
import { monthsIn, periodIndex } from './months.js'
import { REVENUE_STATUSES, revenueByMonth } from './revenue.js'
import type { ReportInvoiceRecord, ReportLineRecord, ReportLedgerRecord } from './storage.js'
import { usageRevenue } from './usage-revenue.js'

const FROM = Date.parse('2025-01-01T00:00:00Z')
const TO = Date.parse('2027-01-01T00:00:00Z')
const instant = fc.integer({ min: FROM, max: TO - 1 })
const cents = fc.bigInt({ min: 0n, max: 10_000_000n }).map((n) => new Big(n.toString()).div(100).toString())
const status = fc.constantFrom('draft', 'finalized', 'paid', 'void' as const)

const invoice = fc.record({
  id: fc.uuid(), customerId: fc.constantFrom('a', 'b'), subscriptionId: fc.constant('s'), status, boundaryMs: instant,
  currency: fc.constantFrom('USD', 'EUR'), total: cents, amountPaid: cents,
}) as fc.Arbitrary<ReportInvoiceRecord>

describe('monthsIn', () => {
  it('tiles [from, to) with contiguous months, each found by periodIndex', () => {
    fc.assert(fc.property(instant, instant, instant, (a, b, probe) => {
      const [from, to] = a < b ? [a, b] : [b, a + 1]
      const months = monthsIn(from, to)
      expect(months[0]!.startMs).toBe(from)
      expect(months[months.length - 1]!.endMs).toBe(to)
      for (let i = 1; i < months.length; i++) expect(months[i]!.startMs).toBe(months[i - 1]!.endMs)
      const i = periodIndex(months, probe)
      if (probe >= from && probe < to) expect(months[i]!.startMs <= probe && probe < months[i]!.endMs).toBe(true)
      else expect(i).toBe(-1)
    }))
  })

  it('names UTC calendar months, the first and last clipped', () => {
    expect(monthsIn(Date.parse('2026-01-15T00:00:00Z'), Date.parse('2026-03-02T00:00:00Z')).map((m) => [m.month, new Date(m.startMs).toISOString(), new Date(m.endMs).toISOString()])).toEqual([
      ['2026-01', '2026-01-15T00:00:00.000Z', '2026-02-01T00:00:00.000Z'],
      ['2026-02', '2026-02-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z'],
      ['2026-03', '2026-03-01T00:00:00.000Z', '2026-03-02T00:00:00.000Z'],
    ])
  })
})

describe('revenueByMonth', () => {
  it('adds up exactly to the final invoices of the range, per currency; due = invoiced − paid', () => {
    fc.assert(fc.property(fc.array(invoice, { maxLength: 60 }), (invoices) => {
      const months = revenueByMonth(monthsIn(FROM, TO), invoices)
      expect(months).toHaveLength(24)
      for (const currency of ['USD', 'EUR']) {
        const counted = invoices.filter((i) => i.currency === currency && REVENUE_STATUSES.has(i.status))
        const totals = months.map((m) => m.totals.find((t) => t.currency === currency)).filter((t) => t !== undefined)
        const sum = (k: 'invoiced' | 'paid' | 'due') => totals.reduce((s, t) => s.plus(t[k]), new Big(0)).toString()
        expect(sum('invoiced')).toBe(counted.reduce((s, i) => s.plus(i.total), new Big(0)).toString())
        expect(sum('paid')).toBe(counted.reduce((s, i) => s.plus(i.amountPaid), new Big(0)).toString())
        for (const t of totals) expect(new Big(t.invoiced).minus(t.paid).toString()).toBe(t.due)
        expect(totals.reduce((n, t) => n + t.invoices, 0)).toBe(counted.length)
      }
    }))
  })
})

describe('usageRevenue', () => {
  const line = fc.record({
    invoiceId: fc.constant('i'), customerId: fc.constantFrom('a', 'b'), subscriptionId: fc.constant('s'), status, boundaryMs: instant,
    currency: fc.constant('USD'), chargeKey: fc.constantFrom('render', 'base', 'overage'), kind: fc.constantFrom('usage', 'flat', 'adjustment', 'overage', 'top_up' as const),
    amount: cents, credits: fc.option(cents, { nil: null }), periodStartMs: instant,
  }) as fc.Arbitrary<ReportLineRecord>

  it('any grouping adds up to the same total: the usage, adjustment and overage lines of final invoices', () => {
    const resolve = (l: ReportLineRecord) => ({ plan: 'pro', meter: l.chargeKey === 'render' ? 'render_seconds' : null })
    fc.assert(fc.property(fc.array(line, { maxLength: 60 }), fc.subarray(['month', 'plan', 'meter', 'customer'] as const), (lines, groupBy) => {
      const rows = usageRevenue(monthsIn(FROM, TO), lines, resolve, groupBy)
      const expected = lines.filter((l) => REVENUE_STATUSES.has(l.status) && (l.kind === 'overage' || ((l.kind === 'usage' || l.kind === 'adjustment') && l.chargeKey === 'render')))
      expect(rows.reduce((s, r) => s.plus(r.amount), new Big(0)).toString()).toBe(expected.reduce((s, l) => s.plus(l.amount), new Big(0)).toString())
      expect(rows.reduce((n, r) => n + r.lines, 0)).toBe(expected.length)
      expect(new Set(rows.map((r) => JSON.stringify([r.month, r.plan, r.meter, r.customerId]))).size).toBe(rows.length)
    }))
  })
})

describe('creditsByMonth', () => {
  it('granted, burned, expired and voided add up to the entries of their types, signs turned positive', () => {
    const entry = fc.record({
      customerId: fc.constant('a'), type: fc.constantFrom('grant', 'top_up', 'deduction', 'expiry', 'void', 'hold', 'release', 'overage_settled'),
      credits: cents, atMs: instant,
    }).map((e) => ({ ...e, credits: ['deduction', 'expiry', 'void'].includes(e.type) ? new Big(e.credits).neg().toString() : e.credits })) as fc.Arbitrary<ReportLedgerRecord>
    fc.assert(fc.property(fc.array(entry, { maxLength: 80 }), (entries) => {
      const months = creditsByMonth(monthsIn(FROM, TO), entries)
      const total = (k: 'granted' | 'burned' | 'expired' | 'voided') => months.reduce((s, m) => s.plus(m[k]), new Big(0)).toString()
      const of = (...types: string[]) => entries.filter((e) => types.includes(e.type)).reduce((s, e) => s.plus(e.credits), new Big(0))
      expect(total('granted')).toBe(of('grant', 'top_up').toString())
      expect(total('burned')).toBe(of('deduction').neg().toString())
      expect(total('expired')).toBe(of('expiry').neg().toString())
      expect(total('voided')).toBe(of('void').neg().toString())
    }))
  })
})

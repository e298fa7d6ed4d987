// Revenue by month, as pure functions of invoice headers. An invoice is revenue of the month it
// is issued in (its boundary, where its period closes); drafts are not revenue yet (their grace
// period is open) and a void invoice is cancelled by its credit note, so neither counts.
// invoiced = Σ total, paid = Σ amountPaid, due = invoiced − paid, per currency, exact.
import { ZERO, type Decimal, decimal, formatDecimal } from '../decimal.js'
import type { InvoiceStatus } from '../billing/model.js'
import { type ReportPeriod, periodIndex } from './months.js'
import type { ReportInvoiceRecord } from './storage.js'

/** The statuses whose invoices count as revenue. */
export const REVENUE_STATUSES: ReadonlySet<InvoiceStatus> = new Set(['finalized', 'paid'])

export interface CurrencyRevenue {
  currency: string
  invoiced: string
  paid: string
  due: string
  invoices: number
}

export interface MonthRevenue extends ReportPeriod {
  /** One entry per currency invoiced in the range, by currency code (zeros where the month has none). */
  totals: CurrencyRevenue[]
}

export function revenueByMonth(periods: readonly ReportPeriod[], invoices: readonly ReportInvoiceRecord[]): MonthRevenue[] {
  const currencies = [...new Set(invoices.filter((i) => REVENUE_STATUSES.has(i.status)).map((i) => i.currency))].sort()
  const sums = periods.map(() => new Map(currencies.map((c) => [c, { invoiced: ZERO as Decimal, paid: ZERO as Decimal, invoices: 0 }])))
  for (const inv of invoices) {
    if (!REVENUE_STATUSES.has(inv.status)) continue
    const i = periodIndex(periods, inv.boundaryMs)
    if (i < 0) continue
    const s = sums[i]!.get(inv.currency)!
    s.invoiced = s.invoiced.plus(decimal(inv.total))
    s.paid = s.paid.plus(decimal(inv.amountPaid))
    s.invoices++
  }
  return periods.map((p, i) => ({
    ...p,
    totals: currencies.map((currency) => {
      const s = sums[i]!.get(currency)!
      return { currency, invoiced: formatDecimal(s.invoiced), paid: formatDecimal(s.paid), due: formatDecimal(s.invoiced.minus(s.paid)), invoices: s.invoices }
    }),
  }))
}

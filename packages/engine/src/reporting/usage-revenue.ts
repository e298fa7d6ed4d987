// Usage revenue, as a pure function of invoice lines: what usage charges (and their later
// adjustments) and credit overage earned, grouped by any of month, plan, meter and customer. A
// line counts in the month its invoice is issued, like the invoice's revenue (revenue.ts); the
// plan and meter are those of the charge in effect for the line's period.
import { ZERO, type Decimal, decimal, formatDecimal } from '../decimal.js'
import { type ReportPeriod, periodIndex } from './months.js'
import { REVENUE_STATUSES } from './revenue.js'
import type { ReportLineRecord } from './storage.js'

export const USAGE_REVENUE_DIMENSIONS = ['month', 'plan', 'meter', 'customer'] as const
export type UsageRevenueDimension = (typeof USAGE_REVENUE_DIMENSIONS)[number]

/** The plan and meter behind a line; `meter` null for credit overage (credits of any meter). */
export type ChargeResolver = (line: ReportLineRecord) => { plan: string; meter: string | null }

export interface UsageRevenueRow {
  month?: string
  plan?: string
  /** null: credit overage, billed in money for credits beyond the grants. */
  meter?: string | null
  customerId?: string
  currency: string
  /** Money, exact (the sum of rounded lines). */
  amount: string
  /** Credits the usage cost, for charges priced in credits. */
  credits: string
  lines: number
}

const USAGE_KINDS = new Set(['usage', 'adjustment', 'overage'])

export function usageRevenue(
  periods: readonly ReportPeriod[],
  lines: readonly ReportLineRecord[],
  resolve: ChargeResolver,
  groupBy: readonly UsageRevenueDimension[],
): UsageRevenueRow[] {
  const by = new Set(groupBy)
  const groups = new Map<string, { row: Omit<UsageRevenueRow, 'amount' | 'credits' | 'lines'>; amount: Decimal; credits: Decimal; lines: number }>()
  for (const line of lines) {
    if (!REVENUE_STATUSES.has(line.status) || !USAGE_KINDS.has(line.kind)) continue
    // Flat fees, prorations and top-ups are not usage; an adjustment of a flat fee has no meter.
    const i = periodIndex(periods, line.boundaryMs)
    if (i < 0) continue
    const { plan, meter } = line.kind === 'overage' ? { plan: resolve(line).plan, meter: null } : resolve(line)
    if (meter === null && line.kind !== 'overage') continue
    const row: Omit<UsageRevenueRow, 'amount' | 'credits' | 'lines'> = {
      ...(by.has('month') ? { month: periods[i]!.month } : {}),
      ...(by.has('plan') ? { plan } : {}),
      ...(by.has('meter') ? { meter } : {}),
      ...(by.has('customer') ? { customerId: line.customerId } : {}),
      currency: line.currency,
    }
    const key = JSON.stringify([row.month, row.plan, row.meter, row.customerId, row.currency])
    const g = groups.get(key) ?? { row, amount: ZERO, credits: ZERO, lines: 0 }
    g.amount = g.amount.plus(decimal(line.amount))
    g.credits = g.credits.plus(decimal(line.credits ?? '0'))
    g.lines++
    groups.set(key, g)
  }
  const sortKey = (r: UsageRevenueRow) => [r.month ?? '', r.plan ?? '', r.meter ?? '', r.customerId ?? '', r.currency]
  return [...groups.values()]
    .map((g) => ({ ...g.row, amount: formatDecimal(g.amount), credits: formatDecimal(g.credits), lines: g.lines }))
    .sort((a, b) => compareKeys(sortKey(a), sortKey(b)))
}

function compareKeys(a: string[], b: string[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1
  return 0
}

// Credits granted, burned, expired and voided by month, as pure functions of ledger entries.
// Granted: grants and top-ups. Burned: deductions net of their refunds (a voided or amended
// event's credits come back as a positive deduction). Expired and voided: what grants lost at
// expiry or when taken away. Holds and releases move nothing.
import { ZERO, type Decimal, decimal, formatDecimal } from '../decimal.js'
import { type ReportPeriod, periodIndex } from './months.js'
import type { ReportLedgerRecord } from './storage.js'

export interface MonthCredits extends ReportPeriod {
  granted: string
  burned: string
  expired: string
  voided: string
}

type Flow = 'granted' | 'burned' | 'expired' | 'voided'

/** Which flow an entry type feeds, and with which sign (flows are reported positive). */
const FLOWS: Record<string, [Flow, 1 | -1] | undefined> = {
  grant: ['granted', 1],
  top_up: ['granted', 1],
  deduction: ['burned', -1],
  expiry: ['expired', -1],
  void: ['voided', -1],
}

export function creditsByMonth(periods: readonly ReportPeriod[], entries: readonly ReportLedgerRecord[]): MonthCredits[] {
  const sums = periods.map((): Record<Flow, Decimal> => ({ granted: ZERO, burned: ZERO, expired: ZERO, voided: ZERO }))
  for (const e of entries) {
    const flow = FLOWS[e.type]
    if (flow === undefined) continue
    const i = periodIndex(periods, e.atMs)
    if (i < 0) continue
    const s = sums[i]!
    s[flow[0]] = flow[1] === 1 ? s[flow[0]].plus(decimal(e.credits)) : s[flow[0]].minus(decimal(e.credits))
  }
  return periods.map((p, i) => {
    const s = sums[i]!
    return { ...p, granted: formatDecimal(s.granted), burned: formatDecimal(s.burned), expired: formatDecimal(s.expired), voided: formatDecimal(s.voided) }
  })
}

// Credits at a billing period's close and after corrections: what a credit-priced charge's
// stretch should have cost, from its events, against what was charged in real time; the
// difference is deducted or refunded, naming the events. Charges on meters that are not additive
// (max, min, latest, avg) are charged here in full; minimums and falling volume prices too.
import type Big from 'big.js'
import { ZERO } from '../../../decimal.js'
import { type UsageCharge, rateCharge } from '../../../rating/index.js'
import type { UsageSource } from '../../../billing/lines.js'
import { type Segment, segments } from '../../../billing/timeline.js'
import type { SqliteCredits } from '../credits/sqlite-credits.js'
import { creditCharges } from '../credits/plan-context.js'
import type { LoadedSubscription } from './subscriptions.js'

const total = (charge: UsageCharge, usage: Parameters<typeof rateCharge>[1]): Big => rateCharge(charge, usage).reduce((a, l) => a.plus(l.amount), ZERO)

export interface CreditCloseDeps {
  credits: SqliteCredits
  usage: UsageSource
  eventIds: (seqs: readonly number[]) => string[]
}

/**
 * Reconciles every credit-priced charge of the segments of [fromMs, toMs) that `only` accepts.
 * `closing`: the period is over, so a minimum is due in full; otherwise (a correction inside an
 * open period) only what events added: price(total) − price(nothing), as real time charges it.
 */
export function reconcileCredits(
  deps: CreditCloseDeps, tenantId: number, s: LoadedSubscription, fromMs: number, toMs: number,
  opts: { closing: boolean; reason: string; atMs: number; eventIds?: string[]; only?: (seg: Segment, charge: UsageCharge) => boolean },
): void {
  for (const seg of segments(s.timeline, fromMs, toMs)) {
    for (const charge of creditCharges(seg.phase.plan)) {
      if (opts.only && !opts.only(seg, charge)) continue
      const usage = deps.usage(seg, charge)
      const expected = opts.closing ? total(charge, usage) : total(charge, usage).minus(total(charge, { quantity: ZERO, byDimension: new Map() }))
      deps.credits.costs.recount(tenantId, s.row.customer_id, s.row.id, charge.key, seg.fromMs, charge.model === 'dimensional' ? usage.byDimension ?? new Map() : new Map([['', usage.quantity]]))
      const ids = opts.eventIds ?? (expected.eq(deps.credits.costs.charged(tenantId, s.row.customer_id, s.row.id, charge.key, seg.fromMs)) ? [] : deps.eventIds(usage.seqs))
      deps.credits.adjustCharged(tenantId, s.row.customer_id, s, charge.key, seg.fromMs, expected, ids, opts.reason, opts.atMs)
    }
  }
}

// Credits at a billing period's close and after corrections: what a credit-priced charge's
// stretch should have cost, from its events, against what was charged in real time; the
// difference is deducted or refunded, naming the events. Charges on meters that are not additive
// (max, min, latest, avg) are charged here in full; minimums and falling volume prices too.
import type Big from 'big.js'
import { ZERO } from '../decimal.js'
import { creditCharges } from '../credits/plan-context.js'
import { type UsageCharge, rateCharge } from '../rating/index.js'
import type { Tx } from '../store/storage.js'
import type { CreditsService } from '../credits/credits-service.js'
import type { LoadedSubscription } from './subscriptions.js'
import { type Segment, segments } from './timeline.js'
import type { BillingUsage } from './usage-source.js'

const total = (charge: UsageCharge, usage: Parameters<typeof rateCharge>[1]): Big => rateCharge(charge, usage).reduce((a, l) => a.plus(l.amount), ZERO)

/** The segments of [fromMs, toMs) whose credit-priced charges a reconciliation reads. */
export function creditSegments(s: LoadedSubscription, fromMs: number, toMs: number): Segment[] {
  return segments(s.timeline, fromMs, toMs).filter((seg) => creditCharges(seg.phase.plan).length > 0)
}

/**
 * Reconciles every credit-priced charge of the segments of [fromMs, toMs) that `only` accepts.
 * `closing`: the period is over, so a minimum is due in full; otherwise (a correction inside an
 * open period) only what events added: price(total) − price(nothing), as real time charges it.
 */
export async function reconcileCredits(
  tx: Tx, credits: CreditsService, usage: BillingUsage, tenantId: number, s: LoadedSubscription, fromMs: number, toMs: number,
  opts: { closing: boolean; reason: string; atMs: number; eventIds?: string[]; only?: (seg: Segment, charge: UsageCharge) => boolean },
): Promise<void> {
  const customerId = s.record.customerId
  const segs = creditSegments(s, fromMs, toMs)
  await usage.load(segs)
  for (const seg of segs) {
    for (const charge of creditCharges(seg.phase.plan)) {
      if (opts.only && !opts.only(seg, charge)) continue
      const used = usage.source(seg, charge)
      const expected = opts.closing ? total(charge, used) : total(charge, used).minus(total(charge, { quantity: ZERO, byDimension: new Map() }))
      await credits.recount(tx, tenantId, customerId, s.record.id, charge.key, seg.fromMs, charge.model === 'dimensional' ? used.byDimension ?? new Map() : new Map([['', used.quantity]]))
      const charged = await credits.charged(tx, tenantId, customerId, s.record.id, charge.key, seg.fromMs)
      const ids = opts.eventIds ?? (expected.eq(charged) ? [] : (await tx.events.bySeqs(used.seqs)).map((e) => e.id))
      await credits.adjustCharged(tx, tenantId, customerId, s, charge.key, seg.fromMs, expected, ids, opts.reason, opts.atMs)
    }
  }
}

// Settling overage at period close: the invoice pays the credits owed beyond the grants, and an
// `overage_settled` entry brings what is owed back to zero.
import { type Decimal, ZERO } from '../decimal.js'
import { draftAt } from './expiry.js'
import type { CreditsInput, CustomerCredits, Outcome } from './ledger.js'
import { assertTime, fail, parseCredits } from './ledger.js'
import type { OverageEntryRecord } from './storage.js'

/**
 * The credits an invoice closing the period that ends at `periodEndMs` settles: the overage of
 * that period and earlier ones, net of refunds and of what earlier invoices settled, at most
 * what is owed. An entry's overage belongs to the period of the events it names, whenever it
 * was written: a deduction made at the period's close (charges priced then, minimums) or for a
 * late event taken in during the grace period is the period's; the next period's events,
 * deducted before this close, wait for the next invoice. Each deduction names events of one
 * priced stretch, so the first event tells the period. An entry whose events are no longer
 * stored counts by its own time.
 */
export function overageDue(entries: Iterable<OverageEntryRecord>, owed: Decimal, periodEndMs: number): Decimal {
  let due = ZERO
  for (const r of entries) {
    if (r.type === 'overage_settled') due = due.minus(r.credits)
    else if ((r.eventMs ?? r.atMs) < periodEndMs) due = due.minus(r.credits)
  }
  if (due.gt(owed)) due = owed
  return due.lt(0) ? ZERO : due
}

export interface SettleOverageInput {
  invoiceId: string
  /** Default: everything owed. Less when overage after the period's end belongs to the next invoice. */
  credits?: CreditsInput
}

export type SettleOverageCode = 'invalid_id' | 'invalid_credits' | 'exceeds_owed'

/**
 * Writes `overage_settled` (+credits, naming the invoice) and lowers `owed` by as much. With
 * nothing owed it writes nothing. An invoice settles once: its id again returns the first amount.
 */
export function settleOverage(state: CustomerCredits, input: SettleOverageInput, atMs: number): Outcome<{ settled: Decimal; duplicate: boolean }, SettleOverageCode> {
  assertTime(atMs)
  if (input.invoiceId === '') return fail('invalid_id', 'settling overage needs an invoice id')
  const before = state.settlements.get(input.invoiceId)
  if (before !== undefined) return { ok: true, state, entries: [], grants: [], reservations: [], settled: before, duplicate: true }
  const asked = input.credits === undefined ? undefined : parseCredits(input.credits)
  if (input.credits !== undefined && asked === undefined) return fail('invalid_credits', 'credits must be a non-negative decimal')
  const d = draftAt(state, atMs)
  const settled = asked ?? d.owed
  if (settled.gt(d.owed)) return fail('exceeds_owed', `only ${d.owed.toString()} credits are owed`)
  if (settled.gt(0)) {
    d.owed = d.owed.minus(settled)
    d.post({ type: 'overage_settled', credits: settled, atMs: d.t, invoiceId: input.invoiceId })
  }
  d.putSettlement(input.invoiceId, settled)
  return { ok: true, ...d.finish(), settled, duplicate: false }
}

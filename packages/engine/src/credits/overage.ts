// Settling overage at period close: the invoice pays the credits owed beyond the grants, and an
// `overage_settled` entry brings what is owed back to zero.
import type { Decimal } from '../decimal.js'
import { draftAt } from './expiry.js'
import type { CreditsInput, CustomerCredits, Outcome } from './ledger.js'
import { assertTime, fail, parseCredits } from './ledger.js'

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

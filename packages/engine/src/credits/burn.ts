// Burn-down: which grant pays first, and the deduction that takes credits from grants in that
// order, the rest becoming overage (CONTRACT §5 Credits; invariant I8).
import type { Decimal } from '../decimal.js'
import type { Draft } from './draft.js'
import { draftAt } from './expiry.js'
import type { CreditsInput, CustomerCredits, Grant, Outcome } from './ledger.js'
import { assertTime, fail, parseCredits } from './ledger.js'

/** Priority ascending, then earliest expiry (never-expiring last), then oldest (seq). */
export function compareBurnOrder(a: Grant, b: Grant): number {
  if (a.priority !== b.priority) return a.priority - b.priority
  if (a.expiresAtMs !== b.expiresAtMs) {
    if (a.expiresAtMs === null) return 1
    if (b.expiresAtMs === null) return -1
    return a.expiresAtMs - b.expiresAtMs
  }
  return a.seq - b.seq
}

/** The grants a deduction may take from now, first to burn first: active, with credits left. */
export function burnOrder(grants: Iterable<Grant>): Grant[] {
  const live: Grant[] = []
  for (const g of grants) if (g.status === 'active' && g.remaining.gt(0)) live.push(g)
  return live.sort(compareBurnOrder)
}

/**
 * Takes `credits` at d.t: one deduction entry per grant touched, then one without a grant for
 * what none covered (overage). Every entry names the events. Returns the overage part.
 */
export function burn(d: Draft, credits: Decimal, eventIds: readonly string[], reservationId?: string): Decimal {
  let left = credits
  const extra = reservationId === undefined ? {} : { reservationId }
  for (const g of burnOrder(d.liveGrants().values())) {
    if (left.eq(0)) break
    const take = left.lt(g.remaining) ? left : g.remaining
    d.putGrant({ ...g, remaining: g.remaining.minus(take) })
    d.post({ type: 'deduction', credits: take.neg(), atMs: d.t, grantId: g.id, eventIds, ...extra })
    left = left.minus(take)
  }
  if (left.gt(0)) {
    d.owed = d.owed.plus(left)
    d.post({ type: 'deduction', credits: left.neg(), atMs: d.t, eventIds, ...extra, reason: 'overage' })
  }
  return left
}

export interface DeductInput {
  credits: CreditsInput
  /** The events this charge comes from: at least one. */
  eventIds: readonly string[]
}

export type DeductCode = 'invalid_credits' | 'missing_event_ids'

/** Deducts an event's (or a batch's) cost in burn order. A cost of 0 writes nothing. */
export function deduct(state: CustomerCredits, input: DeductInput, atMs: number): Outcome<{ overage: Decimal }, DeductCode> {
  assertTime(atMs)
  const credits = parseCredits(input.credits)
  if (credits === undefined) return fail('invalid_credits', 'credits must be a non-negative decimal')
  if (input.eventIds.length === 0) return fail('missing_event_ids', 'a deduction names at least one source event')
  const d = draftAt(state, atMs)
  const overage = credits.gt(0) ? burn(d, credits, input.eventIds) : credits
  return { ok: true, ...d.finish(), overage }
}

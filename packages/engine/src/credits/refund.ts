// Refunds for voided or amended events: the credits their deductions took go back where they
// came from, as new entries (a deduction with + credits), never by editing the old ones (I5).
import type { Decimal } from '../decimal.js'
import { ZERO } from '../decimal.js'
import type { Draft } from './draft.js'
import { draftAt } from './expiry.js'
import { createGrant } from './grants.js'
import type { CreditsInput, CustomerCredits, LedgerEntry, Outcome } from './ledger.js'
import { DEFAULT_PRIORITY, assertTime, fail, parseCredits } from './ledger.js'

export interface RefundInput {
  /** The voided or amended events; the refund entries name them too. */
  eventIds: readonly string[]
  credits: CreditsInput
  /** The customer's earlier entries that name any of these events (others are ignored). */
  sources: readonly LedgerEntry[]
  reason?: string
}

export type RefundCode = 'invalid_credits' | 'missing_event_ids' | 'refund_exceeds_deducted'

/**
 * The rule. The deductions that named these events are reversed newest first (the reverse of the
 * burn order), after skipping what earlier refunds of these events already reversed:
 *  1. credits taken from a grant that is still active go back to it (a `deduction` entry with
 *     + credits and the grant's id), up to what the grant has room for (remaining ≤ credits);
 *  2. the rest (taken from a grant since expired or voided, or owed as overage) reduces the overage
 *     still owed (a `deduction` entry with + credits and no grant);
 *  3. what is still left comes back as a new never-expiring grant of kind `adjustment` (an
 *     `adjustment` entry), since nothing owed is left to cancel: the overage was already invoiced
 *     or the source grant is gone.
 * A refund larger than what these events' deductions took, net of earlier refunds, is refused.
 * Exact when each deduction or refund names one event or a whole deduction's events; for a part
 * of a many-event deduction the grants are still bounded by their credits, but which grant of
 * that deduction gets the credits back is approximate.
 */
export function refund(state: CustomerCredits, input: RefundInput, atMs: number): Outcome<{ refunded: Decimal }, RefundCode> {
  assertTime(atMs)
  const credits = parseCredits(input.credits)
  if (credits === undefined) return fail('invalid_credits', 'credits must be a non-negative decimal')
  if (input.eventIds.length === 0) return fail('missing_event_ids', 'a refund names at least one source event')
  const names = new Set(input.eventIds)
  const related = input.sources
    .filter((e) => e.eventIds?.some((id) => names.has(id)))
    .sort((a, b) => entrySeq(a) - entrySeq(b))
  const burns = related.filter((e) => e.type === 'deduction' && e.credits.lt(0))
  let alreadyRefunded = ZERO
  for (const e of related) if ((e.type === 'deduction' || e.type === 'adjustment') && e.credits.gt(0)) alreadyRefunded = alreadyRefunded.plus(e.credits)
  const taken = burns.reduce((sum, e) => sum.minus(e.credits), ZERO)
  if (credits.gt(taken.minus(alreadyRefunded))) {
    return fail('refund_exceeds_deducted', `these events' deductions left ${taken.minus(alreadyRefunded).toString()} credits to refund`)
  }
  const d = draftAt(state, atMs)
  if (credits.gt(0)) place(d, reverse(burns, alreadyRefunded, credits), input)
  return { ok: true, ...d.finish(), refunded: credits }
}

/** How much of each burn this refund reverses, newest burn first, after `skip` already reversed. */
function reverse(burns: readonly LedgerEntry[], skip: Decimal, credits: Decimal): { grantId?: string; credits: Decimal }[] {
  const parts: { grantId?: string; credits: Decimal }[] = []
  let need = credits
  for (let i = burns.length - 1; i >= 0 && need.gt(0); i--) {
    const burn = burns[i]!
    let amount = burn.credits.neg()
    if (skip.gte(amount)) {
      skip = skip.minus(amount)
      continue
    }
    amount = amount.minus(skip)
    skip = ZERO
    const part = amount.lt(need) ? amount : need
    need = need.minus(part)
    parts.push({ ...(burn.grantId === undefined ? {} : { grantId: burn.grantId }), credits: part })
  }
  return parts
}

function place(d: Draft, parts: { grantId?: string; credits: Decimal }[], input: RefundInput): void {
  const reason = input.reason ?? 'refund'
  let unplaced = ZERO
  for (const part of parts) {
    const g = part.grantId === undefined ? undefined : d.liveGrants().get(part.grantId)
    const room = g?.status === 'active' ? g.credits.minus(g.remaining) : ZERO
    const back = part.credits.lt(room) ? part.credits : room
    if (g !== undefined && back.gt(0)) {
      d.putGrant({ ...g, remaining: g.remaining.plus(back) })
      d.post({ type: 'deduction', credits: back, atMs: d.t, grantId: g.id, eventIds: input.eventIds, reason })
    }
    unplaced = unplaced.plus(part.credits.minus(back))
  }
  const cut = unplaced.lt(d.owed) ? unplaced : d.owed
  if (cut.gt(0)) {
    d.owed = d.owed.minus(cut)
    d.post({ type: 'deduction', credits: cut, atMs: d.t, eventIds: input.eventIds, reason: `${reason}: overage reduced` })
  }
  const rest = unplaced.minus(cut)
  if (rest.gt(0)) {
    createGrant(d, {
      id: freeGrantId(d, 'refund'), kind: 'adjustment', credits: rest, priority: DEFAULT_PRIORITY,
      effectiveAtMs: d.t, expiresAtMs: null, source: reason,
    }, { eventIds: input.eventIds })
  }
}

/** A grant id no grant of this customer has: `refund_<n>`, n the grant's creation number. */
function freeGrantId(d: Draft, prefix: string): string {
  let id = `${prefix}_${d.peekGrantSeq()}`
  while (d.grant(id) !== undefined) id += '_'
  return id
}

function entrySeq(e: LedgerEntry): number {
  return Number(e.id.slice(e.id.indexOf('_') + 1))
}

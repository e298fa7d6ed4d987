// Time moves the ledger: grants become effective, grants expire and holds lapse exactly at their
// instants, applied in time order before any operation (invariants I6, I7).
import type { Decimal } from '../decimal.js'
import { ZERO } from '../decimal.js'
import { Draft } from './draft.js'
import type { Change, CustomerCredits, EntryType, Grant, GrantKind, Reservation } from './ledger.js'
import { assertTime } from './ledger.js'

/** The entry type that counts a grant in. */
const ENTRY_OF_KIND: Record<GrantKind, EntryType> = {
  grant: 'grant', rollover: 'grant', top_up: 'top_up', adjustment: 'adjustment',
}

/** Applies everything due at or before atMs; the result's clockMs is max(atMs, state.clockMs). */
export function advance(state: CustomerCredits, atMs: number): Change {
  return draftAt(state, atMs).finish()
}

/** A working copy at atMs (or the ledger's clock, if later) with every due transition applied. */
export function draftAt(state: CustomerCredits, atMs: number): Draft {
  assertTime(atMs)
  const d = new Draft(state, atMs)
  applyDue(d)
  return d
}

type Due =
  | { atMs: number; rank: 0 | 1; seq: number; grantId: string }
  | { atMs: number; rank: 2; seq: number; reservation: Reservation }

/**
 * Every transition due at or before d.t, in time order. At one instant a grant becomes effective
 * before anything expires, grants expire before holds lapse, and ties follow creation order.
 */
export function applyDue(d: Draft): void {
  const due: Due[] = []
  for (const g of d.liveGrants().values()) {
    if (g.status === 'pending' && g.effectiveAtMs <= d.t) due.push({ atMs: g.effectiveAtMs, rank: 0, seq: g.seq, grantId: g.id })
    if (g.expiresAtMs !== null && g.expiresAtMs <= d.t) due.push({ atMs: g.expiresAtMs, rank: 1, seq: g.seq, grantId: g.id })
  }
  for (const r of d.heldReservations().values()) {
    if (r.expiresAtMs <= d.t) due.push({ atMs: r.expiresAtMs, rank: 2, seq: r.createdAtMs, reservation: r })
  }
  if (due.length === 0) return
  due.sort((a, b) => a.atMs - b.atMs || a.rank - b.rank || a.seq - b.seq)
  for (const item of due) {
    if (item.rank === 2) {
      lapseHold(d, item.reservation)
    } else {
      const g = d.liveGrants().get(item.grantId)!
      if (item.rank === 0) activateGrant(d, g, item.atMs)
      else expireGrant(d, g, item.atMs)
    }
  }
}

/**
 * Counts a grant in with a grant (top_up, adjustment) entry: at effectiveAtMs when it becomes
 * effective later, at its creation when that moment has already passed.
 */
export function activateGrant(d: Draft, g: Grant, atMs: number, eventIds?: readonly string[]): void {
  d.putGrant({ ...g, status: 'active' })
  d.post({
    type: ENTRY_OF_KIND[g.kind], credits: g.remaining, atMs, grantId: g.id,
    ...(eventIds === undefined ? {} : { eventIds }), ...(g.source === undefined ? {} : { reason: g.source }),
  })
}

/** Takes a grant's leftover away at expiresAtMs; no entry when nothing is left. */
export function expireGrant(d: Draft, g: Grant, atMs: number): void {
  d.putGrant({ ...g, status: 'expired' })
  if (g.remaining.gt(0)) d.post({ type: 'expiry', credits: g.remaining.neg(), atMs, grantId: g.id })
}

function lapseHold(d: Draft, r: Reservation): void {
  closeHold(d, r, 'expired', r.expiresAtMs, 'expired')
}

/** Frees a held reservation: a release entry moving its credits out of `reserved`. */
export function closeHold(d: Draft, r: Reservation, status: 'released' | 'settled' | 'expired', atMs: number, reason?: string): void {
  const held: Decimal = r.credits
  d.reserved = d.reserved.minus(held)
  d.putReservation({ ...r, status, closedAtMs: atMs })
  d.post({ type: 'release', credits: ZERO, atMs, reservationId: r.id, held: held.neg(), ...(reason === undefined ? {} : { reason }) })
}

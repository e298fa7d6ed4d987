// Reservations: holding credits for a job, releasing them, and settling them with the job's
// cost. Holds move credits between available and reserved; the balance is unchanged (I4).
import type { Decimal } from '../decimal.js'
import { ZERO } from '../decimal.js'
import { burn } from './burn.js'
import { closeHold, draftAt } from './expiry.js'
import type { CreditsInput, CustomerCredits, Outcome, Reservation } from './ledger.js'
import { DEFAULT_HOLD_TTL_MS, assertTime, fail, findReservation, parseCredits } from './ledger.js'

export interface HoldInput {
  reservationId: string
  credits: CreditsInput
  /** Default DEFAULT_HOLD_TTL_MS; the hold lapses (a release entry) ttlMs after it is made, exactly. */
  ttlMs?: number
  /** true: refuse a hold that available credits cannot cover (plans with overage "block"). */
  block: boolean
}

export type HoldCode = 'invalid_id' | 'invalid_credits' | 'invalid_ttl'

export type HoldOutcome = Outcome<{
  reservation: Reservation
  granted: boolean
  /** Available credits after the hold (unchanged when refused). */
  available: Decimal
  expiresAtMs: number
  duplicate: boolean
}, HoldCode>

/**
 * Holds credits. With `block` the hold is granted only when available ≥ credits; without it, it is
 * always granted, even into negative available (usage is invoiced as overage later). A refused
 * hold writes no entry but is remembered: the same reservation id always gets its first answer.
 */
export function hold(state: CustomerCredits, input: HoldInput, atMs: number): HoldOutcome {
  assertTime(atMs)
  if (input.reservationId === '') return fail('invalid_id', 'a reservation needs an id')
  const known = findReservation(state, input.reservationId)
  if (known !== undefined) {
    return { ok: true, state, entries: [], grants: [], reservations: [], ...answer(known), duplicate: true }
  }
  const credits = parseCredits(input.credits)
  if (credits === undefined) return fail('invalid_credits', 'credits must be a non-negative decimal')
  const ttlMs = input.ttlMs ?? DEFAULT_HOLD_TTL_MS
  if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0) return fail('invalid_ttl', 'ttlMs must be a positive integer')
  const d = draftAt(state, atMs)
  const before = d.balance.minus(d.reserved)
  const granted = !input.block || before.gte(credits)
  const reservation: Reservation = {
    id: input.reservationId, credits, createdAtMs: d.t, expiresAtMs: d.t + ttlMs, granted,
    available: granted ? before.minus(credits) : before, status: granted ? 'held' : 'refused',
  }
  if (granted) {
    d.reserved = d.reserved.plus(credits)
    d.post({ type: 'hold', credits: ZERO, atMs: d.t, reservationId: reservation.id, held: credits })
  }
  d.putReservation(reservation)
  return { ok: true, ...d.finish(), ...answer(reservation), duplicate: false }
}

function answer(r: Reservation): { reservation: Reservation; granted: boolean; available: Decimal; expiresAtMs: number } {
  return { reservation: r, granted: r.granted, available: r.available, expiresAtMs: r.expiresAtMs }
}

export type ReleaseOutcome = Outcome<{ reservation: Reservation; released: boolean; available: Decimal }, 'reservation_not_found'>

/**
 * Frees a held reservation (a release entry). A reservation already released, settled, lapsed or
 * refused is left as it is (`released: false`), so releasing twice is harmless.
 */
export function release(state: CustomerCredits, reservationId: string, atMs: number): ReleaseOutcome {
  assertTime(atMs)
  const known = findReservation(state, reservationId)
  if (known === undefined) return fail('reservation_not_found', `no reservation ${reservationId}`)
  if (known.status !== 'held') {
    return { ok: true, state, entries: [], grants: [], reservations: [], reservation: known, released: false, available: state.balance.minus(state.reserved) }
  }
  const d = draftAt(state, atMs)
  const r = d.heldReservations().get(reservationId)
  if (r !== undefined) closeHold(d, r, 'released', d.t)
  const change = d.finish()
  return {
    ok: true, ...change, reservation: findReservation(change.state, reservationId)!, released: r !== undefined,
    available: change.state.balance.minus(change.state.reserved),
  }
}

export interface SettleInput {
  reservationId: string
  cost: CreditsInput
  eventIds: readonly string[]
}

export type SettleOutcome = Outcome<{ reservation?: Reservation; released: boolean; overage: Decimal }, 'invalid_credits' | 'missing_event_ids'>

/**
 * An event that names a reservation: the hold is released, then the cost deducted in burn order
 * (entries naming both the events and the reservation). The event pays its cost whatever became
 * of the hold: unknown, refused, lapsed or already settled by an earlier event.
 */
export function settle(state: CustomerCredits, input: SettleInput, atMs: number): SettleOutcome {
  assertTime(atMs)
  const cost = parseCredits(input.cost)
  if (cost === undefined) return fail('invalid_credits', 'cost must be a non-negative decimal')
  if (input.eventIds.length === 0) return fail('missing_event_ids', 'a settlement names at least one source event')
  const d = draftAt(state, atMs)
  const r = d.heldReservations().get(input.reservationId)
  if (r !== undefined) closeHold(d, r, 'settled', d.t)
  const overage = cost.gt(0) ? burn(d, cost, input.eventIds, input.reservationId) : cost
  const change = d.finish()
  const reservation = findReservation(change.state, input.reservationId)
  return { ok: true, ...change, ...(reservation === undefined ? {} : { reservation }), released: r !== undefined, overage }
}

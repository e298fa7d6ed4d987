// One customer's credit state as JSON text, for a store to keep beside its ledger table. Decimals
// travel as exact decimal strings.
import { decimal } from '../decimal.js'
import type { CustomerCredits, Grant, Reservation } from './ledger.js'

type GrantJson = Omit<Grant, 'credits' | 'remaining' | 'rollover'> & { credits: string; remaining: string; rollover?: { max: string } }
type ReservationJson = Omit<Reservation, 'credits' | 'available'> & { credits: string; available: string }

function grantJson(g: Grant): GrantJson {
  const { rollover, ...rest } = g
  return { ...rest, credits: g.credits.toString(), remaining: g.remaining.toString(), ...(rollover ? { rollover: { max: rollover.max.toString() } } : {}) }
}

function grantOf(j: GrantJson): Grant {
  const { rollover, ...rest } = j
  return { ...rest, credits: decimal(j.credits), remaining: decimal(j.remaining), ...(rollover ? { rollover: { max: decimal(rollover.max) } } : {}) }
}

function reservationJson(r: Reservation): ReservationJson {
  return { ...r, credits: r.credits.toString(), available: r.available.toString() }
}

function reservationOf(j: ReservationJson): Reservation {
  return { ...j, credits: decimal(j.credits), available: decimal(j.available) }
}

/**
 * The state as JSON. `keepClosedSinceMs` drops reservations closed before that instant: they
 * would grow the state with every job, and a store answers repeated reservation ids from its own
 * reservations table.
 */
export function serializeCredits(s: CustomerCredits, keepClosedSinceMs = Number.MIN_SAFE_INTEGER): string {
  return JSON.stringify({
    clockMs: s.clockMs,
    balance: s.balance.toString(),
    owed: s.owed.toString(),
    reserved: s.reserved.toString(),
    nextGrantSeq: s.nextGrantSeq,
    nextEntrySeq: s.nextEntrySeq,
    grants: [...s.grants.values()].map(grantJson),
    retiredGrants: [...s.retiredGrants.values()].map(grantJson),
    holds: [...s.holds.values()].map(reservationJson),
    closedReservations: [...s.closedReservations.values()].filter((r) => (r.closedAtMs ?? r.createdAtMs) >= keepClosedSinceMs).map(reservationJson),
    settlements: [...s.settlements].map(([id, credits]) => [id, credits.toString()]),
  })
}

export function deserializeCredits(text: string): CustomerCredits {
  const j = JSON.parse(text) as {
    clockMs: number
    balance: string
    owed: string
    reserved: string
    nextGrantSeq: number
    nextEntrySeq: number
    grants: GrantJson[]
    retiredGrants: GrantJson[]
    holds: ReservationJson[]
    closedReservations: ReservationJson[]
    settlements: [string, string][]
  }
  return {
    clockMs: j.clockMs,
    balance: decimal(j.balance),
    owed: decimal(j.owed),
    reserved: decimal(j.reserved),
    nextGrantSeq: j.nextGrantSeq,
    nextEntrySeq: j.nextEntrySeq,
    grants: new Map(j.grants.map((g) => [g.id, grantOf(g)])),
    retiredGrants: new Map(j.retiredGrants.map((g) => [g.id, grantOf(g)])),
    holds: new Map(j.holds.map((r) => [r.id, reservationOf(r)])),
    closedReservations: new Map(j.closedReservations.map((r) => [r.id, reservationOf(r)])),
    settlements: new Map(j.settlements.map(([id, c]) => [id, decimal(c)])),
  }
}

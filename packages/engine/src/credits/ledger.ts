// The credit ledger's data: grants, reservations, entries and one customer's state, with the
// invariants that every operation in this folder keeps.
import type { Decimal } from '../decimal.js'
import { decimal } from '../decimal.js'

/*
 * INVARIANTS (per customer; `verifyCredits` checks them, the model test runs it after every command)
 *
 * I1  balance = Σ credits of every entry ever written (hold and release entries carry 0).
 * I2  balance = Σ remaining of the active grants − owed.
 * I3  0 ≤ remaining ≤ credits for every grant; owed ≥ 0.
 * I4  reserved = Σ credits of the held reservations ≥ 0, and available = balance − reserved.
 * I5  Entries are immutable facts, appended in order: their ids are le_1, le_2, … and their atMs
 *     never decreases. A correction is a new entry (a refund, a void), never an edit.
 * I6  Time moves one way: clockMs never decreases, and an operation dated before clockMs is
 *     applied at clockMs. Before doing anything, an operation applies every transition due at or
 *     before its time, in time order (`advance`): grants becoming effective, grants expiring,
 *     holds lapsing.
 * I7  A grant is `pending` while clockMs < effectiveAtMs (listed, not counted), `active` while
 *     effectiveAtMs ≤ clockMs < expiresAtMs, `expired` from expiresAtMs exactly (never earlier),
 *     `voided` once voided. Only active grants are burnt or refunded into.
 * I8  Every deduction entry names its source events (eventIds non-empty). One entry per grant a
 *     deduction touches (grantId set); the part no grant covers is one entry without grantId:
 *     overage, added to `owed`. Later grants never pay overage; `settleOverage` does.
 * I9  Ids count once: a grant id or a reservation id seen before returns the first outcome and
 *     writes nothing; so does an invoice id already settled.
 *
 * Amounts are exact decimals (big.js), never rounded; decimal strings only at the edges (view.ts).
 */

/** Priority of a grant that names none; lower burns first (plan grants often use 10). */
export const DEFAULT_PRIORITY = 100
export const MAX_PRIORITY = 1_000_000
/** How long a hold lasts when the caller gives no `ttlMs`. */
export const DEFAULT_HOLD_TTL_MS = 60 * 60 * 1000

/** What created a grant; it decides the type of the entry that counts it in. */
export type GrantKind = 'grant' | 'top_up' | 'rollover' | 'adjustment'
export type GrantStatus = 'pending' | 'active' | 'expired' | 'voided'

/**
 * Credits given to a customer. `remaining` is what the grant still holds; once it is expired or
 * voided, `remaining` is frozen at what its expiry or void entry took away (rollover reads it).
 * A recurring grant belongs to a `series` and covers the period [periodStartMs, periodEndMs).
 */
export interface Grant {
  readonly id: string
  readonly kind: GrantKind
  readonly credits: Decimal
  readonly remaining: Decimal
  /** Integer 0…MAX_PRIORITY; lower burns first. */
  readonly priority: number
  readonly effectiveAtMs: number
  /** Exclusive: the grant is gone at this instant. Null: never expires. */
  readonly expiresAtMs: number | null
  readonly createdAtMs: number
  /** Creation order within the customer, from 1: the last tie-break of the burn order. */
  readonly seq: number
  readonly status: GrantStatus
  readonly recurring?: string
  readonly rollover?: { readonly max: Decimal }
  readonly series?: string
  readonly periodStartMs?: number
  readonly periodEndMs?: number
  /** Set once this expired grant's leftover has been carried into a rollover grant. */
  readonly rolledOver?: boolean
  readonly source?: string
  readonly voidedAtMs?: number
}

export type ReservationStatus = 'held' | 'refused' | 'released' | 'settled' | 'expired'

/** A hold on credits for a job. `granted` and `available` are the answer given when it was made. */
export interface Reservation {
  readonly id: string
  readonly credits: Decimal
  readonly createdAtMs: number
  readonly expiresAtMs: number
  readonly granted: boolean
  readonly available: Decimal
  readonly status: ReservationStatus
  readonly closedAtMs?: number
}

export type EntryType =
  | 'grant' | 'deduction' | 'expiry' | 'void' | 'adjustment' | 'top_up' | 'overage_settled' | 'hold' | 'release'

/**
 * One immutable ledger fact. `credits` is signed: + adds to the balance, − takes from it.
 * A `deduction` with + credits is a refund (it reverses an earlier deduction of the same events).
 * `held` is set on hold (+) and release (−) entries only: the credits moved into or out of
 * `reserved`; their `credits` is 0. Ids are unique within the customer's ledger.
 */
export interface LedgerEntry {
  readonly id: string
  readonly type: EntryType
  readonly credits: Decimal
  readonly balanceAfter: Decimal
  readonly atMs: number
  readonly grantId?: string
  readonly eventIds?: readonly string[]
  readonly invoiceId?: string
  readonly reservationId?: string
  readonly held?: Decimal
  readonly reason?: string
}

/**
 * One customer's credits: the compact state a store keeps beside the ledger table. Live grants
 * (pending, active) and held reservations are what operations work on; retired ones stay only
 * so that their ids count once and rollovers can read what expired.
 */
export interface CustomerCredits {
  readonly clockMs: number
  readonly balance: Decimal
  /** Overage: credits used beyond the grants, not yet settled by an invoice. */
  readonly owed: Decimal
  readonly reserved: Decimal
  readonly nextGrantSeq: number
  readonly nextEntrySeq: number
  readonly grants: ReadonlyMap<string, Grant>
  readonly retiredGrants: ReadonlyMap<string, Grant>
  readonly holds: ReadonlyMap<string, Reservation>
  readonly closedReservations: ReadonlyMap<string, Reservation>
  /** invoiceId → credits that invoice settled. */
  readonly settlements: ReadonlyMap<string, Decimal>
}

export function emptyCredits(): CustomerCredits {
  return {
    clockMs: Number.MIN_SAFE_INTEGER,
    balance: decimal(0),
    owed: decimal(0),
    reserved: decimal(0),
    nextGrantSeq: 1,
    nextEntrySeq: 1,
    grants: new Map(),
    retiredGrants: new Map(),
    holds: new Map(),
    closedReservations: new Map(),
    settlements: new Map(),
  }
}

/** What an operation changed: the new state, the entries it appended, the records it touched. */
export interface Change {
  readonly state: CustomerCredits
  readonly entries: readonly LedgerEntry[]
  /** Grants created or changed, in their new form. */
  readonly grants: readonly Grant[]
  readonly reservations: readonly Reservation[]
}

export interface Failure<C extends string> {
  readonly ok: false
  readonly code: C
  readonly message: string
}

export type Outcome<T, C extends string> = ({ readonly ok: true } & Change & T) | Failure<C>

export function fail<C extends string>(code: C, message: string): Failure<C> {
  return { ok: false, code, message }
}

export type CreditsInput = string | Decimal

const DECIMAL_TEXT = /^\d+(\.\d+)?$/

/** A non-negative amount from a decimal string or a Decimal; undefined when it is not one. */
export function parseCredits(value: CreditsInput): Decimal | undefined {
  if (typeof value === 'string') return DECIMAL_TEXT.test(value) ? decimal(value) : undefined
  return value.gte(0) ? value : undefined
}

/** The grant with this id, live or retired. */
export function findGrant(state: CustomerCredits, id: string): Grant | undefined {
  return state.grants.get(id) ?? state.retiredGrants.get(id)
}

export function findReservation(state: CustomerCredits, id: string): Reservation | undefined {
  return state.holds.get(id) ?? state.closedReservations.get(id)
}

export function assertTime(atMs: number): void {
  if (!Number.isSafeInteger(atMs)) throw new RangeError(`time must be an integer of milliseconds, got ${atMs}`)
}

// What the credit ledger needs from storage: each customer's compact state beside its
// append-only entries, reservations, thresholds, and the running totals of credit-priced usage.
// Records, not rules: what a credit costs and in which order grants burn is decided in credits/.
import type { Change, CustomerCredits, LedgerEntry } from './index.js'
import type { Awaitable } from '../store/storage.js'

export interface LedgerRows {
  /** The customer's state (empty before its first entry). */
  state(tenantId: number, customerId: string): Awaitable<CustomerCredits>
  /** Appends the change's entries and stores its state. */
  save(tenantId: number, customerId: string, change: Change): Awaitable<void>
  /** Entries after entry number `afterN`, oldest first. */
  entries(tenantId: number, customerId: string, afterN: number, limit: number): Awaitable<LedgerEntry[]>
  /** The entries that name an event (the sources of a refund). */
  entriesNaming(tenantId: number, customerId: string, eventId: string): Awaitable<LedgerEntry[]>
  /** Deductions no grant covered (overage) and overage settlements, in entry order. */
  overageEntries(tenantId: number, customerId: string): Awaitable<OverageEntryRecord[]>
}

/**
 * An overage entry as settling reads it. `eventMs`: the time of the first event the entry names
 * (the period its overage belongs to); null when it names none or that event is no longer stored.
 */
export interface OverageEntryRecord {
  type: 'deduction' | 'overage_settled'
  credits: string
  atMs: number
  eventMs: number | null
}

export interface ReservationRecord {
  id: string
  customerId: string
  credits: string
  granted: boolean
  /** As answered when the hold was made. */
  available: string
  expiresAtMs: number
}

export interface ReservationRows {
  get(tenantId: number, id: string): Awaitable<ReservationRecord | undefined>
  insert(tenantId: number, reservation: ReservationRecord, nowMs: number): Awaitable<void>
}

/** Automatic top-ups and once-per-crossing alerts: armed while the balance is at or above the threshold. */
export interface ThresholdRows {
  autoTopUp(tenantId: number, customerId: string): Awaitable<{ threshold: string; credits: string; amount: string | null; armed: boolean } | undefined>
  putAutoTopUp(tenantId: number, customerId: string, setting: { threshold: string; credits: string; amount: string | null }, armed: boolean): Awaitable<void>
  setAutoTopUpArmed(tenantId: number, customerId: string, armed: boolean): Awaitable<void>
  /** Whether the alert is armed; undefined before it was ever set. */
  alert(tenantId: number, customerId: string, kind: string): Awaitable<boolean | undefined>
  putAlert(tenantId: number, customerId: string, kind: string, armed: boolean): Awaitable<void>
}

/**
 * Credit-priced usage charged so far, per charge stretch (subscription and charge, and the start
 * of the stretch) and dimension value ('' for none): quantities and what they were charged,
 * corrections of the stretch, and the values a unique_count stretch has seen.
 */
export interface ChargeTotalRows {
  totals(tenantId: number, customerId: string, charge: string, fromMs: number): Awaitable<{ dimension: string; quantity: string; credits: string }[]>
  putTotal(tenantId: number, customerId: string, charge: string, fromMs: number, dimension: string, quantity: string, credits: string): Awaitable<void>
  correction(tenantId: number, customerId: string, charge: string, fromMs: number): Awaitable<string | undefined>
  putCorrection(tenantId: number, customerId: string, charge: string, fromMs: number, credits: string): Awaitable<void>
  /** Adds a value the stretch has seen; true when it is new. */
  addUnique(tenantId: number, customerId: string, charge: string, fromMs: number, dimension: string, value: string): Awaitable<boolean>
  clearUniques(tenantId: number, customerId: string, charge: string, fromMs: number): Awaitable<void>
}

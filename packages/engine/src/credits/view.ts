// The ledger as the API shows it (CONTRACT §4 Balance, §8 Credits): decimal strings and RFC 3339
// times, computed as of an instant.
import { formatDecimal } from '../decimal.js'
import { compareBurnOrder } from './burn.js'
import { advance } from './expiry.js'
import type { CustomerCredits, EntryType, LedgerEntry } from './ledger.js'

export interface GrantView {
  id: string
  credits: string
  remaining: string
  priority: number
  effectiveAt: string
  expiresAt: string | null
}

export interface BalanceView {
  balance: string
  available: string
  reserved: string
  grants: GrantView[]
}

/**
 * The balance as of atMs (what `advance` would make it, without recording anything). Grants: every
 * one not expired or voided, in burn order, used-up ones with remaining "0" and not-yet-effective
 * ones included (they are not counted in the balance until effective).
 */
export function balanceView(state: CustomerCredits, atMs: number): BalanceView {
  const s = advance(state, atMs).state
  return {
    balance: formatDecimal(s.balance),
    available: formatDecimal(s.balance.minus(s.reserved)),
    reserved: formatDecimal(s.reserved),
    grants: [...s.grants.values()].sort(compareBurnOrder).map((g) => ({
      id: g.id,
      credits: formatDecimal(g.credits),
      remaining: formatDecimal(g.remaining),
      priority: g.priority,
      effectiveAt: iso(g.effectiveAtMs),
      expiresAt: g.expiresAtMs === null ? null : iso(g.expiresAtMs),
    })),
  }
}

export interface LedgerEntryView {
  id: string
  type: EntryType
  credits: string
  balanceAfter: string
  at: string
  grantId?: string
  eventIds?: string[]
  invoiceId?: string
  reservationId?: string
  /** hold (+) and release (−) entries: credits moved into or out of `reserved`. */
  held?: string
  reason?: string
}

export function entryView(e: LedgerEntry): LedgerEntryView {
  return {
    id: e.id,
    type: e.type,
    credits: formatDecimal(e.credits),
    balanceAfter: formatDecimal(e.balanceAfter),
    at: iso(e.atMs),
    ...(e.grantId === undefined ? {} : { grantId: e.grantId }),
    ...(e.eventIds === undefined ? {} : { eventIds: [...e.eventIds] }),
    ...(e.invoiceId === undefined ? {} : { invoiceId: e.invoiceId }),
    ...(e.reservationId === undefined ? {} : { reservationId: e.reservationId }),
    ...(e.held === undefined ? {} : { held: formatDecimal(e.held) }),
    ...(e.reason === undefined ? {} : { reason: e.reason }),
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString()
}

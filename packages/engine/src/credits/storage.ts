// What billing asks of the credit ledger inside its transactions: the credits a credit-priced
// charge's stretch was charged in real time, corrections of it, and overage at a period's close.
import type Big from 'big.js'
import type { LoadedSubscription } from '../billing/subscriptions.js'
import type { Awaitable } from '../store/storage.js'

export interface CreditLedgerAccess {
  /** Events with seq up to this have had their credit-priced usage deducted. */
  watermark(): Awaitable<number>
  /** Replaces a stretch's quantities (per dimension value, '' for none) with a recount from its events. */
  recount(tenantId: number, customerId: string, subscriptionId: string, chargeKey: string, fromMs: number, quantities: Map<string, Big>): Awaitable<void>
  /** Credits a charge's stretch starting at `fromMs` has been charged: events plus corrections. */
  charged(tenantId: number, customerId: string, subscriptionId: string, chargeKey: string, fromMs: number): Awaitable<Big>
  /** Brings what a stretch was charged to `expected`, naming `eventIds`: a deduction or a refund. */
  adjustCharged(tenantId: number, customerId: string, sub: LoadedSubscription, chargeKey: string, fromMs: number, expected: Big, eventIds: string[], reason: string, atMs: number): Awaitable<void>
  /** Settles on an invoice the overage incurred before `periodEndMs`; answers the credits settled. */
  settleOverage(tenantId: number, customerId: string, invoiceId: string, periodEndMs: number, atMs: number): Awaitable<Big>
  /** Credits owed now (for previews). */
  owed(tenantId: number, customerId: string): Awaitable<Big>
}

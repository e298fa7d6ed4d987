// The storage port: transactions and the storage primitives the engine's services are written
// over. A store (store/sqlite, store/postgres) implements it with SQL and mechanics only; every
// rule of the business lives in the services of the domain folders, once, whatever the store.
//
// Methods answer `Awaitable<T>`: the SQLite store answers synchronously inside its transaction,
// the PostgreSQL store with promises. Services always `await`, so they run on either.
import type { TenantConfig } from '@meterkit/protocol'
import type { BillingChangeRows, InvoiceRows, PurchaseRows, SubscriptionRows } from '../billing/storage.js'
import type { ChargeTotalRows, LedgerRows, ReservationRows, ThresholdRows } from '../credits/storage.js'
import type { EventRows, RollupRows } from '../meters/storage.js'
import type { Customer, CustomerInput } from './port.js'
import type { OutboxWrites } from '../webhooks/storage.js'
import type { ReportingReads } from '../reporting/storage.js'

export type Awaitable<T> = T | Promise<T>

export type TransactionMode = 'read' | 'write'

/**
 * One transaction's view of storage. `read` transactions see one consistent snapshot; `write`
 * transactions hold the store's write lock from their start, so what they read stays true until
 * they commit.
 */
export interface Tx {
  readonly configs: ConfigRows
  readonly customers: CustomerRows
  readonly events: EventRows
  readonly rollups: RollupRows
  readonly subscriptions: SubscriptionRows
  readonly invoices: InvoiceRows
  readonly billingChanges: BillingChangeRows
  readonly purchases: PurchaseRows
  readonly ledger: LedgerRows
  readonly reservations: ReservationRows
  readonly thresholds: ThresholdRows
  readonly chargeTotals: ChargeTotalRows
  readonly watermarks: WatermarkRows
  readonly outbox: OutboxWrites
  readonly reporting: ReportingReads
}

export interface Storage {
  /**
   * Runs `fn` in one transaction and commits when it resolves (rolls back when it throws).
   * Transactions of one store never interleave on a connection.
   */
  transaction<T>(mode: TransactionMode, fn: (tx: Tx) => Promise<T>): Promise<T>
}

export interface ConfigRows {
  /**
   * The tenant's current configuration (version 0, empty, before the first apply). A store
   * answers the same object for the same tenant and version, so what is compiled from it is
   * compiled once.
   */
  current(tenantId: number): Awaitable<{ version: number; config: TenantConfig; appliedAtMs: number }>
  insert(tenantId: number, version: number, config: TenantConfig, keyId: string | null, nowMs: number): Awaitable<void>
}

export interface CustomerRows {
  /** Creates the customer with defaults when it does not exist yet. */
  ensure(tenantId: number, customerId: string, nowMs: number): Awaitable<void>
  /** The customer's time zone (`UTC` for an unknown customer). */
  timeZone(tenantId: number, customerId: string): Awaitable<string>
  get(tenantId: number, customerId: string): Awaitable<Customer | undefined>
  /** Creates the customer, or updates the fields given; answers whether it created it. */
  put(input: CustomerInput & { tenantId: number }, nowMs: number): Awaitable<boolean>
}

/** Progress of a fold over the events, by name: events with seq up to the mark are folded. */
export type WatermarkName = 'credits'

export interface WatermarkRows {
  get(name: WatermarkName): Awaitable<number>
  set(name: WatermarkName, seq: number): Awaitable<void>
}

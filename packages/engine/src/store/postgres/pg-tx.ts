// The storage primitives of one PostgreSQL transaction, as the services see them.
import type { Tx, WatermarkName } from '../storage.js'
import { PgBillingChangeRows, PgPurchaseRows } from './billing/billing-change-rows.js'
import { PgInvoiceRows } from './billing/invoice-rows.js'
import { PgSubscriptionRows } from './billing/subscription-rows.js'
import { PgChargeTotalRows, PgLedgerRows, PgReservationRows, PgThresholdRows } from './credits/credit-rows.js'
import { type ConfigCache, PgConfigRows, PgCustomerRows } from './customer-rows.js'
import { PgEventRows } from './event-rows.js'
import { PgOutboxWrites } from './outbox-rows.js'
import { PgRollupRows } from './rollup-rows.js'
import { PgReportingReads } from './reporting-rows.js'
import type { Sql } from './sql.js'

/** What outlives one transaction: caches of rows that never change once written. */
export interface PgTxCaches {
  configs: ConfigCache
}

export interface PgTx extends Tx {
  readonly events: PgEventRows
}

export function pgTx(sql: Sql, caches: PgTxCaches): PgTx {
  return {
    configs: new PgConfigRows(sql, caches.configs),
    customers: new PgCustomerRows(sql),
    events: new PgEventRows(sql),
    rollups: new PgRollupRows(sql),
    subscriptions: new PgSubscriptionRows(sql),
    invoices: new PgInvoiceRows(sql),
    billingChanges: new PgBillingChangeRows(sql),
    purchases: new PgPurchaseRows(sql),
    ledger: new PgLedgerRows(sql),
    reservations: new PgReservationRows(sql),
    thresholds: new PgThresholdRows(sql),
    chargeTotals: new PgChargeTotalRows(sql),
    watermarks: {
      get: async (name: WatermarkName) => (await sql.one<{ seq: number }>('watermarks_get', 'SELECT seq FROM index_state WHERE name = $1', [name]))!.seq,
      set: async (name: WatermarkName, seq: number) => void (await sql.run('watermarks_set', 'UPDATE index_state SET seq = $1 WHERE name = $2', [seq, name])),
    },
    outbox: new PgOutboxWrites(sql),
    reporting: new PgReportingReads(sql),
  }
}

// The storage primitives of one SQLite connection, as the services' transactions see them.
import type Database from 'better-sqlite3'
import type { Tx, WatermarkName } from '../storage.js'
import { WebhookOutbox } from '../../webhooks/outbox.js'
import { SqliteBillingChangeRows, SqlitePurchaseRows } from './billing/billing-change-rows.js'
import { SqliteInvoiceRows } from './billing/invoice-rows.js'
import { SqliteSubscriptionRows } from './billing/subscription-rows.js'
import { SqliteChargeTotalRows, SqliteLedgerRows, SqliteReservationRows, SqliteThresholdRows } from './credits/credit-rows.js'
import { SqliteConfigRows } from './config-rows.js'
import { SqliteCustomerRows } from './customer-rows.js'
import { SqliteEventRows } from './event-rows.js'
import { SqliteRollupRows } from './rollup-rows.js'
import { SqliteReportingReads } from './reporting-rows.js'

export function sqliteTx(db: Database.Database, parts: { outbox?: WebhookOutbox } = {}): Tx {
  const watermark = db.prepare('SELECT seq FROM index_state WHERE name = ?').pluck()
  const setWatermark = db.prepare('UPDATE index_state SET seq = ? WHERE name = ?')
  return {
    configs: new SqliteConfigRows(db),
    customers: new SqliteCustomerRows(db),
    events: new SqliteEventRows(db),
    rollups: new SqliteRollupRows(db),
    subscriptions: new SqliteSubscriptionRows(db),
    invoices: new SqliteInvoiceRows(db),
    billingChanges: new SqliteBillingChangeRows(db),
    purchases: new SqlitePurchaseRows(db),
    ledger: new SqliteLedgerRows(db),
    reservations: new SqliteReservationRows(db),
    thresholds: new SqliteThresholdRows(db),
    chargeTotals: new SqliteChargeTotalRows(db),
    watermarks: {
      get: (name: WatermarkName) => watermark.get(name) as number,
      set: (name: WatermarkName, seq: number) => void setWatermark.run(seq, name),
    },
    outbox: parts.outbox ?? new WebhookOutbox(db),
    reporting: new SqliteReportingReads(db),
  }
}

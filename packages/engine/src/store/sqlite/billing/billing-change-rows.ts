// Changes to invoiced periods as rows, and the watermark of the pass that finds late arrivals.
import type Database from 'better-sqlite3'
import type { BillingChangeRows, PurchaseRows } from '../../../billing/storage.js'

export class SqliteBillingChangeRows implements BillingChangeRows {
  private readonly stmt

  constructor(db: Database.Database) {
    this.stmt = {
      watermark: db.prepare("SELECT seq FROM index_state WHERE name = 'billing_scan'").pluck(),
      setWatermark: db.prepare("UPDATE index_state SET seq = ? WHERE name = 'billing_scan'"),
      insert: db.prepare('INSERT OR IGNORE INTO billing_changes (tenant_id, customer_id, ts, seq) VALUES (?, ?, ?, ?)'),
      pending: db.prepare('SELECT ts, seq FROM billing_changes WHERE tenant_id = ? AND customer_id = ? AND ts >= ? AND ts < ?'),
      consume: db.prepare('DELETE FROM billing_changes WHERE tenant_id = ? AND customer_id = ? AND ts >= ? AND ts < ?'),
    }
  }

  scannedThrough(): number {
    return this.stmt.watermark.get() as number
  }

  setScannedThrough(seq: number): void {
    this.stmt.setWatermark.run(seq)
  }

  add(tenantId: number, customerId: string, ts: number, seq: number): void {
    this.stmt.insert.run(tenantId, customerId, ts, seq)
  }

  pending(tenantId: number, customerId: string, fromMs: number, toMs: number): { ts: number; seq: number }[] {
    return this.stmt.pending.all(tenantId, customerId, fromMs, toMs) as { ts: number; seq: number }[]
  }

  consume(tenantId: number, customerId: string, fromMs: number, toMs: number): void {
    this.stmt.consume.run(tenantId, customerId, fromMs, toMs)
  }
}

export class SqlitePurchaseRows implements PurchaseRows {
  private readonly stmt

  constructor(db: Database.Database) {
    this.stmt = {
      uninvoiced: db.prepare('SELECT grant_id, credits, amount, at FROM credit_purchases WHERE tenant_id = ? AND customer_id = ? AND invoice_id IS NULL ORDER BY at, grant_id'),
      invoiced: db.prepare('UPDATE credit_purchases SET invoice_id = ? WHERE tenant_id = ? AND customer_id = ? AND grant_id = ?'),
      record: db.prepare('INSERT OR IGNORE INTO credit_purchases (tenant_id, customer_id, grant_id, credits, amount, at) VALUES (?, ?, ?, ?, ?, ?)'),
    }
  }

  uninvoiced(tenantId: number, customerId: string): { grantId: string; credits: string; amount: string; atMs: number }[] {
    return (this.stmt.uninvoiced.all(tenantId, customerId) as { grant_id: string; credits: string; amount: string; at: number }[])
      .map((p) => ({ grantId: p.grant_id, credits: p.credits, amount: p.amount, atMs: p.at }))
  }

  markInvoiced(tenantId: number, customerId: string, grantId: string, invoiceId: string): void {
    this.stmt.invoiced.run(invoiceId, tenantId, customerId, grantId)
  }

  record(tenantId: number, customerId: string, p: { grantId: string; credits: string; amount: string; atMs: number }): void {
    this.stmt.record.run(tenantId, customerId, p.grantId, p.credits, p.amount, p.atMs)
  }
}

// Changes to invoiced periods as rows, the watermark of the pass that finds late arrivals, and
// purchased credits awaiting an invoice.
import type { BillingChangeRows, PurchaseRows } from '../../../billing/storage.js'
import type { Sql } from '../sql.js'

export class PgBillingChangeRows implements BillingChangeRows {
  constructor(private readonly sql: Sql) {}

  async scannedThrough(): Promise<number> {
    return (await this.sql.one<{ seq: number }>('billing_scan_get', "SELECT seq FROM index_state WHERE name = 'billing_scan'"))!.seq
  }

  async setScannedThrough(seq: number): Promise<void> {
    await this.sql.run('billing_scan_set', "UPDATE index_state SET seq = $1 WHERE name = 'billing_scan'", [seq])
  }

  async add(tenantId: number, customerId: string, ts: number, seq: number): Promise<void> {
    await this.sql.run('billing_changes_add', 'INSERT INTO billing_changes (tenant_id, customer_id, ts, seq) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [tenantId, customerId, ts, seq])
  }

  async pending(tenantId: number, customerId: string, fromMs: number, toMs: number): Promise<{ ts: number; seq: number }[]> {
    return this.sql.rows<{ ts: number; seq: number }>(
      'billing_changes_pending', 'SELECT ts, seq FROM billing_changes WHERE tenant_id = $1 AND customer_id = $2 AND ts >= $3 AND ts < $4 ORDER BY seq', [tenantId, customerId, fromMs, toMs],
    )
  }

  async consume(tenantId: number, customerId: string, fromMs: number, toMs: number): Promise<void> {
    await this.sql.run('billing_changes_consume', 'DELETE FROM billing_changes WHERE tenant_id = $1 AND customer_id = $2 AND ts >= $3 AND ts < $4', [tenantId, customerId, fromMs, toMs])
  }
}

export class PgPurchaseRows implements PurchaseRows {
  constructor(private readonly sql: Sql) {}

  async uninvoiced(tenantId: number, customerId: string): Promise<{ grantId: string; credits: string; amount: string; atMs: number }[]> {
    const rows = await this.sql.rows<{ grant_id: string; credits: string; amount: string; at: number }>(
      'purchases_uninvoiced',
      'SELECT grant_id, credits, amount, at FROM credit_purchases WHERE tenant_id = $1 AND customer_id = $2 AND invoice_id IS NULL ORDER BY at, grant_id',
      [tenantId, customerId],
    )
    return rows.map((p) => ({ grantId: p.grant_id, credits: p.credits, amount: p.amount, atMs: p.at }))
  }

  async markInvoiced(tenantId: number, customerId: string, grantId: string, invoiceId: string): Promise<void> {
    await this.sql.run('purchases_invoiced', 'UPDATE credit_purchases SET invoice_id = $1 WHERE tenant_id = $2 AND customer_id = $3 AND grant_id = $4', [invoiceId, tenantId, customerId, grantId])
  }

  async record(tenantId: number, customerId: string, p: { grantId: string; credits: string; amount: string; atMs: number }): Promise<void> {
    await this.sql.run(
      'purchases_record',
      'INSERT INTO credit_purchases (tenant_id, customer_id, grant_id, credits, amount, at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING',
      [tenantId, customerId, p.grantId, p.credits, p.amount, p.atMs],
    )
  }
}

// The rows reports read: invoices and lines by boundary (invoices_by_time), ledger entries by
// time, event counts over the events-by-time index alone, customers by id, and configuration versions.
import type Database from 'better-sqlite3'
import type { ReportConfigVersionRecord, ReportCustomerRecord, ReportInvoiceRecord, ReportLedgerRecord, ReportLineRecord, ReportingReads } from '../../reporting/storage.js'

export class SqliteReportingReads implements ReportingReads {
  private readonly stmt

  constructor(db: Database.Database) {
    this.stmt = {
      invoices: db.prepare(
        `SELECT id, customer_id AS customerId, subscription_id AS subscriptionId, status, boundary AS boundaryMs, currency, total, amount_paid AS amountPaid
         FROM invoices WHERE tenant_id = ? AND boundary >= ? AND boundary < ? ORDER BY boundary, id`,
      ),
      lines: db.prepare(
        `SELECT i.id AS invoiceId, i.customer_id AS customerId, i.subscription_id AS subscriptionId, i.status, i.boundary AS boundaryMs, i.currency,
                l.charge_key AS chargeKey, l.kind, l.amount, l.credits, l.period_start AS periodStartMs
         FROM invoices i JOIN invoice_lines l ON l.tenant_id = i.tenant_id AND l.invoice_id = i.id
         WHERE i.tenant_id = ? AND i.boundary >= ? AND i.boundary < ? ORDER BY i.boundary, i.id, l.position`,
      ),
      // The ledger has no index by time: entries are few beside events (one per grant, batch of
      // deductions, expiry), and reports read a tenant's in one pass.
      ledger: db.prepare(
        `SELECT customer_id AS customerId, type, credits, at AS atMs FROM credit_entries
         WHERE tenant_id = ? AND at >= ? AND at < ?`,
      ),
      // Covered by events_by_time (tenant_id, ts): no event row is read.
      eventCounts: db.prepare(
        `SELECT (ts - ?) / ? AS b, count(*) AS n FROM events INDEXED BY events_by_time
         WHERE tenant_id = ? AND ts >= ? AND ts < ? GROUP BY b`,
      ).raw(),
      customers: db.prepare(
        `SELECT id, name, email, timezone, created_at AS createdAtMs FROM customers
         WHERE tenant_id = ? AND id > ? ORDER BY id LIMIT ?`,
      ),
      search: db.prepare(
        `SELECT id, name, email, timezone, created_at AS createdAtMs FROM customers
         WHERE tenant_id = ? AND id > ? AND (instr(lower(id), ?) > 0 OR instr(lower(coalesce(name, '')), ?) > 0 OR instr(lower(coalesce(email, '')), ?) > 0)
         ORDER BY id LIMIT ?`,
      ),
      versions: db.prepare(
        `SELECT version, config, applied_at AS appliedAtMs, key_id AS keyId FROM config_versions
         WHERE tenant_id = ? AND version < ? ORDER BY version DESC LIMIT ?`,
      ),
    }
  }

  invoicesIssued(tenantId: number, fromMs: number, toMs: number): ReportInvoiceRecord[] {
    return this.stmt.invoices.all(tenantId, fromMs, toMs) as ReportInvoiceRecord[]
  }

  linesIssued(tenantId: number, fromMs: number, toMs: number): ReportLineRecord[] {
    return this.stmt.lines.all(tenantId, fromMs, toMs) as ReportLineRecord[]
  }

  ledgerEntries(tenantId: number, fromMs: number, toMs: number): ReportLedgerRecord[] {
    return this.stmt.ledger.all(tenantId, fromMs, toMs) as ReportLedgerRecord[]
  }

  eventCounts(tenantId: number, fromMs: number, toMs: number, bucketMs: number): { bucketMs: number; count: number }[] {
    return (this.stmt.eventCounts.all(fromMs, bucketMs, tenantId, fromMs, toMs) as [number, number][]).map(([b, n]) => ({ bucketMs: fromMs + b * bucketMs, count: n }))
  }

  customers(tenantId: number, query: { search?: string; afterId?: string; limit: number }): ReportCustomerRecord[] {
    const after = query.afterId ?? ''
    const search = query.search?.trim().toLowerCase()
    if (search) return this.stmt.search.all(tenantId, after, search, search, search, query.limit) as ReportCustomerRecord[]
    return this.stmt.customers.all(tenantId, after, query.limit) as ReportCustomerRecord[]
  }

  configVersions(tenantId: number, query: { beforeVersion?: number; limit: number }): ReportConfigVersionRecord[] {
    return this.stmt.versions.all(tenantId, query.beforeVersion ?? Number.MAX_SAFE_INTEGER, query.limit) as ReportConfigVersionRecord[]
  }
}

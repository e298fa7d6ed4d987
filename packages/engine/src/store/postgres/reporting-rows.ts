// The rows reports read, in PostgreSQL: invoices and lines by boundary (invoices_by_time), ledger
// entries by time, event counts over events_by_time, customers by id, and configuration versions.
import type { ReportConfigVersionRecord, ReportCustomerRecord, ReportInvoiceRecord, ReportLedgerRecord, ReportLineRecord, ReportingReads } from '../../reporting/storage.js'
import type { Sql } from './sql.js'

const CUSTOMER_COLUMNS = 'id, name, email, timezone, created_at AS "createdAtMs"'

export class PgReportingReads implements ReportingReads {
  constructor(private readonly sql: Sql) {}

  invoicesIssued(tenantId: number, fromMs: number, toMs: number): Promise<ReportInvoiceRecord[]> {
    return this.sql.rows<ReportInvoiceRecord>('reports_invoices',
      `SELECT id, customer_id AS "customerId", subscription_id AS "subscriptionId", status, boundary AS "boundaryMs", currency,
              total::text AS total, amount_paid::text AS "amountPaid"
       FROM invoices WHERE tenant_id = $1 AND boundary >= $2 AND boundary < $3 ORDER BY boundary, id`, [tenantId, fromMs, toMs])
  }

  linesIssued(tenantId: number, fromMs: number, toMs: number): Promise<ReportLineRecord[]> {
    return this.sql.rows<ReportLineRecord>('reports_lines',
      `SELECT i.id AS "invoiceId", i.customer_id AS "customerId", i.subscription_id AS "subscriptionId", i.status, i.boundary AS "boundaryMs", i.currency,
              l.charge_key AS "chargeKey", l.kind, l.amount::text AS amount, l.credits::text AS credits, l.period_start AS "periodStartMs"
       FROM invoices i JOIN invoice_lines l ON l.tenant_id = i.tenant_id AND l.invoice_id = i.id
       WHERE i.tenant_id = $1 AND i.boundary >= $2 AND i.boundary < $3 ORDER BY i.boundary, i.id, l.position`, [tenantId, fromMs, toMs])
  }

  ledgerEntries(tenantId: number, fromMs: number, toMs: number): Promise<ReportLedgerRecord[]> {
    return this.sql.rows<ReportLedgerRecord>('reports_ledger',
      'SELECT customer_id AS "customerId", type, credits::text AS credits, at AS "atMs" FROM credit_entries WHERE tenant_id = $1 AND at >= $2 AND at < $3',
      [tenantId, fromMs, toMs])
  }

  async eventCounts(tenantId: number, fromMs: number, toMs: number, bucketMs: number): Promise<{ bucketMs: number; count: number }[]> {
    const rows = await this.sql.rows<{ b: number; n: number }>('reports_event_counts',
      'SELECT (ts - $2) / $4 AS b, count(*) AS n FROM events WHERE tenant_id = $1 AND ts >= $2 AND ts < $3 GROUP BY b',
      [tenantId, fromMs, toMs, bucketMs])
    return rows.map((r) => ({ bucketMs: fromMs + r.b * bucketMs, count: r.n }))
  }

  customers(tenantId: number, query: { search?: string; afterId?: string; limit: number }): Promise<ReportCustomerRecord[]> {
    const after = query.afterId ?? ''
    const search = query.search?.trim().toLowerCase()
    if (search) {
      return this.sql.rows<ReportCustomerRecord>('reports_customers_search',
        `SELECT ${CUSTOMER_COLUMNS} FROM customers
         WHERE tenant_id = $1 AND id > $2 AND (strpos(lower(id), $3) > 0 OR strpos(lower(coalesce(name, '')), $3) > 0 OR strpos(lower(coalesce(email, '')), $3) > 0)
         ORDER BY id LIMIT $4`, [tenantId, after, search, query.limit])
    }
    return this.sql.rows<ReportCustomerRecord>('reports_customers',
      `SELECT ${CUSTOMER_COLUMNS} FROM customers WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3`, [tenantId, after, query.limit])
  }

  configVersions(tenantId: number, query: { beforeVersion?: number; limit: number }): Promise<ReportConfigVersionRecord[]> {
    return this.sql.rows<ReportConfigVersionRecord>('reports_config_versions',
      `SELECT version, config, applied_at AS "appliedAtMs", key_id AS "keyId" FROM config_versions
       WHERE tenant_id = $1 AND version < $2 ORDER BY version DESC LIMIT $3`, [tenantId, query.beforeVersion ?? 2_147_483_647, query.limit]) // version is an integer column
  }
}

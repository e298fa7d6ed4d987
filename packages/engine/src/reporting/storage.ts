// What reporting needs from storage: invoice headers and lines by the instant they were issued,
// ledger entries by time, event counts from the events-by-time index, and the customer list.
// Records, not rules: which invoices count as revenue and what a credit burned is are decided in
// reporting/.
import type { InvoiceStatus } from '../billing/model.js'
import type { LineKind } from '../billing/lines.js'
import type { Awaitable } from '../store/storage.js'

/** An invoice header as reports read it. */
export interface ReportInvoiceRecord {
  id: string
  customerId: string
  subscriptionId: string
  status: InvoiceStatus
  /** The boundary the invoice was issued at: its period closes (and the next opens) there. */
  boundaryMs: number
  currency: string
  total: string
  amountPaid: string
}

/** An invoice line with what reports group it by. */
export interface ReportLineRecord {
  invoiceId: string
  customerId: string
  subscriptionId: string
  status: InvoiceStatus
  boundaryMs: number
  currency: string
  chargeKey: string
  kind: LineKind
  amount: string
  credits: string | null
  periodStartMs: number
}

export interface ReportLedgerRecord {
  customerId: string
  type: string
  credits: string
  atMs: number
}

export interface ReportCustomerRecord {
  id: string
  name: string | null
  email: string | null
  timezone: string
  createdAtMs: number
}

export interface ReportConfigVersionRecord {
  version: number
  /** The configuration as validated, JSON text. */
  config: string
  appliedAtMs: number
  keyId: string | null
}

export interface ReportingReads {
  /** Invoices with a boundary in [fromMs, toMs), every status, by boundary then id. */
  invoicesIssued(tenantId: number, fromMs: number, toMs: number): Awaitable<ReportInvoiceRecord[]>
  /** The lines of the invoices with a boundary in [fromMs, toMs), every status. */
  linesIssued(tenantId: number, fromMs: number, toMs: number): Awaitable<ReportLineRecord[]>
  /** Ledger entries with a time in [fromMs, toMs), every customer and type. */
  ledgerEntries(tenantId: number, fromMs: number, toMs: number): Awaitable<ReportLedgerRecord[]>
  /** Events by event time in [fromMs, toMs), counted per bucket of `bucketMs` (buckets with none left out). */
  eventCounts(tenantId: number, fromMs: number, toMs: number, bucketMs: number): Awaitable<{ bucketMs: number; count: number }[]>
  /**
   * Customers by id after `afterId`; with `search`, only those whose id, name or email holds it
   * (case-insensitive).
   */
  customers(tenantId: number, query: { search?: string; afterId?: string; limit: number }): Awaitable<ReportCustomerRecord[]>
  /** Configuration versions, newest first, below `beforeVersion` when given. */
  configVersions(tenantId: number, query: { beforeVersion?: number; limit: number }): Awaitable<ReportConfigVersionRecord[]>
}

// What billing needs from storage: subscriptions and their phases, invoices with their lines and
// payments, the changes that reach invoiced periods, and purchased credits awaiting an invoice.
// Records, not rules: what an invoice says and when it is due is decided in billing/.
import type { InvoiceLine } from './lines.js'
import type { Invoice, InvoiceStatus, Payment, StoredLine } from './model.js'
import type { Phase } from './timeline.js'
import type { Awaitable } from '../store/storage.js'

export interface SubscriptionRecord {
  id: string
  customerId: string
  startMs: number
  /** Service ends here (cancel); null while it runs. */
  endMs: number | null
  /** The last boundary whose invoice is final; null before the first. */
  billedThroughMs: number | null
  createdAtMs: number
}

export interface SubscriptionRows {
  get(tenantId: number, id: string): Awaitable<SubscriptionRecord | undefined>
  /** A customer's subscriptions, by start then id. */
  byCustomer(tenantId: number, customerId: string): Awaitable<SubscriptionRecord[]>
  /** Every subscription of the tenant, by customer then id. */
  all(tenantId: number): Awaitable<SubscriptionRecord[]>
  /** The phases of a subscription, by start. */
  phases(tenantId: number, id: string): Awaitable<Phase[]>
  insert(tenantId: number, record: { id: string; customerId: string; startMs: number }, nowMs: number): Awaitable<void>
  /** Puts `phase` in effect from its start, replacing any phase that starts at or after it. */
  putPhase(tenantId: number, id: string, phase: Phase, configVersion: number): Awaitable<void>
  /** Ends service at `atMs`, dropping the phases that would start after it. */
  end(tenantId: number, id: string, atMs: number): Awaitable<void>
  setBilledThrough(tenantId: number, id: string, boundaryMs: number): Awaitable<void>
  /** Changes with every change of a subscription or of a customer's time zone (caches check it). */
  generation(): Awaitable<number>
  /** Moves the generation for a change made elsewhere (a customer's time zone moves its periods). */
  bumpGeneration(): Awaitable<void>
  /** Tenants with at least one subscription. */
  tenants(): Awaitable<number[]>
  /** Customers with a subscription in effect at some time in [fromMs, toMs). */
  customersInEffect(tenantId: number, fromMs: number, toMs: number): Awaitable<string[]>
}

/** An invoice as stored: the header; lines and payments are read apart. */
export interface InvoiceRecord {
  id: string
  number: number | null
  customerId: string
  subscriptionId: string
  boundaryMs: number
  status: InvoiceStatus
  periodStartMs: number
  periodEndMs: number
  currency: string
  subtotal: string
  creditsApplied: string
  total: string
  amountPaid: string
  /** Events with a greater seq arrived after the invoice was computed. */
  cutoffSeq: number
  createdAtMs: number
  finalizedAtMs: number | null
  paidAtMs: number | null
  voidedAtMs: number | null
  creditNote: Invoice['creditNote']
}

/** What a billing run writes: the header of a computed invoice. */
export interface InvoiceHeader {
  id: string
  customerId: string
  subscriptionId: string
  boundary: number
  status: InvoiceStatus
  periodStartMs: number
  periodEndMs: number
  currency: string
  subtotal: string
  creditsApplied: string
  total: string
  cutoffSeq: number
}

export interface InvoiceRows {
  /**
   * Writes an invoice and its lines, replacing a draft's. An invoice written final gets the
   * tenant's next number; `finalizedAtMs` (and `paidAtMs` for one already paid) is `nowMs`.
   */
  write(tenantId: number, header: InvoiceHeader, lines: InvoiceLine[], nowMs: number): Awaitable<void>
  get(tenantId: number, id: string): Awaitable<InvoiceRecord | undefined>
  /** The invoice of a subscription at a boundary. */
  atBoundary(tenantId: number, subscriptionId: string, boundaryMs: number): Awaitable<InvoiceRecord | undefined>
  /** Newest first (boundary, then id), after the cursor key when given. */
  list(tenantId: number, query: { customerId?: string; after?: [number, string]; limit: number }): Awaitable<InvoiceRecord[]>
  /** A subscription's final (finalized or paid) invoices that close a period, by boundary. */
  finalClosing(tenantId: number, subscriptionId: string): Awaitable<InvoiceRecord[]>
  /** A customer's final invoices that close a period: what they cover and up to which event. */
  finalPeriods(tenantId: number, customerId: string): Awaitable<{ startMs: number; endMs: number; cutoffSeq: number }[]>
  /** The lines with their source events, for recomputing and adjusting. */
  lines(tenantId: number, invoiceId: string): Awaitable<InvoiceLine[]>
  /** The lines as shown, with their event counts. */
  storedLines(tenantId: number, invoiceId: string): Awaitable<StoredLine[]>
  /** A line's source events (seqs, sorted); undefined when there is no such line. */
  lineSeqs(tenantId: number, invoiceId: string, position: number): Awaitable<number[] | undefined>
  payments(tenantId: number, invoiceId: string): Awaitable<Payment[]>
  /** Records a payment after the invoice's others. */
  addPayment(tenantId: number, invoiceId: string, payment: Payment): Awaitable<void>
  setPaid(tenantId: number, invoiceId: string, amountPaid: string, status: InvoiceStatus, paidAtMs: number | null): Awaitable<void>
  setVoid(tenantId: number, invoiceId: string, atMs: number, creditNote: NonNullable<Invoice['creditNote']>): Awaitable<void>
}

/** Events noted as changing an invoiced period (late, imported, voided, amended). */
export interface BillingChangeRows {
  /** Events with seq up to this were looked at by the last scan for late arrivals. */
  scannedThrough(): Awaitable<number>
  setScannedThrough(seq: number): Awaitable<void>
  add(tenantId: number, customerId: string, ts: number, seq: number): Awaitable<void>
  pending(tenantId: number, customerId: string, fromMs: number, toMs: number): Awaitable<{ ts: number; seq: number }[]>
  consume(tenantId: number, customerId: string, fromMs: number, toMs: number): Awaitable<void>
}

/** Credits bought (top-ups), until an invoice bills them. */
export interface PurchaseRows {
  uninvoiced(tenantId: number, customerId: string): Awaitable<{ grantId: string; credits: string; amount: string; atMs: number }[]>
  markInvoiced(tenantId: number, customerId: string, grantId: string, invoiceId: string): Awaitable<void>
  /** Records a purchase once per grant (a repeated top-up id records nothing). */
  record(tenantId: number, customerId: string, purchase: { grantId: string; credits: string; amount: string; atMs: number }): Awaitable<void>
}

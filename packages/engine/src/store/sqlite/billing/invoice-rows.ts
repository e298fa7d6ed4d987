// Invoices and their lines as rows: writing a computed invoice, reading one back.
import type Database from 'better-sqlite3'
import type { InvoiceLine } from '../../../billing/lines.js'
import type { Invoice, InvoiceStatus, Payment, StoredLine } from '../../../billing/model.js'
import type { InvoiceHeader, InvoiceRecord, InvoiceRows } from '../../../billing/storage.js'
import { lineId } from '../../../billing/invoice-view.js'

interface InvoiceRow {
  id: string
  number: number | null
  customer_id: string
  subscription_id: string
  boundary: number
  status: InvoiceStatus
  period_start: number
  period_end: number
  currency: string
  subtotal: string
  credits_applied: string
  total: string
  amount_paid: string
  cutoff_seq: number
  created_at: number
  finalized_at: number | null
  paid_at: number | null
  voided_at: number | null
  credit_note: string | null
}

interface LineRow {
  position: number
  charge_key: string
  kind: StoredLine['kind']
  description: string
  quantity: string
  amount: string
  credits: string | null
  period_start: number
  period_end: number
  dimension: string | null
  advance: number
  event_count: number
  event_seqs: Buffer | null
}

/** A line row's fields as the engine's line shape (without its events). */
function lineFields(r: LineRow) {
  return {
    chargeKey: r.charge_key,
    kind: r.kind,
    description: r.description,
    quantity: r.quantity,
    amount: r.amount,
    ...(r.credits !== null ? { credits: r.credits } : {}),
    periodStartMs: r.period_start,
    periodEndMs: r.period_end,
    ...(r.dimension !== null ? { dimension: r.dimension } : {}),
  }
}

export function encodeSeqs(seqs: readonly number[]): Buffer {
  return Buffer.from(new Float64Array(seqs).buffer)
}

export function decodeSeqs(blob: Buffer | null): number[] {
  if (blob === null || blob.length === 0) return []
  const copy = new Uint8Array(blob) // aligned, whatever the buffer's offset
  return Array.from(new Float64Array(copy.buffer, 0, copy.length / 8))
}

export class SqliteInvoiceRows implements InvoiceRows {
  private readonly stmt

  constructor(db: Database.Database) {
    this.stmt = {
      byId: db.prepare('SELECT * FROM invoices WHERE tenant_id = ? AND id = ?'),
      byBoundary: db.prepare('SELECT * FROM invoices WHERE tenant_id = ? AND subscription_id = ? AND boundary = ?'),
      lines: db.prepare('SELECT * FROM invoice_lines WHERE tenant_id = ? AND invoice_id = ? ORDER BY position'),
      line: db.prepare('SELECT * FROM invoice_lines WHERE tenant_id = ? AND invoice_id = ? AND position = ?'),
      payments: db.prepare('SELECT id, amount, method, reference, at FROM invoice_payments WHERE tenant_id = ? AND invoice_id = ? ORDER BY position'),
      insert: db.prepare(
        `INSERT INTO invoices (tenant_id, id, number, customer_id, subscription_id, boundary, status, period_start, period_end, currency,
           subtotal, credits_applied, total, amount_paid, cutoff_seq, created_at, finalized_at, paid_at)
         VALUES (@tenant, @id, @number, @customer, @subscription, @boundary, @status, @periodStart, @periodEnd, @currency,
           @subtotal, @creditsApplied, @total, '0', @cutoffSeq, @now, @finalizedAt, @paidAt)
         ON CONFLICT (tenant_id, id) DO UPDATE SET number = excluded.number, status = excluded.status,
           period_start = excluded.period_start, period_end = excluded.period_end, subtotal = excluded.subtotal,
           credits_applied = excluded.credits_applied, total = excluded.total, cutoff_seq = excluded.cutoff_seq,
           finalized_at = excluded.finalized_at, paid_at = excluded.paid_at`,
      ),
      deleteLines: db.prepare('DELETE FROM invoice_lines WHERE tenant_id = ? AND invoice_id = ?'),
      insertLine: db.prepare(
        `INSERT INTO invoice_lines (tenant_id, invoice_id, position, charge_key, kind, description, quantity, amount, credits,
           period_start, period_end, dimension, advance, event_count, event_seqs)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      // "number IS NOT NULL" lets SQLite use the partial index: max() reads one entry, not every invoice.
      listAll: db.prepare('SELECT * FROM invoices WHERE tenant_id = ? AND (? IS NULL OR (boundary, id) < (?, ?)) ORDER BY boundary DESC, id DESC LIMIT ?'),
      listCustomer: db.prepare(
        'SELECT * FROM invoices WHERE tenant_id = ? AND customer_id = ? AND (? IS NULL OR (boundary, id) < (?, ?)) ORDER BY boundary DESC, id DESC LIMIT ?',
      ),
      finalClosing: db.prepare(
        "SELECT * FROM invoices WHERE tenant_id = ? AND subscription_id = ? AND status IN ('finalized', 'paid') AND period_end = boundary ORDER BY boundary",
      ),
      finalPeriods: db.prepare(
        "SELECT period_start, period_end, cutoff_seq FROM invoices INDEXED BY invoices_by_customer WHERE tenant_id = ? AND customer_id = ? AND status IN ('finalized', 'paid') AND period_end = boundary",
      ).raw(),
      addPayment: db.prepare(
        `INSERT INTO invoice_payments (tenant_id, invoice_id, id, position, amount, method, reference, at)
         VALUES (?, ?, ?, (SELECT count(*) + 1 FROM invoice_payments WHERE tenant_id = ? AND invoice_id = ?), ?, ?, ?, ?)`,
      ),
      setPaid: db.prepare('UPDATE invoices SET amount_paid = ?, status = ?, paid_at = ? WHERE tenant_id = ? AND id = ?'),
      setVoid: db.prepare("UPDATE invoices SET status = 'void', voided_at = ?, credit_note = ? WHERE tenant_id = ? AND id = ?"),
      nextNumber: db.prepare('SELECT coalesce(max(number), 0) + 1 FROM invoices WHERE tenant_id = ? AND number IS NOT NULL').pluck(),
    }
  }

  /** Writes an invoice and its lines (replacing a draft's), in the caller's transaction. */
  write(tenantId: number, header: InvoiceHeader, lines: InvoiceLine[], nowMs: number): void {
    const final = header.status !== 'draft'
    this.stmt.insert.run({
      tenant: tenantId, id: header.id, customer: header.customerId, subscription: header.subscriptionId, boundary: header.boundary,
      status: header.status, periodStart: header.periodStartMs, periodEnd: header.periodEndMs, currency: header.currency,
      subtotal: header.subtotal, creditsApplied: header.creditsApplied, total: header.total, cutoffSeq: header.cutoffSeq, now: nowMs,
      number: final ? this.stmt.nextNumber.get(tenantId) : null,
      finalizedAt: final ? nowMs : null,
      paidAt: header.status === 'paid' ? nowMs : null,
    })
    this.stmt.deleteLines.run(tenantId, header.id)
    lines.forEach((l, i) => {
      this.stmt.insertLine.run(
        tenantId, header.id, i + 1, l.chargeKey, l.kind, l.description, l.quantity, l.amount, l.credits ?? null,
        l.periodStartMs, l.periodEndMs, l.dimension ?? null, l.advance ? 1 : 0, l.eventSeqs?.length ?? 0,
        l.eventSeqs && l.eventSeqs.length > 0 ? encodeSeqs(l.eventSeqs) : null,
      )
    })
  }

  get(tenantId: number, id: string): InvoiceRecord | undefined {
    const row = this.stmt.byId.get(tenantId, id) as InvoiceRow | undefined
    return row && toRecord(row)
  }

  atBoundary(tenantId: number, subscriptionId: string, boundaryMs: number): InvoiceRecord | undefined {
    const row = this.stmt.byBoundary.get(tenantId, subscriptionId, boundaryMs) as InvoiceRow | undefined
    return row && toRecord(row)
  }

  list(tenantId: number, q: { customerId?: string; after?: [number, string]; limit: number }): InvoiceRecord[] {
    const [b, id] = q.after ?? [null, null]
    const rows = (q.customerId === undefined
      ? this.stmt.listAll.all(tenantId, b, b, id, q.limit)
      : this.stmt.listCustomer.all(tenantId, q.customerId, b, b, id, q.limit)) as InvoiceRow[]
    return rows.map(toRecord)
  }

  finalClosing(tenantId: number, subscriptionId: string): InvoiceRecord[] {
    return (this.stmt.finalClosing.all(tenantId, subscriptionId) as InvoiceRow[]).map(toRecord)
  }

  finalPeriods(tenantId: number, customerId: string): { startMs: number; endMs: number; cutoffSeq: number }[] {
    return (this.stmt.finalPeriods.all(tenantId, customerId) as [number, number, number][]).map(([startMs, endMs, cutoffSeq]) => ({ startMs, endMs, cutoffSeq }))
  }

  lines(tenantId: number, invoiceId: string): InvoiceLine[] {
    return (this.stmt.lines.all(tenantId, invoiceId) as LineRow[]).map((r) => ({
      ...lineFields(r),
      ...(r.advance ? { advance: true } : {}),
      eventSeqs: decodeSeqs(r.event_seqs),
    }))
  }

  storedLines(tenantId: number, invoiceId: string): StoredLine[] {
    return (this.stmt.lines.all(tenantId, invoiceId) as LineRow[]).map((r) => ({ id: lineId(r.position), ...lineFields(r), eventCount: r.event_count }))
  }

  lineSeqs(tenantId: number, invoiceId: string, position: number): number[] | undefined {
    const row = this.stmt.line.get(tenantId, invoiceId, position) as LineRow | undefined
    return row && decodeSeqs(row.event_seqs)
  }

  payments(tenantId: number, invoiceId: string): Payment[] {
    return (this.stmt.payments.all(tenantId, invoiceId) as { id: string; amount: string; method: string; reference: string | null; at: number }[])
      .map((p) => ({ id: p.id, amount: p.amount, method: p.method, reference: p.reference, atMs: p.at }))
  }

  addPayment(tenantId: number, invoiceId: string, p: Payment): void {
    this.stmt.addPayment.run(tenantId, invoiceId, p.id, tenantId, invoiceId, p.amount, p.method, p.reference, p.atMs)
  }

  setPaid(tenantId: number, invoiceId: string, amountPaid: string, status: InvoiceStatus, paidAtMs: number | null): void {
    this.stmt.setPaid.run(amountPaid, status, paidAtMs, tenantId, invoiceId)
  }

  setVoid(tenantId: number, invoiceId: string, atMs: number, creditNote: NonNullable<Invoice['creditNote']>): void {
    this.stmt.setVoid.run(atMs, JSON.stringify(creditNote), tenantId, invoiceId)
  }
}

function toRecord(r: InvoiceRow): InvoiceRecord {
  return {
    id: r.id,
    number: r.number,
    customerId: r.customer_id,
    subscriptionId: r.subscription_id,
    boundaryMs: r.boundary,
    status: r.status,
    periodStartMs: r.period_start,
    periodEndMs: r.period_end,
    currency: r.currency,
    subtotal: r.subtotal,
    creditsApplied: r.credits_applied,
    total: r.total,
    amountPaid: r.amount_paid,
    cutoffSeq: r.cutoff_seq,
    createdAtMs: r.created_at,
    finalizedAtMs: r.finalized_at,
    paidAtMs: r.paid_at,
    voidedAtMs: r.voided_at,
    creditNote: r.credit_note === null ? null : (JSON.parse(r.credit_note) as Invoice['creditNote']),
  }
}

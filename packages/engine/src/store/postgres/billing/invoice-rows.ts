// Invoices and their lines as rows: writing a computed invoice, reading one back.
import type { InvoiceLine } from '../../../billing/lines.js'
import type { Invoice, InvoiceStatus, Payment, StoredLine } from '../../../billing/model.js'
import type { InvoiceHeader, InvoiceRecord, InvoiceRows } from '../../../billing/storage.js'
import { lineId } from '../../../billing/invoice-view.js'
import type { Sql } from '../sql.js'

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
  advance: boolean
  event_count: number
  event_seqs: number[] | null
}

const INVOICE_COLUMNS = `id, number, customer_id, subscription_id, boundary, status, period_start, period_end, currency, subtotal, credits_applied,
  total, amount_paid, cutoff_seq, created_at, finalized_at, paid_at, voided_at, credit_note`
const LINE_COLUMNS = 'position, charge_key, kind, description, quantity, amount, credits, period_start, period_end, dimension, advance, event_count'

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

export class PgInvoiceRows implements InvoiceRows {
  constructor(private readonly sql: Sql) {}

  /** Writes an invoice and its lines (replacing a draft's), in the caller's write transaction: the number is the next under the write lock. */
  async write(tenantId: number, header: InvoiceHeader, lines: InvoiceLine[], nowMs: number): Promise<void> {
    const final = header.status !== 'draft'
    const number = final
      ? (await this.sql.one<{ n: number }>('invoices_next_number', 'SELECT coalesce(max(number), 0) + 1 AS n FROM invoices WHERE tenant_id = $1 AND number IS NOT NULL', [tenantId]))!.n
      : null
    await this.sql.run(
      'invoices_write',
      `INSERT INTO invoices (tenant_id, id, number, customer_id, subscription_id, boundary, status, period_start, period_end, currency,
         subtotal, credits_applied, total, amount_paid, cutoff_seq, created_at, finalized_at, paid_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, '0', $14, $15, $16, $17)
       ON CONFLICT (tenant_id, id) DO UPDATE SET number = excluded.number, status = excluded.status,
         period_start = excluded.period_start, period_end = excluded.period_end, subtotal = excluded.subtotal,
         credits_applied = excluded.credits_applied, total = excluded.total, cutoff_seq = excluded.cutoff_seq,
         finalized_at = excluded.finalized_at, paid_at = excluded.paid_at`,
      [
        tenantId, header.id, number, header.customerId, header.subscriptionId, header.boundary, header.status, header.periodStartMs, header.periodEndMs,
        header.currency, header.subtotal, header.creditsApplied, header.total, header.cutoffSeq, nowMs, final ? nowMs : null, header.status === 'paid' ? nowMs : null,
      ],
    )
    await this.sql.run('invoices_delete_lines', 'DELETE FROM invoice_lines WHERE tenant_id = $1 AND invoice_id = $2', [tenantId, header.id])
    if (lines.length === 0) return
    // All lines in one statement: an invoice of many dimension values is one round trip.
    await this.sql.run(
      'invoices_insert_lines',
      `INSERT INTO invoice_lines (tenant_id, invoice_id, position, charge_key, kind, description, quantity, amount, credits,
         period_start, period_end, dimension, advance, event_count, event_seqs)
       SELECT $1, $2, l.position, l.charge_key, l.kind, l.description, l.quantity, l.amount, l.credits, l.period_start, l.period_end,
         l.dimension, l.advance, l.event_count, CASE WHEN l.event_count = 0 THEN NULL ELSE string_to_array(l.event_seqs, ',')::bigint[] END
       FROM unnest($3::int[], $4::text[], $5::text[], $6::text[], $7::numeric[], $8::numeric[], $9::numeric[], $10::bigint[], $11::bigint[],
         $12::text[], $13::boolean[], $14::int[], $15::text[])
         AS l (position, charge_key, kind, description, quantity, amount, credits, period_start, period_end, dimension, advance, event_count, event_seqs)`,
      [
        tenantId, header.id,
        lines.map((_, i) => i + 1), lines.map((l) => l.chargeKey), lines.map((l) => l.kind), lines.map((l) => l.description),
        lines.map((l) => l.quantity), lines.map((l) => l.amount), lines.map((l) => l.credits ?? null),
        lines.map((l) => l.periodStartMs), lines.map((l) => l.periodEndMs), lines.map((l) => l.dimension ?? null),
        lines.map((l) => l.advance === true), lines.map((l) => l.eventSeqs?.length ?? 0), lines.map((l) => (l.eventSeqs ?? []).join(',')),
      ],
    )
  }

  async get(tenantId: number, id: string): Promise<InvoiceRecord | undefined> {
    const row = await this.sql.one<InvoiceRow>('invoices_get', `SELECT ${INVOICE_COLUMNS} FROM invoices WHERE tenant_id = $1 AND id = $2`, [tenantId, id])
    return row && toRecord(row)
  }

  async atBoundary(tenantId: number, subscriptionId: string, boundaryMs: number): Promise<InvoiceRecord | undefined> {
    const row = await this.sql.one<InvoiceRow>(
      'invoices_at_boundary', `SELECT ${INVOICE_COLUMNS} FROM invoices WHERE tenant_id = $1 AND subscription_id = $2 AND boundary = $3`, [tenantId, subscriptionId, boundaryMs],
    )
    return row && toRecord(row)
  }

  async list(tenantId: number, q: { customerId?: string; after?: [number, string]; limit: number }): Promise<InvoiceRecord[]> {
    const [b, id] = q.after ?? [null, null]
    const page = `AND ($2::bigint IS NULL OR (boundary, id) < ($2, $3::text)) ORDER BY boundary DESC, id DESC LIMIT $4`
    const rows = q.customerId === undefined
      ? await this.sql.rows<InvoiceRow>('invoices_list', `SELECT ${INVOICE_COLUMNS} FROM invoices WHERE tenant_id = $1 ${page}`, [tenantId, b, id, q.limit])
      : await this.sql.rows<InvoiceRow>(
        'invoices_list_customer', `SELECT ${INVOICE_COLUMNS} FROM invoices WHERE tenant_id = $1 AND customer_id = $5 ${page}`, [tenantId, b, id, q.limit, q.customerId],
      )
    return rows.map(toRecord)
  }

  async finalClosing(tenantId: number, subscriptionId: string): Promise<InvoiceRecord[]> {
    const rows = await this.sql.rows<InvoiceRow>(
      'invoices_final_closing',
      `SELECT ${INVOICE_COLUMNS} FROM invoices WHERE tenant_id = $1 AND subscription_id = $2 AND status IN ('finalized', 'paid') AND period_end = boundary ORDER BY boundary`,
      [tenantId, subscriptionId],
    )
    return rows.map(toRecord)
  }

  async finalPeriods(tenantId: number, customerId: string): Promise<{ startMs: number; endMs: number; cutoffSeq: number }[]> {
    const rows = await this.sql.rows<{ period_start: number; period_end: number; cutoff_seq: number }>(
      'invoices_final_periods',
      "SELECT period_start, period_end, cutoff_seq FROM invoices WHERE tenant_id = $1 AND customer_id = $2 AND status IN ('finalized', 'paid') AND period_end = boundary",
      [tenantId, customerId],
    )
    return rows.map((r) => ({ startMs: r.period_start, endMs: r.period_end, cutoffSeq: r.cutoff_seq }))
  }

  async lines(tenantId: number, invoiceId: string): Promise<InvoiceLine[]> {
    const rows = await this.sql.rows<LineRow>(
      'invoices_lines_seqs', `SELECT ${LINE_COLUMNS}, event_seqs FROM invoice_lines WHERE tenant_id = $1 AND invoice_id = $2 ORDER BY position`, [tenantId, invoiceId],
    )
    return rows.map((r) => ({ ...lineFields(r), ...(r.advance ? { advance: true } : {}), eventSeqs: r.event_seqs ?? [] }))
  }

  async storedLines(tenantId: number, invoiceId: string): Promise<StoredLine[]> {
    // Without the seqs: an invoice as shown never reads its (possibly millions of) event seqs.
    const rows = await this.sql.rows<LineRow>('invoices_lines', `SELECT ${LINE_COLUMNS} FROM invoice_lines WHERE tenant_id = $1 AND invoice_id = $2 ORDER BY position`, [tenantId, invoiceId])
    return rows.map((r) => ({ id: lineId(r.position), ...lineFields(r), eventCount: r.event_count }))
  }

  async lineSeqs(tenantId: number, invoiceId: string, position: number): Promise<number[] | undefined> {
    const row = await this.sql.one<{ event_seqs: number[] | null }>(
      'invoices_line_seqs', 'SELECT event_seqs FROM invoice_lines WHERE tenant_id = $1 AND invoice_id = $2 AND position = $3', [tenantId, invoiceId, position],
    )
    return row && (row.event_seqs ?? [])
  }

  async payments(tenantId: number, invoiceId: string): Promise<Payment[]> {
    const rows = await this.sql.rows<{ id: string; amount: string; method: string; reference: string | null; at: number }>(
      'invoices_payments', 'SELECT id, amount, method, reference, at FROM invoice_payments WHERE tenant_id = $1 AND invoice_id = $2 ORDER BY position', [tenantId, invoiceId],
    )
    return rows.map((p) => ({ id: p.id, amount: p.amount, method: p.method, reference: p.reference, atMs: p.at }))
  }

  async addPayment(tenantId: number, invoiceId: string, p: Payment): Promise<void> {
    await this.sql.run(
      'invoices_add_payment',
      `INSERT INTO invoice_payments (tenant_id, invoice_id, id, position, amount, method, reference, at)
       VALUES ($1, $2, $3, (SELECT count(*) + 1 FROM invoice_payments WHERE tenant_id = $1 AND invoice_id = $2), $4, $5, $6, $7)`,
      [tenantId, invoiceId, p.id, p.amount, p.method, p.reference, p.atMs],
    )
  }

  async setPaid(tenantId: number, invoiceId: string, amountPaid: string, status: InvoiceStatus, paidAtMs: number | null): Promise<void> {
    await this.sql.run('invoices_set_paid', 'UPDATE invoices SET amount_paid = $1, status = $2, paid_at = $3 WHERE tenant_id = $4 AND id = $5', [amountPaid, status, paidAtMs, tenantId, invoiceId])
  }

  async setVoid(tenantId: number, invoiceId: string, atMs: number, creditNote: NonNullable<Invoice['creditNote']>): Promise<void> {
    await this.sql.run(
      'invoices_set_void', "UPDATE invoices SET status = 'void', voided_at = $1, credit_note = $2 WHERE tenant_id = $3 AND id = $4", [atMs, JSON.stringify(creditNote), tenantId, invoiceId],
    )
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

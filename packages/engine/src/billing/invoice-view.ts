// An invoice as the API shows it: the stored header, its lines and payments, and what is due.
import { ZERO, decimal } from '../decimal.js'
import { formatMoney } from '../rating/index.js'
import type { Invoice } from './model.js'
import type { InvoiceRecord } from './storage.js'
import type { Tx } from '../store/storage.js'

export const lineId = (position: number) => `li_${position}`
export const linePosition = (id: string) => (/^li_(\d{1,9})$/.test(id) ? Number(id.slice(3)) : undefined)

export async function invoiceView(tx: Tx, tenantId: number, r: InvoiceRecord): Promise<Invoice> {
  const [lines, payments] = await Promise.all([tx.invoices.storedLines(tenantId, r.id), tx.invoices.payments(tenantId, r.id)])
  const due = r.status === 'void' || r.status === 'draft' ? ZERO : decimal(r.total).minus(r.amountPaid)
  return {
    id: r.id,
    number: r.number,
    customerId: r.customerId,
    subscriptionId: r.subscriptionId,
    status: r.status,
    periodStartMs: r.periodStartMs,
    periodEndMs: r.periodEndMs,
    currency: r.currency,
    lines,
    subtotal: r.subtotal,
    creditsApplied: r.creditsApplied,
    total: r.total,
    amountPaid: r.amountPaid,
    amountDue: formatMoney(due.lt(0) ? ZERO : due, r.currency),
    payments,
    creditNote: r.creditNote,
    createdAtMs: r.createdAtMs,
    finalizedAtMs: r.finalizedAtMs,
    paidAtMs: r.paidAtMs,
    voidedAtMs: r.voidedAtMs,
  }
}

export async function getInvoiceView(tx: Tx, tenantId: number, id: string): Promise<Invoice | undefined> {
  const r = await tx.invoices.get(tenantId, id)
  return r && invoiceView(tx, tenantId, r)
}

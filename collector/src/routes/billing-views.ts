// JSON views of subscriptions and invoices (CONTRACT §4 "Exact shapes"), and billing failures
// as HTTP errors.
import type { BillingFailure, Invoice, Subscription } from '@meterkit/engine'
import { formatTimestamp } from '@meterkit/protocol'
import { HttpError } from '../http-error.js'

const time = (ms: number | null) => (ms === null ? null : formatTimestamp(ms))

export function subscriptionJson(s: Subscription) {
  return {
    id: s.id,
    customerId: s.customerId,
    status: s.status,
    plan: s.plan,
    startAt: formatTimestamp(s.startMs),
    endAt: time(s.endMs),
    currentPeriodStart: s.currentPeriod ? formatTimestamp(s.currentPeriod.startMs) : null,
    currentPeriodEnd: s.currentPeriod ? formatTimestamp(s.currentPeriod.endMs) : null,
    billedThrough: time(s.billedThroughMs),
    phases: s.phases.map((p) => ({ plan: p.planKey, startAt: formatTimestamp(p.startMs) })),
    createdAt: formatTimestamp(s.createdAtMs),
  }
}

export function invoiceJson(i: Invoice) {
  return {
    id: i.id,
    number: i.number,
    customerId: i.customerId,
    subscriptionId: i.subscriptionId,
    status: i.status,
    periodStart: formatTimestamp(i.periodStartMs),
    periodEnd: formatTimestamp(i.periodEndMs),
    currency: i.currency,
    lines: i.lines.map((l) => ({
      id: l.id,
      chargeKey: l.chargeKey,
      kind: l.kind,
      description: l.description,
      quantity: l.quantity,
      amount: l.amount,
      ...(l.credits !== undefined ? { credits: l.credits } : {}),
      ...(l.dimension !== undefined ? { dimension: JSON.parse(l.dimension) as unknown } : {}),
      periodStart: formatTimestamp(l.periodStartMs),
      periodEnd: formatTimestamp(l.periodEndMs),
      eventCount: l.eventCount,
    })),
    subtotal: i.subtotal,
    creditsApplied: i.creditsApplied,
    total: i.total,
    amountPaid: i.amountPaid,
    amountDue: i.amountDue,
    payments: i.payments.map((p) => ({ id: p.id, amount: p.amount, method: p.method, reference: p.reference, at: formatTimestamp(p.atMs) })),
    creditNote: i.creditNote && { id: i.creditNote.id, amount: i.creditNote.amount, reason: i.creditNote.reason, createdAt: formatTimestamp(i.creditNote.atMs) },
    createdAt: formatTimestamp(i.createdAtMs),
    finalizedAt: time(i.finalizedAtMs),
    paidAt: time(i.paidAtMs),
    voidedAt: time(i.voidedAtMs),
  }
}

export type InvoiceJson = ReturnType<typeof invoiceJson>

export function billingError(f: BillingFailure): HttpError {
  return new HttpError(f.code === 'not_found' ? 'not_found' : f.code === 'conflict' ? 'conflict' : 'invalid_request', f.message)
}

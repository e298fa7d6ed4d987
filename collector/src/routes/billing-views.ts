// JSON views of subscriptions and invoices (CONTRACT §4 "Exact shapes"), and billing failures
// as HTTP errors.
import { z } from '@hono/zod-openapi'
import type { BillingFailure, Invoice, Subscription } from '@meterkit/engine'
import { formatTimestamp } from '@meterkit/protocol'
import { HttpError } from '../http-error.js'
import { decimal, jsonValue, timestamp } from '../openapi/index.js'

const time = (ms: number | null) => (ms === null ? null : formatTimestamp(ms))

export const subscriptionSchema = z.object({
  id: z.string(),
  customerId: z.string(),
  status: z.enum(['active', 'canceled', 'scheduled']),
  plan: z.string().meta({ description: 'The key of the plan in force now' }),
  startAt: timestamp,
  endAt: timestamp.nullable(),
  currentPeriodStart: timestamp.nullable(),
  currentPeriodEnd: timestamp.nullable(),
  billedThrough: timestamp.nullable(),
  phases: z.array(z.object({ plan: z.string(), startAt: timestamp })).meta({ description: 'Plan changes, in order' }),
  createdAt: timestamp,
}).meta({ id: 'Subscription' })

export const invoiceSchema = z.object({
  id: z.string(),
  number: z.number().int().nullable().meta({ description: 'Given at finalization; null on drafts' }),
  customerId: z.string(),
  subscriptionId: z.string(),
  status: z.enum(['draft', 'finalized', 'paid', 'void']),
  periodStart: timestamp,
  periodEnd: timestamp,
  currency: z.string(),
  lines: z.array(z.object({
    id: z.string(),
    chargeKey: z.string(),
    kind: z.enum(['flat', 'usage', 'proration', 'overage', 'top_up', 'adjustment']),
    description: z.string(),
    quantity: decimal,
    amount: decimal.meta({ description: 'Rounded once, half-up, to the currency\'s minor unit' }),
    credits: decimal.optional(),
    dimension: jsonValue.optional(),
    periodStart: timestamp,
    periodEnd: timestamp,
    eventCount: z.number().int().meta({ description: 'Source events behind the line: GET /v1/invoices/{id}/lines/{lineId}/events' }),
  })),
  subtotal: decimal,
  creditsApplied: decimal,
  total: decimal,
  amountPaid: decimal,
  amountDue: decimal,
  payments: z.array(z.object({ id: z.string(), amount: decimal, method: z.string(), reference: z.string().nullable(), at: timestamp })),
  creditNote: z.object({ id: z.string(), amount: decimal, reason: z.string().nullable(), createdAt: timestamp }).nullable(),
  createdAt: timestamp,
  finalizedAt: timestamp.nullable(),
  paidAt: timestamp.nullable(),
  voidedAt: timestamp.nullable(),
}).meta({ id: 'Invoice' })

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

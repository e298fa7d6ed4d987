// Subscriptions and invoices as the engine hands them out, and the billing port of the Store.
import type { PlanConfig } from '@meterkit/protocol'
import type { Page } from '../store/port.js'
import type { InvoiceLine, LineKind } from './lines.js'

export interface SubscriptionPhaseView {
  startMs: number
  planKey: string
  plan: PlanConfig
}

export interface Subscription {
  id: string
  customerId: string
  status: 'active' | 'canceled' | 'scheduled'
  startMs: number
  endMs: number | null
  plan: string
  phases: SubscriptionPhaseView[]
  currentPeriod: { startMs: number; endMs: number } | null
  billedThroughMs: number | null
  createdAtMs: number
}

export type InvoiceStatus = 'draft' | 'finalized' | 'paid' | 'void'

export interface StoredLine extends Omit<InvoiceLine, 'eventSeqs'> {
  id: string
  kind: LineKind
  eventCount: number
}

export interface Payment {
  id: string
  amount: string
  method: string
  reference: string | null
  atMs: number
}

export interface Invoice {
  id: string
  number: number | null
  customerId: string
  subscriptionId: string
  status: InvoiceStatus
  periodStartMs: number
  periodEndMs: number
  currency: string
  lines: StoredLine[]
  subtotal: string
  creditsApplied: string
  total: string
  amountPaid: string
  amountDue: string
  payments: Payment[]
  creditNote: { id: string; amount: string; reason: string | null; atMs: number } | null
  createdAtMs: number
  finalizedAtMs: number | null
  paidAtMs: number | null
  voidedAtMs: number | null
}

/** Expected failures of billing operations, as values; `field` names what was wrong. */
export type BillingFailure = { ok: false; code: 'not_found' | 'invalid' | 'conflict'; message: string }
export type BillingResult<T> = { ok: true; value: T } | BillingFailure

export interface SubscribeInput {
  id?: string
  customerId: string
  plan: string
  startMs: number
}

export interface BillingRunResult {
  finalized: string[]
  drafts: string[]
  adjustments: number
}

export interface SimulationRow {
  customerId: string
  currency: string
  actual: string
  simulated: string
  difference: string
}

/** CONTRACT §4 entitlements: numbers are decimal strings; a soft limit adds overLimit past the limit. */
export interface Entitlement {
  allowed: boolean
  limit?: string
  used?: string
  remaining?: string
  overLimit?: boolean
}

/** CONTRACT §4 quotes: what a hypothetical event costs now, in credits and in money. */
export interface Quote {
  customerId: string
  plan: string
  credits: string
  /** Money: charges in money plus credits at the plan's creditPrice, rounded once. */
  amount: string
  currency: string
  lines: { chargeKey: string; description: string; quantity: string; credits?: string; amount: string }[]
}

export interface BillingStore {
  quote(tenantId: number, input: { customerId: string; event: string; properties: import('@meterkit/protocol').Properties }, nowMs: number): Promise<BillingResult<Quote>>
  entitlement(tenantId: number, customerId: string, feature: string, nowMs: number): Promise<BillingResult<Entitlement>>
  /** Tenants with at least one subscription (the scheduler bills these). */
  billedTenants(): Promise<number[]>
  subscribe(tenantId: number, input: SubscribeInput, nowMs: number): Promise<BillingResult<{ subscription: Subscription; created: boolean }>>
  getSubscription(tenantId: number, id: string, nowMs: number): Promise<Subscription | undefined>
  listSubscriptions(tenantId: number, customerId: string, nowMs: number): Promise<Subscription[]>
  changePlan(tenantId: number, id: string, plan: string, atMs: number, nowMs: number): Promise<BillingResult<Subscription>>
  cancel(tenantId: number, id: string, atMs: number, nowMs: number): Promise<BillingResult<Subscription>>

  /** Closes every period that ended at or before `untilMs − grace`; drafts those inside the grace. Idempotent. */
  run(tenantId: number, untilMs: number, nowMs: number): Promise<BillingRunResult>
  /** The invoice the open period would get if it closed now. */
  upcoming(tenantId: number, customerId: string, nowMs: number): Promise<Invoice | undefined>
  getInvoice(tenantId: number, id: string): Promise<Invoice | undefined>
  listInvoices(tenantId: number, query: { customerId?: string; cursor?: string; limit: number }): Promise<Page<Invoice>>
  /** The source events of a line, oldest first. */
  lineEvents(tenantId: number, invoiceId: string, lineId: string, query: { cursor?: string; limit: number }): Promise<Page<{ id: string; timestampMs: number }> | undefined>
  pay(tenantId: number, invoiceId: string, payment: { amount: string; method: string; reference?: string }, nowMs: number): Promise<BillingResult<Invoice>>
  voidInvoice(tenantId: number, invoiceId: string, reason: string | null, nowMs: number): Promise<BillingResult<Invoice>>
  simulate(tenantId: number, request: { plan: PlanConfig; fromMs: number; toMs: number; customerIds?: string[] }): Promise<BillingResult<SimulationRow[]>>
}

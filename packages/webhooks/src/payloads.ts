// What a Meterkit webhook says: its event types and the `data` of each. Times are RFC 3339
// strings and amounts decimal strings, as everywhere on the wire.

export const WEBHOOK_EVENT_TYPES = ['balance.low', 'limit.reached', 'invoice.finalized', 'top_up.created'] as const
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number]

/** `balance.low`: a customer's available credits fell below the plan's `lowBalance`, once per crossing. */
export interface BalanceLowData {
  customerId: string
  balance: string
  available: string
  threshold: string
}

/** `limit.reached`: a metered feature's usage reached its limit in the current period, once per period. */
export interface LimitReachedData {
  customerId: string
  feature: string
  meter: string
  limit: string
  used: string
  /** A hard limit now refuses; a soft one only reports `overLimit`. */
  hard: boolean
  periodStart: string
  periodEnd: string
}

/** `top_up.created`: purchased credits were granted, by the API or by auto top-up. */
export interface TopUpCreatedData {
  id: string
  customerId: string
  grantId: string
  credits: string
  /** The money charged, in the plan currency; absent for a free top-up. */
  amount?: string
  currency?: string
  invoiceId?: string
  automatic: boolean
}

/** `invoice.finalized`: a billing run finalized an invoice (`paid` at once when nothing is due). */
export interface InvoiceFinalizedData {
  id: string
  number: number | null
  customerId: string
  subscriptionId: string
  status: 'draft' | 'finalized' | 'paid' | 'void'
  total: string
  currency: string
  periodStart: string
  periodEnd: string
}

export interface WebhookData {
  'balance.low': BalanceLowData
  'limit.reached': LimitReachedData
  'top_up.created': TopUpCreatedData
  'invoice.finalized': InvoiceFinalizedData
}

/**
 * The JSON body of every delivery, fixed when the event is enqueued. A union over the types, so
 * checking `payload.type` narrows `payload.data`.
 */
export type WebhookPayload<T extends WebhookEventType = WebhookEventType> = T extends WebhookEventType
  ? { type: T; data: WebhookData[T]; createdAt: string }
  : never

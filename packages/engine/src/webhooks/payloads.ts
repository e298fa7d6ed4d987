// What a webhook says: its event types, the `data` of each, and the body `{ type, data, createdAt }`.
// Times are RFC 3339 strings and amounts decimal strings, as everywhere on the wire.
import { type WEBHOOK_EVENTS, formatTimestamp } from '@meterkit/protocol'
import type { InvoiceFinalizedData, WebhookData, WebhookEventType } from '@meterkit/webhooks'
import type { Invoice } from '../billing/model.js'

export type {
  BalanceLowData,
  InvoiceFinalizedData,
  LimitReachedData,
  TopUpCreatedData,
  WebhookData,
  WebhookEventType,
  WebhookPayload,
} from '@meterkit/webhooks'

/** An endpoint of the tenant configuration's `webhooks`: where to send which events, and how to sign them. */
export interface WebhookEndpoint {
  url: string
  secret: string
  events: readonly string[]
}

// The configuration's event names and the receivers' package must name the same types.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
const sameEventTypes: Same<(typeof WEBHOOK_EVENTS)[number], WebhookEventType> = true
void sameEventTypes

export function webhookBody<T extends WebhookEventType>(type: T, data: WebhookData[T], atMs: number): string {
  return JSON.stringify({ type, data, createdAt: formatTimestamp(atMs) })
}

export function invoiceFinalizedData(invoice: Invoice): InvoiceFinalizedData {
  return {
    id: invoice.id,
    number: invoice.number,
    customerId: invoice.customerId,
    subscriptionId: invoice.subscriptionId,
    status: invoice.status,
    total: invoice.total,
    currency: invoice.currency,
    periodStart: formatTimestamp(invoice.periodStartMs),
    periodEnd: formatTimestamp(invoice.periodEndMs),
  }
}

// Webhook deliveries as the engine hands them out, and the webhook port of the Store.
import type { Page } from '../store/port.js'
import type { WebhookData, WebhookEndpoint, WebhookEventType, WebhookPayload } from './payloads.js'

/** `pending` until an attempt is answered 2xx (`delivered`) or the retry window ends (`failed`). */
export type DeliveryStatus = 'pending' | 'delivered' | 'failed'
export const DELIVERY_STATUSES: readonly DeliveryStatus[] = ['pending', 'delivered', 'failed']

/** One event for one endpoint, with what its attempts left behind (for inspection). */
export interface WebhookDelivery {
  /** `msg_…`, sent as `webhook-id` on every attempt. */
  id: string
  type: WebhookEventType
  url: string
  status: DeliveryStatus
  payload: WebhookPayload
  attempts: number
  createdAtMs: number
  nextAttemptAtMs: number | null
  lastAttemptAtMs: number | null
  /** The HTTP status of the last attempt; null when it got no answer (network error, timeout). */
  lastStatus: number | null
  lastError: string | null
  deliveredAtMs: number | null
}

/** A delivery whose next attempt is due: everything the dispatcher needs to send and sign it. */
export interface DueWebhook {
  id: string
  tenantId: number
  type: WebhookEventType
  url: string
  secret: string
  /** The JSON body, byte for byte the same on every attempt. */
  body: string
  attempts: number
  createdAtMs: number
}

export interface AttemptResult {
  /** The endpoint answered 2xx. */
  ok: boolean
  status?: number
  error?: string
  /** The endpoint's `Retry-After`, in ms: the next attempt waits at least this long. */
  retryAfterMs?: number
  nowMs: number
}

export interface DeliveryQuery {
  status?: DeliveryStatus
  /** Opaque cursor from a previous page. */
  cursor?: string
  limit: number
}

/** The durable outbox behind webhooks: at-least-once delivery, retried for up to three days. */
export interface WebhookStore {
  /** One delivery per endpoint subscribed to `type`; answers their ids (none when no endpoint subscribes). */
  enqueue<T extends WebhookEventType>(tenantId: number, endpoints: readonly WebhookEndpoint[], type: T, data: WebhookData[T], atMs: number): Promise<string[]>
  /** Pending deliveries whose next attempt is at or before `nowMs`, the longest-waiting first. */
  due(nowMs: number, limit: number): Promise<DueWebhook[]>
  /** Marks the delivery delivered, or schedules its next attempt, or marks it failed; undefined when it is not pending. */
  recordAttempt(id: string, result: AttemptResult): Promise<DeliveryStatus | undefined>
  /** A tenant's deliveries, newest first, cursor-paged. */
  list(tenantId: number, query: DeliveryQuery): Promise<Page<WebhookDelivery>>
}

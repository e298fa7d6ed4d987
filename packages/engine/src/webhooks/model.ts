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
  /** Set on a delivery made by a redeliver request: the delivery it sends again. */
  redeliveryOf: string | null
}

/** An endpoint kept over the API; deliveries go to these and to the configuration's. */
export interface StoredWebhookEndpoint {
  /** `we_…` */
  id: string
  url: string
  events: string[]
  secret: string
  createdAtMs: number
}

export interface WebhookEndpointInput {
  url: string
  events: readonly string[]
  secret: string
}

export type RedeliverResult =
  | { ok: true; delivery: WebhookDelivery }
  | { ok: false; code: 'not_found' | 'pending' }

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
  /**
   * Holds a due delivery for one sender until `untilMs` (its next attempt moves there), so that
   * of several collectors on one database only one sends it; false when it is not due any more.
   */
  lease(id: string, nowMs: number, untilMs: number): Promise<boolean>
  /** Marks the delivery delivered, or schedules its next attempt, or marks it failed; undefined when it is not pending. */
  recordAttempt(id: string, result: AttemptResult): Promise<DeliveryStatus | undefined>
  /** A tenant's deliveries, newest first, cursor-paged. */
  list(tenantId: number, query: DeliveryQuery): Promise<Page<WebhookDelivery>>
  /**
   * Sends a delivered or failed delivery again: a new delivery (new `webhook-id`, a new retry
   * window) with the same body, URL and secret, due at once. A pending one is still being retried.
   */
  redeliver(tenantId: number, id: string, nowMs: number): Promise<RedeliverResult>
  /** Deletes delivered and failed deliveries created before `beforeMs` (pending ones stay); answers how many. */
  prune(beforeMs: number): Promise<number>

  createEndpoint(tenantId: number, input: WebhookEndpointInput, nowMs: number): Promise<StoredWebhookEndpoint>
  listEndpoints(tenantId: number): Promise<StoredWebhookEndpoint[]>
  deleteEndpoint(tenantId: number, id: string): Promise<boolean>
}

// What services need of the webhook outbox inside their transactions: enqueued deliveries commit
// with the change that caused them, or not at all.
import type { Awaitable } from '../store/storage.js'
import type { WebhookData, WebhookEndpoint, WebhookEventType } from './payloads.js'

export interface OutboxWrites {
  /** Writes a delivery per endpoint subscribed to `type`: those given (the configuration's) and those kept over the API. */
  enqueue<T extends WebhookEventType>(tenantId: number, endpoints: readonly WebhookEndpoint[], type: T, data: WebhookData[T], atMs: number): Awaitable<string[]>
}

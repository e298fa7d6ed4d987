// The webhook outbox's writes on PostgreSQL: deliveries enqueued in the transaction of the change
// that caused them, so they commit with it or not at all.
import { randomBase62 } from '../../auth/keys.js'
import type { OutboxWrites } from '../../webhooks/storage.js'
import { type WebhookData, type WebhookEndpoint, type WebhookEventType, webhookBody } from '../../webhooks/payloads.js'
import type { Sql } from './sql.js'

export class PgOutboxWrites implements OutboxWrites {
  constructor(private readonly sql: Sql) {}

  /** One delivery per endpoint subscribed to `type` (the configuration's, then those kept over the API), due at once. */
  async enqueue<T extends WebhookEventType>(tenantId: number, endpoints: readonly WebhookEndpoint[], type: T, data: WebhookData[T], atMs: number): Promise<string[]> {
    const kept = await this.sql.rows<{ url: string; events: string; secret: string }>(
      'outbox_endpoints', 'SELECT url, events, secret FROM webhook_endpoints WHERE tenant_id = $1 ORDER BY seq', [tenantId],
    )
    const subscribed = [...endpoints, ...kept.map((e) => ({ url: e.url, secret: e.secret, events: JSON.parse(e.events) as string[] }))].filter((e) => e.events.includes(type))
    if (subscribed.length === 0) return []
    const body = webhookBody(type, data, atMs)
    const ids = subscribed.map(() => `msg_${randomBase62(24)}`)
    await this.sql.run(
      'outbox_enqueue',
      `INSERT INTO webhook_deliveries (id, tenant_id, type, url, secret, body, status, attempts, next_attempt_at, created_at)
       SELECT d.id, $1, $2, d.url, d.secret, $3, 'pending', 0, $4, $4 FROM unnest($5::text[], $6::text[], $7::text[]) WITH ORDINALITY AS d (id, url, secret, n) ORDER BY d.n`,
      [tenantId, type, body, atMs, ids, subscribed.map((e) => e.url), subscribed.map((e) => e.secret)],
    )
    return ids
  }
}

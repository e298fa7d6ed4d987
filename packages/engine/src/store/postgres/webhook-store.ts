// The webhook outbox behind the Store port on PostgreSQL: deliveries enqueued inside the
// engine's transactions (outbox-rows.ts), read, leased, recorded and listed here. What an attempt
// does to a delivery is webhooks/attempts.ts, the same for every store.
import type pg from 'pg'
import { randomBase62 } from '../../auth/keys.js'
import { attemptOutcome } from '../../webhooks/attempts.js'
import type {
  AttemptResult,
  DeliveryQuery,
  DeliveryStatus,
  DueWebhook,
  RedeliverResult,
  StoredWebhookEndpoint,
  WebhookDelivery,
  WebhookEndpointInput,
  WebhookStore,
} from '../../webhooks/model.js'
import type { WebhookData, WebhookEndpoint, WebhookEventType, WebhookPayload } from '../../webhooks/payloads.js'
import { decodeCursor, encodeCursor } from '../cursor.js'
import type { Page } from '../port.js'
import { poolTransaction } from './pool-transaction.js'
import type { PostgresStorage } from './postgres-storage.js'

interface DeliveryRow {
  seq: number
  id: string
  tenant_id: number
  type: WebhookEventType
  url: string
  secret: string
  body: string
  status: DeliveryStatus
  attempts: number
  next_attempt_at: number | null
  last_attempt_at: number | null
  last_status: number | null
  last_error: string | null
  created_at: number
  delivered_at: number | null
  redelivery_of: string | null
}

const VIEW_COLUMNS = 'seq, id, type, url, body, status, attempts, next_attempt_at, last_attempt_at, last_status, last_error, created_at, delivered_at, redelivery_of'

function toDelivery(r: DeliveryRow): WebhookDelivery {
  return {
    id: r.id,
    type: r.type,
    url: r.url,
    status: r.status,
    payload: JSON.parse(r.body) as WebhookPayload,
    attempts: r.attempts,
    createdAtMs: r.created_at,
    nextAttemptAtMs: r.next_attempt_at,
    lastAttemptAtMs: r.last_attempt_at,
    lastStatus: r.last_status,
    lastError: r.last_error,
    deliveredAtMs: r.delivered_at,
    redeliveryOf: r.redelivery_of,
  }
}

export class PgWebhookStore implements WebhookStore {
  constructor(private readonly pool: pg.Pool, private readonly storage: PostgresStorage, private readonly random: () => number = Math.random) {}

  private async rows<R extends pg.QueryResultRow>(name: string, text: string, values: unknown[] = []): Promise<R[]> {
    return (await this.pool.query<R>({ name, text, values })).rows
  }

  enqueue<T extends WebhookEventType>(tenantId: number, endpoints: readonly WebhookEndpoint[], type: T, data: WebhookData[T], atMs: number): Promise<string[]> {
    return this.storage.transaction('write', async (tx) => tx.outbox.enqueue(tenantId, endpoints, type, data, atMs))
  }

  async due(nowMs: number, limit: number): Promise<DueWebhook[]> {
    const rows = await this.rows<DeliveryRow>(
      'webhooks_due',
      `SELECT id, tenant_id, type, url, secret, body, attempts, created_at FROM webhook_deliveries
       WHERE status = 'pending' AND next_attempt_at <= $1 ORDER BY next_attempt_at, seq LIMIT $2`,
      [nowMs, limit],
    )
    return rows.map((r) => ({ id: r.id, tenantId: r.tenant_id, type: r.type, url: r.url, secret: r.secret, body: r.body, attempts: r.attempts, createdAtMs: r.created_at }))
  }

  async lease(id: string, nowMs: number, untilMs: number): Promise<boolean> {
    const { rowCount } = await this.pool.query({
      name: 'webhooks_lease',
      text: "UPDATE webhook_deliveries SET next_attempt_at = $1 WHERE id = $2 AND status = 'pending' AND next_attempt_at <= $3",
      values: [untilMs, id, nowMs],
    })
    return rowCount === 1
  }

  async recordAttempt(id: string, result: AttemptResult): Promise<DeliveryStatus | undefined> {
    return poolTransaction(this.pool, async (client) => {
      const row = (await client.query<DeliveryRow>({ name: 'webhooks_attempt_row', text: 'SELECT status, attempts, created_at FROM webhook_deliveries WHERE id = $1 FOR UPDATE', values: [id] })).rows[0]
      if (row === undefined || row.status !== 'pending') return undefined
      const o = attemptOutcome({ createdAtMs: row.created_at, attempts: row.attempts }, result, this.random)
      if (o.status === 'delivered') {
        await client.query({
          name: 'webhooks_delivered',
          text: `UPDATE webhook_deliveries SET status = 'delivered', attempts = attempts + 1, next_attempt_at = NULL,
                 last_attempt_at = $1, last_status = $2, last_error = NULL, delivered_at = $1 WHERE id = $3`,
          values: [o.atMs, o.httpStatus, id],
        })
      } else {
        await client.query({
          name: 'webhooks_failed_attempt',
          text: `UPDATE webhook_deliveries SET status = $1, attempts = attempts + 1, next_attempt_at = $2,
                 last_attempt_at = $3, last_status = $4, last_error = $5 WHERE id = $6`,
          values: [o.status, o.nextAttemptAtMs, o.atMs, o.httpStatus, o.error, id],
        })
      }
      return o.status
    })
  }

  async list(tenantId: number, query: DeliveryQuery): Promise<Page<WebhookDelivery>> {
    let before = Number.MAX_SAFE_INTEGER
    if (query.cursor !== undefined) {
      const key = decodeCursor(query.cursor)
      if (key === undefined || typeof key[0] !== 'number') throw new RangeError('cursor: not a cursor this list returned')
      before = key[0]
    }
    const rows = query.status === undefined
      ? await this.rows<DeliveryRow>('webhooks_list', `SELECT ${VIEW_COLUMNS} FROM webhook_deliveries WHERE tenant_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3`, [tenantId, before, query.limit + 1])
      : await this.rows<DeliveryRow>('webhooks_list_status', `SELECT ${VIEW_COLUMNS} FROM webhook_deliveries WHERE tenant_id = $1 AND status = $2 AND seq < $3 ORDER BY seq DESC LIMIT $4`,
        [tenantId, query.status, before, query.limit + 1])
    const more = rows.length > query.limit
    const page = more ? rows.slice(0, query.limit) : rows
    const last = page[page.length - 1]
    return { data: page.map(toDelivery), nextCursor: more && last ? encodeCursor([last.seq]) : null }
  }

  async redeliver(tenantId: number, id: string, nowMs: number): Promise<RedeliverResult> {
    return poolTransaction(this.pool, async (client): Promise<RedeliverResult> => {
      const byId = `SELECT ${VIEW_COLUMNS} FROM webhook_deliveries WHERE tenant_id = $1 AND id = $2`
      const row = (await client.query<DeliveryRow>({ name: 'webhooks_by_tenant_id', text: `${byId} FOR UPDATE`, values: [tenantId, id] })).rows[0]
      if (row === undefined) return { ok: false, code: 'not_found' }
      if (row.status === 'pending') return { ok: false, code: 'pending' }
      const newId = `msg_${randomBase62(24)}`
      await client.query({
        name: 'webhooks_redeliver',
        text: `INSERT INTO webhook_deliveries (id, tenant_id, type, url, secret, body, status, attempts, next_attempt_at, created_at, redelivery_of)
               SELECT $1, tenant_id, type, url, secret, body, 'pending', 0, $2, $2, id FROM webhook_deliveries WHERE id = $3`,
        values: [newId, nowMs, id],
      })
      const made = (await client.query<DeliveryRow>({ name: 'webhooks_by_tenant_id_plain', text: byId, values: [tenantId, newId] })).rows[0]!
      return { ok: true, delivery: toDelivery(made) }
    })
  }

  async prune(beforeMs: number): Promise<number> {
    const { rowCount } = await this.pool.query({ name: 'webhooks_prune', text: "DELETE FROM webhook_deliveries WHERE status <> 'pending' AND created_at < $1", values: [beforeMs] })
    return rowCount ?? 0
  }

  async createEndpoint(tenantId: number, input: WebhookEndpointInput, nowMs: number): Promise<StoredWebhookEndpoint> {
    const id = `we_${randomBase62(20)}`
    await this.rows('webhook_endpoint_insert', 'INSERT INTO webhook_endpoints (id, tenant_id, url, events, secret, created_at) VALUES ($1, $2, $3, $4, $5, $6)',
      [id, tenantId, input.url, JSON.stringify(input.events), input.secret, nowMs])
    return { id, url: input.url, events: [...input.events], secret: input.secret, createdAtMs: nowMs }
  }

  async listEndpoints(tenantId: number): Promise<StoredWebhookEndpoint[]> {
    const rows = await this.rows<{ id: string; url: string; events: string; secret: string; created_at: number }>(
      'webhook_endpoint_list', 'SELECT id, url, events, secret, created_at FROM webhook_endpoints WHERE tenant_id = $1 ORDER BY seq', [tenantId])
    return rows.map((r) => ({ id: r.id, url: r.url, events: JSON.parse(r.events) as string[], secret: r.secret, createdAtMs: r.created_at }))
  }

  async deleteEndpoint(tenantId: number, id: string): Promise<boolean> {
    const { rowCount } = await this.pool.query({ name: 'webhook_endpoint_delete', text: 'DELETE FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2', values: [tenantId, id] })
    return rowCount === 1
  }
}

// The webhook outbox on SQLite. Enqueueing only runs prepared INSERTs, so it joins the caller's
// open transaction: the event and its webhooks commit together or not at all, on any connection
// (main thread, writer or maintenance worker). The dispatcher then delivers each row at least once.
import type Database from 'better-sqlite3'
import { randomBase62 } from '../auth/keys.js'
import type { Page } from '../store/port.js'
import { decodeCursor, encodeCursor } from '../store/cursor.js'
import { attemptOutcome } from './attempts.js'
import { WebhookEndpointRows } from './endpoint-store.js'
import type { AttemptResult, DeliveryQuery, DeliveryStatus, DueWebhook, RedeliverResult, WebhookDelivery } from './model.js'
import { type WebhookData, type WebhookEndpoint, type WebhookEventType, type WebhookPayload, webhookBody } from './payloads.js'

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

export interface WebhookOutboxOptions {
  /** Jitter source for retry delays, in [0, 1) (default Math.random). */
  random?: () => number
}

export class WebhookOutbox {
  private readonly stmt
  private readonly random: () => number
  private readonly record
  readonly endpoints: WebhookEndpointRows

  constructor(private readonly db: Database.Database, options: WebhookOutboxOptions = {}) {
    this.endpoints = new WebhookEndpointRows(db)
    this.record = db.transaction((id: string, result: AttemptResult) => this.applyAttempt(id, result))
    this.random = options.random ?? Math.random
    this.stmt = {
      insert: db.prepare(
        `INSERT INTO webhook_deliveries (id, tenant_id, type, url, secret, body, status, attempts, next_attempt_at, created_at)
         VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?)`,
      ),
      due: db.prepare(
        `SELECT id, tenant_id, type, url, secret, body, attempts, created_at FROM webhook_deliveries
         WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, seq LIMIT ?`,
      ),
      byId: db.prepare('SELECT * FROM webhook_deliveries WHERE id = ?'),
      delivered: db.prepare(
        `UPDATE webhook_deliveries SET status = 'delivered', attempts = attempts + 1, next_attempt_at = NULL,
         last_attempt_at = ?, last_status = ?, last_error = NULL, delivered_at = ? WHERE id = ?`,
      ),
      failedAttempt: db.prepare(
        `UPDATE webhook_deliveries SET status = ?, attempts = attempts + 1, next_attempt_at = ?,
         last_attempt_at = ?, last_status = ?, last_error = ? WHERE id = ?`,
      ),
      redeliver: db.prepare(
        `INSERT INTO webhook_deliveries (id, tenant_id, type, url, secret, body, status, attempts, next_attempt_at, created_at, redelivery_of)
         SELECT ?, tenant_id, type, url, secret, body, 'pending', 0, ?, ?, id FROM webhook_deliveries WHERE id = ?`,
      ),
      lease: db.prepare("UPDATE webhook_deliveries SET next_attempt_at = ? WHERE id = ? AND status = 'pending' AND next_attempt_at <= ?"),
      byTenantAndId: db.prepare(`SELECT ${VIEW_COLUMNS} FROM webhook_deliveries WHERE tenant_id = ? AND id = ?`),
      prune: db.prepare("DELETE FROM webhook_deliveries WHERE status <> 'pending' AND created_at < ?"),
      list: db.prepare(`SELECT ${VIEW_COLUMNS} FROM webhook_deliveries WHERE tenant_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?`),
      listByStatus: db.prepare(
        `SELECT ${VIEW_COLUMNS} FROM webhook_deliveries WHERE tenant_id = ? AND status = ? AND seq < ? ORDER BY seq DESC LIMIT ?`,
      ),
    }
  }

  /**
   * Writes one delivery per endpoint subscribed to `type`, due at once. The id (`msg_…`) and the
   * body `{ type, data, createdAt }` are fixed here and never change across retries. Runs inside
   * the caller's transaction when there is one; answers the new deliveries' ids. The endpoints
   * kept over the API are added to `endpoints` (the configuration's), read in the same transaction.
   */
  enqueue<T extends WebhookEventType>(tenantId: number, endpoints: readonly WebhookEndpoint[], type: T, data: WebhookData[T], atMs: number): string[] {
    const subscribed = [...endpoints, ...this.endpoints.list(tenantId)].filter((e) => e.events.includes(type))
    if (subscribed.length === 0) return []
    const body = webhookBody(type, data, atMs)
    return subscribed.map((endpoint) => {
      const id = `msg_${randomBase62(24)}`
      this.stmt.insert.run(id, tenantId, type, endpoint.url, endpoint.secret, body, atMs, atMs)
      return id
    })
  }

  /** Pending deliveries due at `nowMs`, the longest-waiting first. */
  due(nowMs: number, limit: number): DueWebhook[] {
    return (this.stmt.due.all(nowMs, limit) as DeliveryRow[]).map((r) => ({
      id: r.id,
      tenantId: r.tenant_id,
      type: r.type,
      url: r.url,
      secret: r.secret,
      body: r.body,
      attempts: r.attempts,
      createdAtMs: r.created_at,
    }))
  }

  /**
   * Records one attempt. A 2xx marks the delivery delivered. Otherwise the next attempt waits
   * `retryDelayMs(attempts)` (and at least `retryAfterMs`), but never past the end of the retry
   * window, where one last attempt is made; a failure at or past that end marks it failed.
   * Undefined (and nothing changed) when the delivery is unknown or no longer pending.
   */
  recordAttempt(id: string, result: AttemptResult): DeliveryStatus | undefined {
    // Read and update as one write transaction (or inside the caller's).
    return this.db.inTransaction ? this.applyAttempt(id, result) : this.record.immediate(id, result)
  }

  private applyAttempt(id: string, result: AttemptResult): DeliveryStatus | undefined {
    const row = this.stmt.byId.get(id) as DeliveryRow | undefined
    if (row === undefined || row.status !== 'pending') return undefined
    const o = attemptOutcome({ createdAtMs: row.created_at, attempts: row.attempts }, result, this.random)
    if (o.status === 'delivered') this.stmt.delivered.run(o.atMs, o.httpStatus, o.atMs, id)
    else this.stmt.failedAttempt.run(o.status, o.nextAttemptAtMs, o.atMs, o.httpStatus, o.error, id)
    return o.status
  }

  /** Holds a due delivery for this sender until `untilMs`; false when it is not due (another sender holds it, or it is done). */
  lease(id: string, nowMs: number, untilMs: number): boolean {
    return this.stmt.lease.run(untilMs, id, nowMs).changes === 1
  }

  redeliver(tenantId: number, id: string, nowMs: number): RedeliverResult {
    return this.db.transaction((): RedeliverResult => {
      const row = this.stmt.byTenantAndId.get(tenantId, id) as DeliveryRow | undefined
      if (row === undefined) return { ok: false, code: 'not_found' }
      if (row.status === 'pending') return { ok: false, code: 'pending' }
      const newId = `msg_${randomBase62(24)}`
      this.stmt.redeliver.run(newId, nowMs, nowMs, id)
      return { ok: true, delivery: toDelivery(this.stmt.byTenantAndId.get(tenantId, newId) as DeliveryRow) }
    }).immediate()
  }

  prune(beforeMs: number): number {
    return this.stmt.prune.run(beforeMs).changes
  }

  /** A tenant's deliveries, newest first; the cursor is the last row's enqueue order. */
  list(tenantId: number, query: DeliveryQuery): Page<WebhookDelivery> {
    let before = Number.MAX_SAFE_INTEGER
    if (query.cursor !== undefined) {
      const key = decodeCursor(query.cursor)
      if (key === undefined || typeof key[0] !== 'number') throw new RangeError('cursor: not a cursor this list returned')
      before = key[0]
    }
    const rows = (query.status === undefined
      ? this.stmt.list.all(tenantId, before, query.limit + 1)
      : this.stmt.listByStatus.all(tenantId, query.status, before, query.limit + 1)) as DeliveryRow[]
    const more = rows.length > query.limit
    const page = more ? rows.slice(0, query.limit) : rows
    const last = page[page.length - 1]
    return { data: page.map(toDelivery), nextCursor: more && last ? encodeCursor([last.seq]) : null }
  }
}

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

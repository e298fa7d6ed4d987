// Idempotency-Key claims on PostgreSQL: one INSERT … ON CONFLICT DO NOTHING, so of two requests
// racing with one key (on any collector) exactly one wins; the rules of what a claim means are
// the collector's (collector/src/idempotency.ts).
import type pg from 'pg'
import type { IdempotencyRecord, IdempotencyStore } from '../port.js'

interface Row {
  request_hash: string
  state: 'in_progress' | 'done'
  status: number | null
  body: string | null
  created_at: number
}

export class PgIdempotency implements IdempotencyStore {
  constructor(private readonly pool: pg.Pool) {}

  async claim(tenantId: number, route: string, key: string, requestHash: string, nowMs: number): Promise<{ claimed: true } | { claimed: false; record: IdempotencyRecord }> {
    for (;;) {
      const inserted = await this.pool.query({
        name: 'idempotency_claim',
        text: `INSERT INTO idempotency_keys (tenant_id, route, key, request_hash, state, created_at) VALUES ($1, $2, $3, $4, 'in_progress', $5) ON CONFLICT DO NOTHING`,
        values: [tenantId, route, key, requestHash, nowMs],
      })
      if (inserted.rowCount === 1) return { claimed: true }
      const row = (await this.pool.query<Row>({
        name: 'idempotency_get',
        text: 'SELECT request_hash, state, status, body, created_at FROM idempotency_keys WHERE tenant_id = $1 AND route = $2 AND key = $3',
        values: [tenantId, route, key],
      })).rows[0]
      // Undefined only when the row was released or pruned in between: claim again.
      if (row !== undefined) return { claimed: false, record: { requestHash: row.request_hash, state: row.state, status: row.status, body: row.body, createdAtMs: row.created_at } }
    }
  }

  async complete(tenantId: number, route: string, key: string, response: { status: number; body: string }): Promise<void> {
    await this.pool.query({
      name: 'idempotency_complete',
      text: "UPDATE idempotency_keys SET state = 'done', status = $1, body = $2 WHERE tenant_id = $3 AND route = $4 AND key = $5",
      values: [response.status, response.body, tenantId, route, key],
    })
  }

  async release(tenantId: number, route: string, key: string): Promise<void> {
    await this.pool.query({
      name: 'idempotency_release',
      text: "DELETE FROM idempotency_keys WHERE tenant_id = $1 AND route = $2 AND key = $3 AND state = 'in_progress'",
      values: [tenantId, route, key],
    })
  }

  async prune(beforeMs: number): Promise<number> {
    return (await this.pool.query({ name: 'idempotency_prune', text: 'DELETE FROM idempotency_keys WHERE created_at < $1', values: [beforeMs] })).rowCount ?? 0
  }
}

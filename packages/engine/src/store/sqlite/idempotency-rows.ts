// Idempotency-Key claims on SQLite. The claim is one INSERT … ON CONFLICT DO NOTHING, so of two
// requests racing with one key (in this process or another) exactly one wins; the rules of what
// a claim means are the collector's (collector/src/idempotency.ts).
import type Database from 'better-sqlite3'
import type { IdempotencyRecord, IdempotencyStore } from '../port.js'

interface Row {
  request_hash: string
  state: 'in_progress' | 'done'
  status: number | null
  body: string | null
  created_at: number
}

export class SqliteIdempotency implements IdempotencyStore {
  private readonly stmt

  constructor(db: Database.Database) {
    this.stmt = {
      claim: db.prepare(
        `INSERT INTO idempotency_keys (tenant_id, route, key, request_hash, state, created_at) VALUES (?, ?, ?, ?, 'in_progress', ?)
         ON CONFLICT DO NOTHING`,
      ),
      get: db.prepare('SELECT request_hash, state, status, body, created_at FROM idempotency_keys WHERE tenant_id = ? AND route = ? AND key = ?'),
      complete: db.prepare("UPDATE idempotency_keys SET state = 'done', status = ?, body = ? WHERE tenant_id = ? AND route = ? AND key = ?"),
      release: db.prepare("DELETE FROM idempotency_keys WHERE tenant_id = ? AND route = ? AND key = ? AND state = 'in_progress'"),
      prune: db.prepare('DELETE FROM idempotency_keys WHERE created_at < ?'),
    }
  }

  async claim(tenantId: number, route: string, key: string, requestHash: string, nowMs: number): Promise<{ claimed: true } | { claimed: false; record: IdempotencyRecord }> {
    for (;;) {
      if (this.stmt.claim.run(tenantId, route, key, requestHash, nowMs).changes === 1) return { claimed: true }
      // Undefined only when the row was released or pruned in between: claim again.
      const row = this.stmt.get.get(tenantId, route, key) as Row | undefined
      if (row !== undefined) return { claimed: false, record: { requestHash: row.request_hash, state: row.state, status: row.status, body: row.body, createdAtMs: row.created_at } }
    }
  }

  async complete(tenantId: number, route: string, key: string, response: { status: number; body: string }): Promise<void> {
    this.stmt.complete.run(response.status, response.body, tenantId, route, key)
  }

  async release(tenantId: number, route: string, key: string): Promise<void> {
    this.stmt.release.run(tenantId, route, key)
  }

  async prune(beforeMs: number): Promise<number> {
    return this.stmt.prune.run(beforeMs).changes
  }
}

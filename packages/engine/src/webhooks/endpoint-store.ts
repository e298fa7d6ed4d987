// Webhook endpoints kept over the API (`/v1/webhooks/endpoints`), beside those of the tenant's
// configuration. SQL only: which URLs are acceptable is the collector's (webhook-url-policy.ts).
import type Database from 'better-sqlite3'
import { randomBase62 } from '../auth/keys.js'
import type { StoredWebhookEndpoint, WebhookEndpointInput } from './model.js'

interface EndpointRow {
  id: string
  url: string
  events: string
  secret: string
  created_at: number
}

function toEndpoint(row: EndpointRow): StoredWebhookEndpoint {
  return { id: row.id, url: row.url, events: JSON.parse(row.events) as string[], secret: row.secret, createdAtMs: row.created_at }
}

export class WebhookEndpointRows {
  private readonly stmt

  constructor(db: Database.Database) {
    this.stmt = {
      insert: db.prepare('INSERT INTO webhook_endpoints (id, tenant_id, url, events, secret, created_at) VALUES (?, ?, ?, ?, ?, ?)'),
      list: db.prepare('SELECT id, url, events, secret, created_at FROM webhook_endpoints WHERE tenant_id = ? ORDER BY seq'),
      delete: db.prepare('DELETE FROM webhook_endpoints WHERE tenant_id = ? AND id = ?'),
    }
  }

  create(tenantId: number, input: WebhookEndpointInput, nowMs: number): StoredWebhookEndpoint {
    const id = `we_${randomBase62(20)}`
    this.stmt.insert.run(id, tenantId, input.url, JSON.stringify(input.events), input.secret, nowMs)
    return { id, url: input.url, events: [...input.events], secret: input.secret, createdAtMs: nowMs }
  }

  /** The tenant's endpoints, oldest first (secrets included: the outbox signs with them). */
  list(tenantId: number): StoredWebhookEndpoint[] {
    return (this.stmt.list.all(tenantId) as EndpointRow[]).map(toEndpoint)
  }

  delete(tenantId: number, id: string): boolean {
    return this.stmt.delete.run(tenantId, id).changes === 1
  }
}

// Customers: created with their first event or by the API, with the time zone their billing
// periods follow.
import type Database from 'better-sqlite3'
import type { JsonValue } from '@meterkit/protocol'
import type { Customer, CustomerInput } from '../port.js'
import type { CustomerRows } from '../storage.js'

interface CustomerRow {
  id: string
  name: string | null
  email: string | null
  timezone: string
  metadata: string | null
  created_at: number
}

function toCustomer(row: CustomerRow): Customer {
  return {
    id: row.id,
    name: row.name,
    email: row.email,
    timezone: row.timezone,
    metadata: row.metadata === null ? null : (JSON.parse(row.metadata) as Record<string, JsonValue>),
    createdAtMs: row.created_at,
  }
}

export class SqliteCustomerRows implements CustomerRows {
  private readonly stmt

  constructor(db: Database.Database) {
    this.stmt = {
      ensure: db.prepare("INSERT INTO customers (tenant_id, id, timezone, created_at) VALUES (?, ?, 'UTC', ?) ON CONFLICT DO NOTHING"),
      timezone: db.prepare('SELECT timezone FROM customers WHERE tenant_id = ? AND id = ?').pluck(),
      get: db.prepare('SELECT id, name, email, timezone, metadata, created_at FROM customers WHERE tenant_id = ? AND id = ?'),
      insert: db.prepare(
        'INSERT INTO customers (tenant_id, id, name, email, timezone, metadata, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
      ),
      update: db.prepare(
        `UPDATE customers SET name = coalesce(?, name), email = coalesce(?, email), timezone = coalesce(?, timezone),
         metadata = coalesce(?, metadata) WHERE tenant_id = ? AND id = ?`,
      ),
    }
  }

  ensure(tenantId: number, customerId: string, nowMs: number): void {
    this.stmt.ensure.run(tenantId, customerId, nowMs)
  }

  timeZone(tenantId: number, customerId: string): string {
    return (this.stmt.timezone.get(tenantId, customerId) as string | undefined) ?? 'UTC'
  }

  get(tenantId: number, customerId: string): Customer | undefined {
    const row = this.stmt.get.get(tenantId, customerId) as CustomerRow | undefined
    return row && toCustomer(row)
  }

  put(input: CustomerInput & { tenantId: number }, nowMs: number): boolean {
    const metadata = input.metadata === undefined || input.metadata === null ? null : JSON.stringify(input.metadata)
    const { changes } = this.stmt.insert.run(input.tenantId, input.id, input.name ?? null, input.email ?? null, input.timezone ?? 'UTC', metadata, nowMs)
    if (changes === 0) this.stmt.update.run(input.name ?? null, input.email ?? null, input.timezone ?? null, metadata, input.tenantId, input.id)
    return changes === 1
  }
}

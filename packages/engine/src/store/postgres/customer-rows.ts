// Customers and configuration versions as rows.
import type { JsonValue, TenantConfig } from '@meterkit/protocol'
import type { Customer, CustomerInput } from '../port.js'
import type { ConfigRows, CustomerRows } from '../storage.js'
import type { Sql } from './sql.js'

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

export class PgCustomerRows implements CustomerRows {
  constructor(private readonly sql: Sql) {}

  async ensure(tenantId: number, customerId: string, nowMs: number): Promise<void> {
    await this.sql.run('customers_ensure', "INSERT INTO customers (tenant_id, id, timezone, created_at) VALUES ($1, $2, 'UTC', $3) ON CONFLICT DO NOTHING", [tenantId, customerId, nowMs])
  }

  async timeZone(tenantId: number, customerId: string): Promise<string> {
    const row = await this.sql.one<{ timezone: string }>('customers_timezone', 'SELECT timezone FROM customers WHERE tenant_id = $1 AND id = $2', [tenantId, customerId])
    return row?.timezone ?? 'UTC'
  }

  async get(tenantId: number, customerId: string): Promise<Customer | undefined> {
    const row = await this.sql.one<CustomerRow>('customers_get', 'SELECT id, name, email, timezone, metadata, created_at FROM customers WHERE tenant_id = $1 AND id = $2', [tenantId, customerId])
    return row && toCustomer(row)
  }

  async put(input: CustomerInput & { tenantId: number }, nowMs: number): Promise<boolean> {
    const metadata = input.metadata === undefined || input.metadata === null ? null : JSON.stringify(input.metadata)
    const created = await this.sql.run(
      'customers_insert',
      'INSERT INTO customers (tenant_id, id, name, email, timezone, metadata, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING',
      [input.tenantId, input.id, input.name ?? null, input.email ?? null, input.timezone ?? 'UTC', metadata, nowMs],
    )
    if (created === 0) {
      await this.sql.run(
        'customers_update',
        `UPDATE customers SET name = coalesce($1, name), email = coalesce($2, email), timezone = coalesce($3, timezone),
         metadata = coalesce($4, metadata) WHERE tenant_id = $5 AND id = $6`,
        [input.name ?? null, input.email ?? null, input.timezone ?? null, metadata, input.tenantId, input.id],
      )
    }
    return created === 1
  }
}

export const EMPTY_CONFIG: TenantConfig = { meters: [], features: [], plans: [] }

type Current = { version: number; config: TenantConfig; appliedAtMs: number }

/** Parsed configurations by tenant and version: a version never changes once written. */
export type ConfigCache = Map<string, Current>

const CONFIG_CACHE_CAP = 10_000

export class PgConfigRows implements ConfigRows {
  constructor(private readonly sql: Sql, private readonly cache: ConfigCache) {}

  /** One query when the version is known; the same object for the same version, so what is compiled from it is compiled once. */
  async current(tenantId: number): Promise<Current> {
    const head = await this.sql.one<{ version: number }>('configs_head', 'SELECT version FROM config_versions WHERE tenant_id = $1 ORDER BY version DESC LIMIT 1', [tenantId])
    if (head === undefined) return { version: 0, config: EMPTY_CONFIG, appliedAtMs: 0 }
    const key = `${tenantId}:${head.version}`
    let current = this.cache.get(key)
    if (current === undefined) {
      const row = await this.sql.one<{ config: string; applied_at: number }>(
        'configs_at', 'SELECT config, applied_at FROM config_versions WHERE tenant_id = $1 AND version = $2', [tenantId, head.version],
      )
      current = { version: head.version, config: JSON.parse(row!.config) as TenantConfig, appliedAtMs: row!.applied_at }
      if (this.cache.size >= CONFIG_CACHE_CAP) this.cache.clear()
      this.cache.set(key, current)
    }
    return current
  }

  async insert(tenantId: number, version: number, config: TenantConfig, keyId: string | null, nowMs: number): Promise<void> {
    await this.sql.run(
      'configs_insert', 'INSERT INTO config_versions (tenant_id, version, config, applied_at, key_id) VALUES ($1, $2, $3, $4, $5)', [tenantId, version, JSON.stringify(config), nowMs, keyId],
    )
  }
}

// Customers and configuration versions as rows.
import type { TenantConfig } from '@meterkit/protocol'
import type { ConfigReads, CustomerRows } from '../storage.js'
import type { Sql } from './sql.js'

export class PgCustomerRows implements CustomerRows {
  constructor(private readonly sql: Sql) {}

  async ensure(tenantId: number, customerId: string, nowMs: number): Promise<void> {
    await this.sql.run('customers_ensure', "INSERT INTO customers (tenant_id, id, timezone, created_at) VALUES ($1, $2, 'UTC', $3) ON CONFLICT DO NOTHING", [tenantId, customerId, nowMs])
  }

  async timeZone(tenantId: number, customerId: string): Promise<string> {
    const row = await this.sql.one<{ timezone: string }>('customers_timezone', 'SELECT timezone FROM customers WHERE tenant_id = $1 AND id = $2', [tenantId, customerId])
    return row?.timezone ?? 'UTC'
  }
}

export const EMPTY_CONFIG: TenantConfig = { meters: [], features: [], plans: [] }

/** Parsed configurations by tenant and version: versions never change once written. */
export type ConfigCache = Map<string, TenantConfig>

const CONFIG_CACHE_CAP = 10_000

export class PgConfigReads implements ConfigReads {
  constructor(private readonly sql: Sql, private readonly cache: ConfigCache) {}

  /** One query when the version is known; the same object for the same version, so what is compiled from it is compiled once. */
  async current(tenantId: number): Promise<{ version: number; config: TenantConfig }> {
    const head = await this.sql.one<{ version: number }>('configs_head', 'SELECT version FROM config_versions WHERE tenant_id = $1 ORDER BY version DESC LIMIT 1', [tenantId])
    if (head === undefined) return { version: 0, config: EMPTY_CONFIG }
    const key = `${tenantId}:${head.version}`
    let config = this.cache.get(key)
    if (config === undefined) {
      const row = await this.sql.one<{ config: string }>('configs_at', 'SELECT config FROM config_versions WHERE tenant_id = $1 AND version = $2', [tenantId, head.version])
      config = JSON.parse(row!.config) as TenantConfig
      if (this.cache.size >= CONFIG_CACHE_CAP) this.cache.clear()
      this.cache.set(key, config)
    }
    return { version: head.version, config }
  }
}

// Configuration versions. The current version of each tenant is parsed once and kept: every
// transaction checks only the latest version number, a read of one index entry.
import type Database from 'better-sqlite3'
import type { TenantConfig } from '@meterkit/protocol'
import type { ConfigRows } from '../storage.js'

export const EMPTY_CONFIG: TenantConfig = { meters: [], features: [], plans: [] }

type Current = { version: number; config: TenantConfig; appliedAtMs: number }

export class SqliteConfigRows implements ConfigRows {
  private readonly stmt
  private readonly current_ = new Map<number, Current>()

  constructor(db: Database.Database) {
    this.stmt = {
      latestVersion: db.prepare('SELECT max(version) FROM config_versions WHERE tenant_id = ?').pluck(),
      at: db.prepare('SELECT config, applied_at FROM config_versions WHERE tenant_id = ? AND version = ?').raw(),
      insert: db.prepare('INSERT INTO config_versions (tenant_id, version, config, applied_at, key_id) VALUES (?, ?, ?, ?, ?)'),
    }
  }

  current(tenantId: number): Current {
    const version = (this.stmt.latestVersion.get(tenantId) as number | null) ?? 0
    const cached = this.current_.get(tenantId)
    if (cached !== undefined && cached.version === version) return cached
    let current: Current
    if (version === 0) {
      current = { version: 0, config: EMPTY_CONFIG, appliedAtMs: 0 }
    } else {
      const [json, appliedAtMs] = this.stmt.at.get(tenantId, version) as [string, number]
      current = { version, config: JSON.parse(json) as TenantConfig, appliedAtMs }
    }
    this.current_.set(tenantId, current)
    return current
  }

  insert(tenantId: number, version: number, config: TenantConfig, keyId: string | null, nowMs: number): void {
    this.stmt.insert.run(tenantId, version, JSON.stringify(config), nowMs, keyId)
  }
}

// Secret keys and tenants on SQLite: hashes only, with scopes, expiry and test-mode pairing.
// SQL only; what a scope allows is auth/scopes.ts.
import type Database from 'better-sqlite3'
import { normalizeScopes, parseScopes } from '../../auth/scopes.js'
import type { ApiKeyInput, ApiKeyRecord, Tenant } from '../port.js'

interface KeyRow {
  id: string
  tenant_id: number
  name: string | null
  created_at: number
  revoked_at: number | null
  scopes: string | null
  expires_at: number | null
  last_used_at: number | null
  live_tenant_id: number | null
}

const KEY_COLUMNS = 'k.id, k.tenant_id, k.name, k.created_at, k.revoked_at, k.scopes, k.expires_at, k.last_used_at, t.live_tenant_id'
const FROM = 'FROM api_keys k JOIN tenants t ON t.id = k.tenant_id'

function toKey(row: KeyRow): ApiKeyRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    name: row.name,
    createdAtMs: row.created_at,
    revokedAtMs: row.revoked_at,
    scopes: parseScopes(row.scopes),
    expiresAtMs: row.expires_at,
    lastUsedAtMs: row.last_used_at,
    mode: row.live_tenant_id === null ? 'live' : 'test',
  }
}

export class KeyRows {
  private readonly stmt

  constructor(private readonly db: Database.Database) {
    this.stmt = {
      insert: db.prepare(
        `INSERT INTO api_keys (id, tenant_id, hash, name, created_at, scopes, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (hash) DO NOTHING`,
      ),
      byHash: db.prepare(`SELECT ${KEY_COLUMNS} ${FROM} WHERE k.hash = ?`),
      byId: db.prepare(`SELECT ${KEY_COLUMNS} ${FROM} WHERE k.tenant_id = ? AND k.id = ?`),
      list: db.prepare(`SELECT ${KEY_COLUMNS} ${FROM} WHERE k.tenant_id = ? ORDER BY k.created_at, k.id`),
      touch: db.prepare('UPDATE api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)'),
      testTenant: db.prepare('SELECT id, name, created_at, live_tenant_id FROM tenants WHERE live_tenant_id = ?'),
      tenant: db.prepare('SELECT id, name, created_at, live_tenant_id FROM tenants WHERE id = ?'),
      insertTestTenant: db.prepare('INSERT INTO tenants (name, created_at, live_tenant_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING'),
    }
  }

  put(key: ApiKeyInput, nowMs: number): ApiKeyRecord {
    const scopes = key.scopes === undefined ? null : normalizeScopes(key.scopes).join(' ')
    this.stmt.insert.run(key.id, key.tenantId, key.hash, key.name, nowMs, scopes, key.expiresAtMs ?? null)
    return toKey(this.stmt.byHash.get(key.hash) as KeyRow)
  }

  byHash(hash: Buffer): ApiKeyRecord | undefined {
    const row = this.stmt.byHash.get(hash) as KeyRow | undefined
    return row && toKey(row)
  }

  byId(tenantId: number, id: string): ApiKeyRecord | undefined {
    const row = this.stmt.byId.get(tenantId, id) as KeyRow | undefined
    return row && toKey(row)
  }

  list(tenantId: number): ApiKeyRecord[] {
    return (this.stmt.list.all(tenantId) as KeyRow[]).map(toKey)
  }

  touch(id: string, nowMs: number): void {
    this.stmt.touch.run(nowMs, id, nowMs)
  }

  tenant(id: number): Tenant | undefined {
    const row = this.stmt.tenant.get(id) as { id: number; name: string; created_at: number; live_tenant_id: number | null } | undefined
    if (row === undefined) return undefined
    return { id: row.id, name: row.name, createdAtMs: row.created_at, ...(row.live_tenant_id === null ? {} : { liveTenantId: row.live_tenant_id }) }
  }

  /** The paired test tenant, inserted on first call; the unique index settles a race between processes. */
  testTenant(liveTenantId: number, nowMs: number): Tenant {
    return this.db.transaction(() => {
      const live = this.tenant(liveTenantId)
      if (live === undefined) throw new RangeError(`no tenant ${liveTenantId}`)
      if (live.liveTenantId !== undefined) return live
      this.stmt.insertTestTenant.run(`${live.name} (test)`, nowMs, liveTenantId)
      const row = this.stmt.testTenant.get(liveTenantId) as { id: number }
      return this.tenant(row.id)!
    }).immediate()
  }
}

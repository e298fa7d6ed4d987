// Tenants, secret keys (hashes only) and tenant secrets on PostgreSQL. SQL only; what a scope
// allows is auth/scopes.ts. Races between processes are settled by unique indexes
// (ON CONFLICT DO NOTHING, then read what is there) or by the store's write lock.
import type pg from 'pg'
import { normalizeScopes, parseScopes } from '../../auth/scopes.js'
import type { ApiKeyInput, ApiKeyRecord, SecretPurpose, Tenant } from '../port.js'
import { storeError } from './connection.js'
import { poolTransaction } from './pool-transaction.js'

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

interface TenantRow {
  id: number
  name: string
  created_at: number
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

function toTenant(row: TenantRow): Tenant {
  return { id: row.id, name: row.name, createdAtMs: row.created_at, ...(row.live_tenant_id === null ? {} : { liveTenantId: row.live_tenant_id }) }
}

export class PgKeyRows {
  constructor(private readonly pool: pg.Pool, private readonly url = '') {}

  private async rows<R extends pg.QueryResultRow>(name: string, text: string, values: unknown[] = []): Promise<R[]> {
    try {
      return (await this.pool.query<R>({ name, text, values })).rows
    } catch (err) {
      // A database out of reach answers `unavailable` (503, retry later), never an internal error.
      throw storeError(err, this.url)
    }
  }

  async createTenant(name: string, nowMs: number): Promise<Tenant> {
    const [row] = await this.rows<TenantRow>('tenant_insert', 'INSERT INTO tenants (name, created_at) VALUES ($1, $2) RETURNING id, name, created_at, live_tenant_id', [name, nowMs])
    return toTenant(row!)
  }

  async tenant(id: number): Promise<Tenant | undefined> {
    const [row] = await this.rows<TenantRow>('tenant_get', 'SELECT id, name, created_at, live_tenant_id FROM tenants WHERE id = $1', [id])
    return row && toTenant(row)
  }

  /** The tenant with the lowest id, created with `name` when there is none (two processes racing get the same one). */
  async defaultTenant(name: string, nowMs: number): Promise<Tenant> {
    const first = 'SELECT id, name, created_at, live_tenant_id FROM tenants ORDER BY id LIMIT 1'
    const [row] = await this.rows<TenantRow>('tenant_first', first)
    if (row !== undefined) return toTenant(row)
    return poolTransaction(this.pool, async (client) => {
      const again = (await client.query<TenantRow>(first)).rows[0]
      if (again !== undefined) return toTenant(again)
      const made = (await client.query<TenantRow>('INSERT INTO tenants (name, created_at) VALUES ($1, $2) RETURNING id, name, created_at, live_tenant_id', [name, nowMs])).rows[0]!
      return toTenant(made)
    }, { writeLock: true })
  }

  /** The paired test tenant, inserted on first call; the unique index settles a race between processes. */
  async testTenant(liveTenantId: number, nowMs: number): Promise<Tenant> {
    const live = await this.tenant(liveTenantId)
    if (live === undefined) throw new RangeError(`no tenant ${liveTenantId}`)
    if (live.liveTenantId !== undefined) return live
    await this.rows('tenant_insert_test', 'INSERT INTO tenants (name, created_at, live_tenant_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [`${live.name} (test)`, nowMs, liveTenantId])
    const [row] = await this.rows<TenantRow>('tenant_test', 'SELECT id, name, created_at, live_tenant_id FROM tenants WHERE live_tenant_id = $1', [liveTenantId])
    return toTenant(row!)
  }

  async put(key: ApiKeyInput, nowMs: number): Promise<ApiKeyRecord> {
    const scopes = key.scopes === undefined ? null : normalizeScopes(key.scopes).join(' ')
    await this.rows(
      'key_insert',
      'INSERT INTO api_keys (id, tenant_id, hash, name, created_at, scopes, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (hash) DO NOTHING',
      [key.id, key.tenantId, key.hash, key.name, nowMs, scopes, key.expiresAtMs ?? null],
    )
    return (await this.byHash(key.hash))!
  }

  async byHash(hash: Buffer): Promise<ApiKeyRecord | undefined> {
    const [row] = await this.rows<KeyRow>('key_by_hash', `SELECT ${KEY_COLUMNS} ${FROM} WHERE k.hash = $1`, [hash])
    return row && toKey(row)
  }

  async byId(tenantId: number, id: string): Promise<ApiKeyRecord | undefined> {
    const [row] = await this.rows<KeyRow>('key_by_id', `SELECT ${KEY_COLUMNS} ${FROM} WHERE k.tenant_id = $1 AND k.id = $2`, [tenantId, id])
    return row && toKey(row)
  }

  async list(tenantId: number): Promise<ApiKeyRecord[]> {
    return (await this.rows<KeyRow>('key_list', `SELECT ${KEY_COLUMNS} ${FROM} WHERE k.tenant_id = $1 ORDER BY k.created_at, k.id`, [tenantId])).map(toKey)
  }

  async touch(id: string, nowMs: number): Promise<void> {
    await this.rows('key_touch', 'UPDATE api_keys SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $1)', [nowMs, id])
  }

  async revoke(tenantId: number, id: string, nowMs: number): Promise<boolean> {
    const [exists] = await this.rows('key_exists', 'SELECT 1 FROM api_keys WHERE tenant_id = $1 AND id = $2', [tenantId, id])
    if (exists === undefined) return false
    await this.rows('key_revoke', 'UPDATE api_keys SET revoked_at = $1 WHERE tenant_id = $2 AND id = $3 AND revoked_at IS NULL', [nowMs, tenantId, id])
    return true
  }

  async hasActive(tenantId: number): Promise<boolean> {
    return (await this.rows('key_active', 'SELECT 1 FROM api_keys WHERE tenant_id = $1 AND revoked_at IS NULL LIMIT 1', [tenantId])).length > 0
  }

  async secret(tenantId: number, purpose: SecretPurpose, candidate: Buffer, nowMs: number): Promise<Buffer> {
    await this.rows('secret_insert', 'INSERT INTO tenant_secrets (tenant_id, purpose, secret, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [tenantId, purpose, candidate, nowMs])
    return (await this.findSecret(tenantId, purpose))!
  }

  async findSecret(tenantId: number, purpose: SecretPurpose): Promise<Buffer | undefined> {
    const [row] = await this.rows<{ secret: Buffer }>('secret_get', 'SELECT secret FROM tenant_secrets WHERE tenant_id = $1 AND purpose = $2', [tenantId, purpose])
    return row?.secret
  }
}

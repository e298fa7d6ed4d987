// The embedded store: one SQLite file in WAL mode with synchronous=FULL, so a commit that
// returned survives a crash of the process or the machine. Each ingest batch is one transaction.
import Database from 'better-sqlite3'
import type { Properties } from '@meterkit/protocol'
import { contentHash } from '../../ingest/content-hash.js'
import type {
  ApiKeyRecord,
  EventQuery,
  EventSource,
  IngestBatch,
  IngestOutcome,
  Page,
  Store,
  StoredEvent,
  Tenant,
} from '../port.js'
import { decodeCursor, encodeCursor } from './cursor.js'
import { migrate } from './migrations.js'

export interface SqliteStoreOptions {
  /** How long a writer waits for another process's lock before failing, in ms. */
  busyTimeoutMs?: number
}

interface EventRow {
  id: string
  event: string
  customer_id: string
  ts: number
  properties: string
  reservation_id: string | null
  source: EventSource
  received_at: number
}

interface KeyRow {
  id: string
  tenant_id: number
  name: string | null
  created_at: number
  revoked_at: number | null
}

const KNOWN_CUSTOMERS_CAP = 100_000

function toStoredEvent(row: EventRow): StoredEvent {
  return {
    id: row.id,
    event: row.event,
    customerId: row.customer_id,
    timestampMs: row.ts,
    properties: JSON.parse(row.properties) as Properties,
    reservationId: row.reservation_id ?? undefined,
    source: row.source,
    receivedAtMs: row.received_at,
  }
}

function toKey(row: KeyRow): ApiKeyRecord {
  return { id: row.id, tenantId: row.tenant_id, name: row.name, createdAtMs: row.created_at, revokedAtMs: row.revoked_at }
}

export class SqliteStore implements Store {
  readonly db: Database.Database
  /** Customers known to exist, so ingest skips their insert; filled only after a commit. */
  private readonly knownCustomers = new Set<string>()
  private readonly stmt
  private readonly ingestTx: (batch: IngestBatch) => { outcomes: IngestOutcome[]; newCustomers: string[] }

  constructor(path: string, options: SqliteStoreOptions = {}) {
    this.db = new Database(path)
    this.db.pragma('journal_mode = WAL')
    this.db.pragma('synchronous = FULL')
    this.db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`)
    this.db.pragma('foreign_keys = ON')
    migrate(this.db)

    const db = this.db
    this.stmt = {
      insertEvent: db.prepare(
        `INSERT INTO events (tenant_id, id, event, customer_id, ts, properties, reservation_id, source, received_at, hash)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, id) DO NOTHING`,
      ),
      eventHash: db.prepare('SELECT hash FROM events WHERE tenant_id = ? AND id = ?').pluck(),
      insertCustomer: db.prepare(
        'INSERT INTO customers (tenant_id, id, created_at) VALUES (?, ?, ?) ON CONFLICT (tenant_id, id) DO NOTHING',
      ),
      getEvent: db.prepare(
        `SELECT id, event, customer_id, ts, properties, reservation_id, source, received_at
         FROM events WHERE tenant_id = ? AND id = ?`,
      ),
      insertTenant: db.prepare('INSERT INTO tenants (name, created_at) VALUES (?, ?) RETURNING id'),
      getTenant: db.prepare('SELECT id, name, created_at FROM tenants WHERE id = ?'),
      firstTenant: db.prepare('SELECT id, name, created_at FROM tenants ORDER BY id LIMIT 1'),
      insertKey: db.prepare(
        `INSERT INTO api_keys (id, tenant_id, hash, name, created_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (hash) DO NOTHING`,
      ),
      keyByHash: db.prepare('SELECT id, tenant_id, name, created_at, revoked_at FROM api_keys WHERE hash = ?'),
      revokeKey: db.prepare(
        'UPDATE api_keys SET revoked_at = ? WHERE tenant_id = ? AND id = ? AND revoked_at IS NULL',
      ),
      activeKey: db.prepare('SELECT 1 FROM api_keys WHERE tenant_id = ? AND revoked_at IS NULL LIMIT 1').pluck(),
      keyExists: db.prepare('SELECT 1 FROM api_keys WHERE tenant_id = ? AND id = ?').pluck(),
    }

    const s = this.stmt
    this.ingestTx = db.transaction((batch: IngestBatch) => {
      const { tenantId, source, receivedAtMs, events } = batch
      const outcomes = new Array<IngestOutcome>(events.length)
      const newCustomers: string[] = []
      for (let i = 0; i < events.length; i++) {
        const e = events[i]!
        const hash = contentHash(e)
        const { changes } = s.insertEvent.run(
          tenantId, e.id, e.event, e.customerId, e.timestampMs, JSON.stringify(e.properties),
          e.reservationId ?? null, source, receivedAtMs, hash,
        )
        if (changes === 1) {
          outcomes[i] = 'accepted'
          const customerKey = `${tenantId}\u0000${e.customerId}`
          if (!this.knownCustomers.has(customerKey)) {
            s.insertCustomer.run(tenantId, e.customerId, receivedAtMs)
            newCustomers.push(customerKey)
          }
        } else {
          const stored = s.eventHash.get(tenantId, e.id) as Buffer
          outcomes[i] = stored.equals(hash) ? 'duplicate' : 'conflict'
        }
      }
      return { outcomes, newCustomers }
    })
  }

  async ingest(batch: IngestBatch): Promise<IngestOutcome[]> {
    const { outcomes, newCustomers } = this.ingestTx(batch)
    if (this.knownCustomers.size + newCustomers.length > KNOWN_CUSTOMERS_CAP) this.knownCustomers.clear()
    for (const key of newCustomers) this.knownCustomers.add(key)
    return outcomes
  }

  async getEvent(tenantId: number, id: string): Promise<StoredEvent | undefined> {
    const row = this.stmt.getEvent.get(tenantId, id) as EventRow | undefined
    return row === undefined ? undefined : toStoredEvent(row)
  }

  async listEvents(tenantId: number, query: EventQuery): Promise<Page<StoredEvent>> {
    const where = ['tenant_id = ?']
    const params: (string | number)[] = [tenantId]
    if (query.customerId !== undefined) {
      where.push('customer_id = ?')
      params.push(query.customerId)
    }
    if (query.event !== undefined) {
      where.push('event = ?')
      params.push(query.event)
    }
    if (query.fromMs !== undefined) {
      where.push('ts >= ?')
      params.push(query.fromMs)
    }
    if (query.toMs !== undefined) {
      where.push('ts < ?')
      params.push(query.toMs)
    }
    if (query.cursor !== undefined) {
      const key = decodeCursor(query.cursor)
      if (key === undefined || typeof key[0] !== 'number' || typeof key[1] !== 'string') {
        throw new RangeError('cursor: not a cursor this list returned')
      }
      where.push('(ts < ? OR (ts = ? AND id < ?))')
      params.push(key[0], key[0], key[1])
    }
    const rows = this.db
      .prepare(
        `SELECT id, event, customer_id, ts, properties, reservation_id, source, received_at FROM events
         WHERE ${where.join(' AND ')} ORDER BY ts DESC, id DESC LIMIT ?`,
      )
      .all(...params, query.limit + 1) as EventRow[]
    const more = rows.length > query.limit
    const data = (more ? rows.slice(0, query.limit) : rows).map(toStoredEvent)
    const last = data[data.length - 1]
    return { data, nextCursor: more && last ? encodeCursor([last.timestampMs, last.id]) : null }
  }

  async createTenant(name: string, nowMs: number): Promise<Tenant> {
    const id = this.stmt.insertTenant.pluck().get(name, nowMs) as number
    return { id, name, createdAtMs: nowMs }
  }

  async getTenant(id: number): Promise<Tenant | undefined> {
    const row = this.stmt.getTenant.get(id) as { id: number; name: string; created_at: number } | undefined
    return row && { id: row.id, name: row.name, createdAtMs: row.created_at }
  }

  async defaultTenant(name: string, nowMs: number): Promise<Tenant> {
    const find = this.db.transaction(() => {
      const row = this.stmt.firstTenant.get() as { id: number; name: string; created_at: number } | undefined
      if (row) return { id: row.id, name: row.name, createdAtMs: row.created_at }
      const id = this.stmt.insertTenant.pluck().get(name, nowMs) as number
      return { id, name, createdAtMs: nowMs }
    })
    return find.immediate()
  }

  async putApiKey(key: { id: string; tenantId: number; hash: Buffer; name: string | null }, nowMs: number): Promise<ApiKeyRecord> {
    this.stmt.insertKey.run(key.id, key.tenantId, key.hash, key.name, nowMs)
    return toKey(this.stmt.keyByHash.get(key.hash) as KeyRow)
  }

  async findApiKeyByHash(hash: Buffer): Promise<ApiKeyRecord | undefined> {
    const row = this.stmt.keyByHash.get(hash) as KeyRow | undefined
    return row && toKey(row)
  }

  async revokeApiKey(tenantId: number, id: string, nowMs: number): Promise<boolean> {
    if (this.stmt.keyExists.get(tenantId, id) === undefined) return false
    this.stmt.revokeKey.run(nowMs, tenantId, id)
    return true
  }

  async hasActiveKey(tenantId: number): Promise<boolean> {
    return this.stmt.activeKey.get(tenantId) !== undefined
  }

  async ping(): Promise<void> {
    this.db.prepare('SELECT 1').get()
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close()
  }
}

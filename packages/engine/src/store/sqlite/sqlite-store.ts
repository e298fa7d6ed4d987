// The embedded store: one SQLite file in WAL mode with synchronous=FULL, so a commit that
// returned survives a crash of the process or the machine. Each ingest batch is one transaction.
import type Database from 'better-sqlite3'
import type { Properties } from '@meterkit/protocol'
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
import { openDatabase } from './connection.js'
import { decodeCursor, encodeCursor } from './cursor.js'
import { EventWriter, OUTCOMES, toRowBatch } from './event-writer.js'
import { GroupCommitter } from './group-commit.js'
import { WriterThread } from './writer-thread.js'

export interface SqliteStoreOptions {
  /** How long a writer waits for another process's lock before failing, in ms. */
  busyTimeoutMs?: number
  /**
   * Run ingest transactions on a worker thread, beside the HTTP work of the main thread.
   * `workerUrl` points at the built `writer-worker.js` (default: next to this module).
   */
  writerThread?: boolean | { workerUrl: URL }
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

const EVENT_COLUMNS = 'id, event, customer_id, ts, properties, reservation_id, source, received_at'

export class SqliteStore implements Store {
  readonly db: Database.Database
  private readonly stmt
  private readonly committer: GroupCommitter | undefined
  private readonly writerThread: WriterThread | undefined

  constructor(readonly path: string, options: SqliteStoreOptions = {}) {
    this.db = openDatabase(path, { busyTimeoutMs: options.busyTimeoutMs })
    if (options.writerThread) {
      const url = options.writerThread === true ? new URL('./writer-worker.js', import.meta.url) : options.writerThread.workerUrl
      this.writerThread = new WriterThread(path, url)
    } else {
      this.committer = new GroupCommitter(new EventWriter(this.db))
    }

    const db = this.db
    this.stmt = {
      getEvent: db.prepare(`SELECT ${EVENT_COLUMNS} FROM events WHERE tenant_id = ? AND id = ?`),
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
  }

  async ingest(batch: IngestBatch): Promise<IngestOutcome[]> {
    if (batch.events.length === 0) return []
    const rows = toRowBatch(batch)
    const codes = this.writerThread ? await this.writerThread.write(rows) : await this.committer!.submit(rows)
    return Array.from(codes, (code) => OUTCOMES[code]!)
  }

  async getEvent(tenantId: number, id: string): Promise<StoredEvent | undefined> {
    const row = this.stmt.getEvent.get(tenantId, id) as EventRow | undefined
    return row === undefined ? undefined : toStoredEvent(row)
  }

  async listEvents(tenantId: number, query: EventQuery): Promise<Page<StoredEvent>> {
    const where: string[] = []
    const params: (string | number)[] = []
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
    const filter = where.length ? ` AND ${where.join(' AND ')}` : ''
    let sql: string
    let args: (string | number)[]
    if (query.customerId === undefined) {
      sql = `SELECT ${EVENT_COLUMNS} FROM events WHERE tenant_id = ?${filter} ORDER BY ts DESC, id DESC LIMIT ?`
      args = [tenantId, ...params, query.limit + 1]
    } else {
      // The customer index, plus the newest events not yet in it (see migrations).
      const indexed = `SELECT ${EVENT_COLUMNS} FROM events WHERE seq IN (
          SELECT seq FROM customer_events WHERE tenant_id = ? AND customer_id = ?
          ${query.fromMs !== undefined ? 'AND ts >= ?' : ''} ${query.toMs !== undefined ? 'AND ts < ?' : ''})${filter}`
      const tail = `SELECT ${EVENT_COLUMNS} FROM events
          WHERE seq > (SELECT seq FROM index_state WHERE name = 'customer_events')
          AND tenant_id = ? AND customer_id = ?${filter}`
      sql = `SELECT * FROM (${indexed} UNION ALL ${tail}) ORDER BY ts DESC, id DESC LIMIT ?`
      const range = [...(query.fromMs !== undefined ? [query.fromMs] : []), ...(query.toMs !== undefined ? [query.toMs] : [])]
      args = [tenantId, query.customerId, ...range, ...params, tenantId, query.customerId, ...params, query.limit + 1]
    }
    const rows = this.db.prepare(sql).all(...args) as EventRow[]
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
    this.committer?.close()
    await this.writerThread?.close()
    if (this.db.open) this.db.close()
  }
}

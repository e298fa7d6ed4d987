// The events as corrections, listings, the rollup fold and audits use them. The fold's watermark
// is also the customer index's: marking events folded copies them into the index in sorted
// passes (see migrations), so customer reads stay on an index that is written behind the writer.
import type Database from 'better-sqlite3'
import type { Properties } from '@meterkit/protocol'
import type { EventHistory, EventListRequest, EventRecord, EventRows } from '../../meters/storage.js'
import { EVENT_FIELDS, type EventRow, SqliteEventReads, toEventRecord } from './event-reads.js'

interface VersionRow {
  version: number
  action: 'amend' | 'void'
  properties: string | null
  reason: string
  at: number
  key_id: string | null
}

export class SqliteEventRows extends SqliteEventReads implements EventRows {
  private readonly rows

  constructor(private readonly db: Database.Database) {
    super(db)
    this.rows = {
      one: db.prepare(`SELECT ${EVENT_FIELDS} FROM events e WHERE e.tenant_id = ? AND e.id = ?`),
      original: db.prepare('SELECT properties FROM events WHERE tenant_id = ? AND id = ?').pluck(),
      versions: db.prepare('SELECT version, action, properties, reason, at, key_id FROM event_versions WHERE tenant_id = ? AND id = ? ORDER BY version'),
      nextVersion: db.prepare('SELECT coalesce(max(version), 1) + 1 FROM event_versions WHERE tenant_id = ? AND id = ?').pluck(),
      addVersion: db.prepare('INSERT INTO event_versions (tenant_id, id, version, action, properties, reason, at, key_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      setVoided: db.prepare("UPDATE events SET status = 'voided' WHERE tenant_id = ? AND id = ?"),
      setAmended: db.prepare("UPDATE events SET status = 'amended', current = ? WHERE tenant_id = ? AND id = ?"),
      fillCustomerIndex: db.prepare(
        `INSERT INTO customer_events (tenant_id, customer_id, ts, seq)
         SELECT tenant_id, customer_id, ts, seq FROM events WHERE seq > ? AND seq <= ?
         ORDER BY tenant_id, customer_id, ts, seq`,
      ),
      advance: db.prepare("UPDATE index_state SET seq = ? WHERE name = 'customer_events'"),
      named: db.prepare(`SELECT ${EVENT_FIELDS} FROM events e WHERE e.tenant_id = ? AND e.event = ? AND e.seq <= ?`),
      customers: db.prepare('SELECT DISTINCT tenant_id, customer_id FROM customer_events').raw(),
      foldedOf: db.prepare(`SELECT ${EVENT_FIELDS} FROM customer_events c JOIN events e ON e.seq = c.seq WHERE c.tenant_id = ? AND c.customer_id = ?`),
      unindexed: db.prepare(
        `SELECT count(*) FROM events e WHERE e.seq <= ? AND NOT EXISTS (
           SELECT 1 FROM customer_events c WHERE c.tenant_id = e.tenant_id AND c.customer_id = e.customer_id AND c.ts = e.ts AND c.seq = e.seq)`,
      ).pluck(),
      indexed: db.prepare('SELECT count(*) FROM customer_events').pluck(),
      upTo: db.prepare('SELECT count(*) FROM events WHERE seq <= ?').pluck(),
    }
  }

  find(tenantId: number, id: string): EventHistory | undefined {
    const row = this.rows.one.get(tenantId, id) as EventRow | undefined
    if (row === undefined) return undefined
    return {
      record: toEventRecord(row),
      original: this.rows.original.get(tenantId, id) as string,
      corrections: (this.rows.versions.all(tenantId, id) as VersionRow[]).map((v) => ({
        version: v.version,
        action: v.action,
        properties: v.properties === null ? null : (JSON.parse(v.properties) as Properties),
        reason: v.reason,
        atMs: v.at,
        keyId: v.key_id,
      })),
    }
  }

  list(tenantId: number, q: EventListRequest): EventRecord[] {
    const where: string[] = []
    const params: (string | number)[] = []
    if (q.event !== undefined) {
      where.push('e.event = ?')
      params.push(q.event)
    }
    if (q.fromMs !== undefined) {
      where.push('e.ts >= ?')
      params.push(q.fromMs)
    }
    if (q.toMs !== undefined) {
      where.push('e.ts < ?')
      params.push(q.toMs)
    }
    if (q.before !== undefined) {
      where.push('(e.ts < ? OR (e.ts = ? AND e.id < ?))')
      params.push(q.before[0], q.before[0], q.before[1])
    }
    const filter = where.length ? ` AND ${where.join(' AND ')}` : ''
    let sql: string
    let args: (string | number)[]
    if (q.customerId === undefined) {
      sql = `SELECT ${EVENT_FIELDS} FROM events e WHERE e.tenant_id = ?${filter} ORDER BY e.ts DESC, e.id DESC LIMIT ?`
      args = [tenantId, ...params, q.limit]
    } else {
      // The customer index, plus the newest events not yet in it.
      const indexed = `SELECT ${EVENT_FIELDS} FROM events e WHERE e.seq IN (
          SELECT seq FROM customer_events WHERE tenant_id = ? AND customer_id = ?
          ${q.fromMs !== undefined ? 'AND ts >= ?' : ''} ${q.toMs !== undefined ? 'AND ts < ?' : ''})${filter}`
      const tail = `SELECT ${EVENT_FIELDS} FROM events e
          WHERE e.seq > (SELECT seq FROM index_state WHERE name = 'customer_events')
          AND +e.tenant_id = ? AND +e.customer_id = ?${filter.replaceAll(/\be\.(ts|event)\b/g, '+e.$1')}`
      sql = `SELECT * FROM (${indexed} UNION ALL ${tail}) ORDER BY ts DESC, id DESC LIMIT ?`
      const range = [...(q.fromMs !== undefined ? [q.fromMs] : []), ...(q.toMs !== undefined ? [q.toMs] : [])]
      args = [tenantId, q.customerId, ...range, ...params, tenantId, q.customerId, ...params, q.limit]
    }
    return (this.db.prepare(sql).all(...args) as EventRow[]).map(toEventRecord)
  }

  correct(tenantId: number, id: string, c: { action: 'amend' | 'void'; properties: string | null; reason: string; atMs: number; keyId: string | null }): void {
    this.rows.addVersion.run(tenantId, id, this.rows.nextVersion.get(tenantId, id), c.action, c.properties, c.reason, c.atMs, c.keyId)
    if (c.action === 'void') this.rows.setVoided.run(tenantId, id)
    else this.rows.setAmended.run(c.properties, tenantId, id)
  }

  foldedSeq(): number {
    return this.watermark.get() as number
  }

  markFolded(afterSeq: number, toSeq: number): void {
    this.rows.fillCustomerIndex.run(afterSeq, toSeq)
    this.rows.advance.run(toSeq)
  }

  named(tenantId: number, event: string, toSeq: number): EventRecord[] {
    return (this.rows.named.all(tenantId, event, toSeq) as EventRow[]).map(toEventRecord)
  }

  foldedCustomers(): { tenantId: number; customerId: string }[] {
    return (this.rows.customers.all() as [number, string][]).map(([tenantId, customerId]) => ({ tenantId, customerId }))
  }

  foldedOf(tenantId: number, customerId: string): EventRecord[] {
    return (this.rows.foldedOf.all(tenantId, customerId) as EventRow[]).map(toEventRecord)
  }

  audit(toSeq: number): { events: number; problems: string[] } {
    // The customer index: every event up to the watermark has its entry, and nothing else does.
    const missing = this.rows.unindexed.get(toSeq) as number
    const indexed = this.rows.indexed.get() as number
    const events = Math.min(toSeq, this.rows.upTo.get(toSeq) as number)
    const problems = missing > 0 || indexed !== events ? [`customer index: ${missing} events lack an entry; it holds ${indexed} entries for ${events} events`] : []
    return { events, problems }
  }
}

// Raw events in the orders the engine reads them. A customer's events come from the customer
// index up to its watermark and from the events table past it (see migrations: the index is
// built behind the writer).
import type Database from 'better-sqlite3'
import type { EventReads, EventRecord } from '../../meters/storage.js'
import type { EventSource } from '../port.js'

const FIELDS = 'e.seq, e.tenant_id, e.id, e.event, e.customer_id, e.ts, coalesce(e.current, e.properties) AS properties, e.source, e.status, e.reservation_id, e.received_at'

export interface EventRow {
  seq: number
  tenant_id: number
  id: string
  event: string
  customer_id: string
  ts: number
  properties: string
  source: EventSource
  status: string
  reservation_id: string | null
  received_at: number
}

type Row = EventRow

export const EVENT_FIELDS = FIELDS

export function toEventRecord(r: Row): EventRecord {
  return {
    seq: r.seq, tenantId: r.tenant_id, id: r.id, event: r.event, customerId: r.customer_id, timestampMs: r.ts, properties: r.properties,
    source: r.source, status: r.status, reservationId: r.reservation_id, receivedAtMs: r.received_at,
  }
}

export class SqliteEventReads implements EventReads {
  private readonly stmt

  protected readonly watermark: Database.Statement

  constructor(db: Database.Database) {
    this.watermark = db.prepare("SELECT seq FROM index_state WHERE name = 'customer_events'").pluck()
    this.stmt = {
      maxSeq: db.prepare('SELECT coalesce(max(seq), 0) FROM events').pluck(),
      indexed: db.prepare(
        `SELECT ${FIELDS} FROM customer_events c JOIN events e ON e.seq = c.seq
         WHERE c.tenant_id = ? AND c.customer_id = ? AND c.ts >= ? AND c.ts < ?`,
      ),
      indexedOf: db.prepare(
        `SELECT ${FIELDS} FROM customer_events c JOIN events e ON e.seq = c.seq
         WHERE c.tenant_id = ? AND c.customer_id = ? AND c.ts >= ? AND c.ts < ? AND e.event = ?`,
      ),
      // The unary + keeps SQLite on the rowid range (the few events past the watermark) instead
      // of the time index, which would scan the whole range.
      tail: db.prepare(`SELECT ${FIELDS} FROM events e WHERE e.seq > ? AND +e.tenant_id = ? AND +e.customer_id = ? AND +e.ts >= ? AND +e.ts < ?`),
      tailOf: db.prepare(`SELECT ${FIELDS} FROM events e WHERE e.seq > ? AND +e.tenant_id = ? AND +e.customer_id = ? AND +e.event = ? AND +e.ts >= ? AND +e.ts < ?`),
      range: db.prepare(`SELECT ${FIELDS} FROM events e WHERE e.seq > ? AND e.seq <= ? ORDER BY e.seq`),
      arrivals: db.prepare('SELECT seq, tenant_id, customer_id, ts FROM events WHERE seq > ? AND seq <= ?').raw(),
      bySeq: db.prepare('SELECT id, ts FROM events WHERE seq = ?').raw(),
    }
  }

  maxSeq(): number {
    return this.stmt.maxSeq.get() as number
  }

  customerRange(tenantId: number, customerId: string, fromMs: number, toMs: number, options: { event?: string; folded?: boolean } = {}): EventRecord[] {
    // all() rather than iterate(): one call into SQLite per range is several times faster than a
    // step per row, and one customer's range is small.
    const { event, folded } = options
    const rows: Row[] = []
    if (folded !== false) {
      rows.push(...(event === undefined ? this.stmt.indexed.all(tenantId, customerId, fromMs, toMs) : this.stmt.indexedOf.all(tenantId, customerId, fromMs, toMs, event)) as Row[])
    }
    if (folded !== true) {
      const w = this.watermark.get() as number
      rows.push(...(event === undefined ? this.stmt.tail.all(w, tenantId, customerId, fromMs, toMs) : this.stmt.tailOf.all(w, tenantId, customerId, event, fromMs, toMs)) as Row[])
    }
    return rows.map(toEventRecord)
  }

  range(afterSeq: number, toSeq: number): EventRecord[] {
    return (this.stmt.range.all(afterSeq, toSeq) as Row[]).map(toEventRecord)
  }

  arrivals(afterSeq: number, toSeq: number): { seq: number; tenantId: number; customerId: string; timestampMs: number }[] {
    return (this.stmt.arrivals.all(afterSeq, toSeq) as [number, number, string, number][])
      .map(([seq, tenantId, customerId, timestampMs]) => ({ seq, tenantId, customerId, timestampMs }))
  }

  bySeqs(seqs: readonly number[]): { id: string; timestampMs: number }[] {
    return seqs.map((seq) => {
      const [id, timestampMs] = this.stmt.bySeq.get(seq) as [string, number]
      return { id, timestampMs }
    })
  }
}

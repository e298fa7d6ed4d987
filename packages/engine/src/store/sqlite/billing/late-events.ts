// Events that change an invoiced period: late arrivals (imports, events inside the lateness
// window after their period closed) found by a pass over the events stored since the last pass,
// and corrections (void, amend) noted as they happen. The subscription's next invoice adjusts.
import type Database from 'better-sqlite3'

interface Covered {
  start: number
  end: number
  cutoff: number
}

export class LateEvents {
  private readonly stmt

  constructor(db: Database.Database) {
    this.stmt = {
      watermark: db.prepare("SELECT seq FROM index_state WHERE name = 'billing_scan'").pluck(),
      setWatermark: db.prepare("UPDATE index_state SET seq = ? WHERE name = 'billing_scan'"),
      newEvents: db.prepare('SELECT seq, tenant_id, customer_id, ts FROM events WHERE seq > ? AND seq <= ?').raw(),
      invoiced: db.prepare(
        "SELECT period_start, period_end, cutoff_seq FROM invoices INDEXED BY invoices_by_customer WHERE tenant_id = ? AND customer_id = ? AND status IN ('finalized', 'paid') AND period_end = boundary",
      ).raw(),
      invoicedAt: db.prepare(
        `SELECT 1 FROM invoices INDEXED BY invoices_by_customer WHERE tenant_id = ? AND customer_id = ? AND status IN ('finalized', 'paid') AND period_end = boundary
           AND period_start <= ? AND ? < period_end LIMIT 1`,
      ).pluck(),
      insert: db.prepare('INSERT OR IGNORE INTO billing_changes (tenant_id, customer_id, ts, seq) VALUES (?, ?, ?, ?)'),
      pending: db.prepare('SELECT ts, seq FROM billing_changes WHERE tenant_id = ? AND customer_id = ? AND ts >= ? AND ts < ?'),
      consume: db.prepare('DELETE FROM billing_changes WHERE tenant_id = ? AND customer_id = ? AND ts >= ? AND ts < ?'),
    }
  }

  /** Notes every event stored since the last pass (up to `maxSeq`) that fell into an invoiced period after its invoice. */
  scan(maxSeq: number): number {
    const from = this.stmt.watermark.get() as number
    if (maxSeq <= from) return 0
    const periods = new Map<string, Covered[]>()
    const late: [number, string, number, number][] = []
    for (const [seq, tenantId, customerId, ts] of this.stmt.newEvents.iterate(from, maxSeq) as IterableIterator<[number, number, string, number]>) {
      const key = `${tenantId}\u0000${customerId}`
      let covered = periods.get(key)
      if (covered === undefined) {
        covered = (this.stmt.invoiced.all(tenantId, customerId) as [number, number, number][]).map(([start, end, cutoff]) => ({ start, end, cutoff }))
        periods.set(key, covered)
      }
      if (covered.some((p) => ts >= p.start && ts < p.end && seq > p.cutoff)) late.push([tenantId, customerId, ts, seq])
    }
    // Written after the pass: SQLite cannot write on a connection while a read is stepping.
    for (const row of late) this.stmt.insert.run(...row)
    this.stmt.setWatermark.run(maxSeq)
    return late.length
  }

  /**
   * A void or amend of an event: noted when a final invoice covers the event's time. A period not
   * invoiced yet reads the corrected event when it closes; noting it anyway would make a later
   * adjustment of that period name an event it had already billed correctly.
   */
  noteCorrection(tenantId: number, customerId: string, ts: number, seq: number): void {
    if (this.stmt.invoicedAt.get(tenantId, customerId, ts, ts) !== undefined) this.stmt.insert.run(tenantId, customerId, ts, seq)
  }

  pending(tenantId: number, customerId: string, fromMs: number, toMs: number): { ts: number; seq: number }[] {
    return this.stmt.pending.all(tenantId, customerId, fromMs, toMs) as { ts: number; seq: number }[]
  }

  consume(tenantId: number, customerId: string, fromMs: number, toMs: number): void {
    this.stmt.consume.run(tenantId, customerId, fromMs, toMs)
  }
}

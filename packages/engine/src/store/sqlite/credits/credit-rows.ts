// A customer's credits as rows: the compact state beside the append-only entries, written
// together in the caller's transaction.
import type Database from 'better-sqlite3'
import { decimal } from '../../../decimal.js'
import { type Change, type CustomerCredits, type LedgerEntry, deserializeCredits, emptyCredits, serializeCredits } from '../../../credits/index.js'
import type { ChargeTotalRows, LedgerRows, OverageEntryRecord, ReservationRecord, ReservationRows, ThresholdRows } from '../../../credits/storage.js'


interface EntryRow {
  n: number
  type: LedgerEntry['type']
  credits: string
  balance_after: string
  at: number
  grant_id: string | null
  event_ids: string | null
  invoice_id: string | null
  reservation_id: string | null
  held: string | null
  reason: string | null
}

export function entryOf(r: EntryRow): LedgerEntry {
  return {
    id: `le_${r.n}`,
    type: r.type,
    credits: decimal(r.credits),
    balanceAfter: decimal(r.balance_after),
    atMs: r.at,
    ...(r.grant_id === null ? {} : { grantId: r.grant_id }),
    ...(r.event_ids === null ? {} : { eventIds: JSON.parse(r.event_ids) as string[] }),
    ...(r.invoice_id === null ? {} : { invoiceId: r.invoice_id }),
    ...(r.reservation_id === null ? {} : { reservationId: r.reservation_id }),
    ...(r.held === null ? {} : { held: decimal(r.held) }),
    ...(r.reason === null ? {} : { reason: r.reason }),
  }
}

export class SqliteLedgerRows implements LedgerRows {
  private readonly stmt

  constructor(db: Database.Database) {
    this.stmt = {
      state: db.prepare('SELECT state FROM credit_state WHERE tenant_id = ? AND customer_id = ?').pluck(),
      putState: db.prepare('INSERT OR REPLACE INTO credit_state (tenant_id, customer_id, state) VALUES (?, ?, ?)'),
      insertEntry: db.prepare(
        `INSERT INTO credit_entries (tenant_id, customer_id, n, type, credits, balance_after, at, grant_id, event_ids, invoice_id, reservation_id, held, reason)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      entries: db.prepare('SELECT * FROM credit_entries WHERE tenant_id = ? AND customer_id = ? AND n > ? ORDER BY n LIMIT ?'),
      entriesNaming: db.prepare(
        `SELECT * FROM credit_entries WHERE tenant_id = ? AND customer_id = ? AND event_ids IS NOT NULL
         AND EXISTS (SELECT 1 FROM json_each(event_ids) WHERE value = ?) ORDER BY n`,
      ),
      sum: db.prepare('SELECT credits FROM credit_entries WHERE tenant_id = ? AND customer_id = ?').pluck(),
      overage: db.prepare(
        `SELECT type, credits, at,
           (SELECT e.ts FROM events e WHERE e.tenant_id = c.tenant_id AND e.id = json_extract(c.event_ids, '$[0]')) AS event_ts
         FROM credit_entries c WHERE c.tenant_id = ? AND c.customer_id = ?
         AND ((c.type = 'deduction' AND c.grant_id IS NULL) OR c.type = 'overage_settled') ORDER BY c.n`,
      ),
    }
  }

  state(tenantId: number, customerId: string): CustomerCredits {
    const text = this.stmt.state.get(tenantId, customerId) as string | undefined
    return text === undefined ? emptyCredits() : deserializeCredits(text)
  }

  /** Appends the change's entries and stores its state. */
  save(tenantId: number, customerId: string, change: Change): void {
    for (const e of change.entries) {
      this.stmt.insertEntry.run(
        tenantId, customerId, Number(e.id.slice(3)), e.type, e.credits.toString(), e.balanceAfter.toString(), e.atMs, e.grantId ?? null,
        e.eventIds === undefined ? null : JSON.stringify(e.eventIds), e.invoiceId ?? null, e.reservationId ?? null,
        e.held === undefined ? null : e.held.toString(), e.reason ?? null,
      )
    }
    // Closed reservations leave the state (it would grow with every job): the reservations table
    // answers a repeated id, and releasing or settling a closed one changes nothing.
    this.stmt.putState.run(tenantId, customerId, serializeCredits(change.state, Number.MAX_SAFE_INTEGER))
  }

  /** Entries after entry number `afterN`, oldest first. */
  entries(tenantId: number, customerId: string, afterN: number, limit: number): LedgerEntry[] {
    return (this.stmt.entries.all(tenantId, customerId, afterN, limit) as EntryRow[]).map(entryOf)
  }

  /** The entries that name an event (the sources of a refund). */
  entriesNaming(tenantId: number, customerId: string, eventId: string): LedgerEntry[] {
    return (this.stmt.entriesNaming.all(tenantId, customerId, eventId) as EntryRow[]).map(entryOf)
  }

  overageEntries(tenantId: number, customerId: string): OverageEntryRecord[] {
    return (this.stmt.overage.all(tenantId, customerId) as { type: 'deduction' | 'overage_settled'; credits: string; at: number; event_ts: number | null }[])
      .map((r) => ({ type: r.type, credits: r.credits, atMs: r.at, eventMs: r.event_ts }))
  }

  /** Σ credits of every entry: the balance, by invariant I1 (the ledger audit). */
  entrySum(tenantId: number, customerId: string): string {
    return (this.stmt.sum.all(tenantId, customerId) as string[]).reduce((a, c) => a.plus(c), decimal(0)).toString()
  }
}

export class SqliteReservationRows implements ReservationRows {
  private readonly stmt

  constructor(db: Database.Database) {
    this.stmt = {
      get: db.prepare('SELECT id, customer_id, credits, granted, available, expires_at FROM credit_reservations WHERE tenant_id = ? AND id = ?'),
      insert: db.prepare(
        'INSERT INTO credit_reservations (tenant_id, id, customer_id, credits, granted, available, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
    }
  }

  get(tenantId: number, id: string): ReservationRecord | undefined {
    const r = this.stmt.get.get(tenantId, id) as { id: string; customer_id: string; credits: string; granted: number; available: string; expires_at: number } | undefined
    return r && { id: r.id, customerId: r.customer_id, credits: r.credits, granted: r.granted === 1, available: r.available, expiresAtMs: r.expires_at }
  }

  insert(tenantId: number, r: ReservationRecord, nowMs: number): void {
    this.stmt.insert.run(tenantId, r.id, r.customerId, r.credits, r.granted ? 1 : 0, r.available, r.expiresAtMs, nowMs)
  }
}

export class SqliteThresholdRows implements ThresholdRows {
  private readonly stmt

  constructor(db: Database.Database) {
    this.stmt = {
      autoTopUp: db.prepare('SELECT threshold, credits, amount, armed FROM auto_top_ups WHERE tenant_id = ? AND customer_id = ?'),
      putAutoTopUp: db.prepare(
        `INSERT INTO auto_top_ups (tenant_id, customer_id, threshold, credits, amount, armed) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT DO UPDATE SET threshold = excluded.threshold, credits = excluded.credits, amount = excluded.amount, armed = excluded.armed`,
      ),
      setArmed: db.prepare('UPDATE auto_top_ups SET armed = ? WHERE tenant_id = ? AND customer_id = ?'),
      alert: db.prepare('SELECT armed FROM credit_alerts WHERE tenant_id = ? AND customer_id = ? AND kind = ?').pluck(),
      putAlert: db.prepare('INSERT OR REPLACE INTO credit_alerts (tenant_id, customer_id, kind, armed) VALUES (?, ?, ?, ?)'),
    }
  }

  autoTopUp(tenantId: number, customerId: string): { threshold: string; credits: string; amount: string | null; armed: boolean } | undefined {
    const r = this.stmt.autoTopUp.get(tenantId, customerId) as { threshold: string; credits: string; amount: string | null; armed: number } | undefined
    return r && { threshold: r.threshold, credits: r.credits, amount: r.amount, armed: r.armed === 1 }
  }

  putAutoTopUp(tenantId: number, customerId: string, s: { threshold: string; credits: string; amount: string | null }, armed: boolean): void {
    this.stmt.putAutoTopUp.run(tenantId, customerId, s.threshold, s.credits, s.amount, armed ? 1 : 0)
  }

  setAutoTopUpArmed(tenantId: number, customerId: string, armed: boolean): void {
    this.stmt.setArmed.run(armed ? 1 : 0, tenantId, customerId)
  }

  alert(tenantId: number, customerId: string, kind: string): boolean | undefined {
    const armed = this.stmt.alert.get(tenantId, customerId, kind) as number | undefined
    return armed === undefined ? undefined : armed === 1
  }

  putAlert(tenantId: number, customerId: string, kind: string, armed: boolean): void {
    this.stmt.putAlert.run(tenantId, customerId, kind, armed ? 1 : 0)
  }
}

export class SqliteChargeTotalRows implements ChargeTotalRows {
  private readonly stmt

  constructor(db: Database.Database) {
    this.stmt = {
      totals: db.prepare('SELECT dimension, quantity, credits FROM credit_totals WHERE tenant_id = ? AND customer_id = ? AND charge = ? AND period_start = ?'),
      putTotal: db.prepare(
        `INSERT INTO credit_totals (tenant_id, customer_id, charge, period_start, dimension, quantity, credits) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT DO UPDATE SET quantity = excluded.quantity, credits = excluded.credits`,
      ),
      correction: db.prepare('SELECT credits FROM credit_corrections WHERE tenant_id = ? AND customer_id = ? AND charge = ? AND period_start = ?').pluck(),
      putCorrection: db.prepare('INSERT OR REPLACE INTO credit_corrections (tenant_id, customer_id, charge, period_start, credits) VALUES (?, ?, ?, ?, ?)'),
      clearUniques: db.prepare('DELETE FROM credit_uniques WHERE tenant_id = ? AND customer_id = ? AND charge = ? AND period_start = ?'),
      addUnique: db.prepare('INSERT OR IGNORE INTO credit_uniques (tenant_id, customer_id, charge, period_start, dimension, value) VALUES (?, ?, ?, ?, ?, ?)'),
    }
  }

  totals(tenantId: number, customerId: string, charge: string, fromMs: number): { dimension: string; quantity: string; credits: string }[] {
    return this.stmt.totals.all(tenantId, customerId, charge, fromMs) as { dimension: string; quantity: string; credits: string }[]
  }

  putTotal(tenantId: number, customerId: string, charge: string, fromMs: number, dimension: string, quantity: string, credits: string): void {
    this.stmt.putTotal.run(tenantId, customerId, charge, fromMs, dimension, quantity, credits)
  }

  correction(tenantId: number, customerId: string, charge: string, fromMs: number): string | undefined {
    return this.stmt.correction.get(tenantId, customerId, charge, fromMs) as string | undefined
  }

  putCorrection(tenantId: number, customerId: string, charge: string, fromMs: number, credits: string): void {
    this.stmt.putCorrection.run(tenantId, customerId, charge, fromMs, credits)
  }

  addUnique(tenantId: number, customerId: string, charge: string, fromMs: number, dimension: string, value: string): boolean {
    return this.stmt.addUnique.run(tenantId, customerId, charge, fromMs, dimension, value).changes === 1
  }

  clearUniques(tenantId: number, customerId: string, charge: string, fromMs: number): void {
    this.stmt.clearUniques.run(tenantId, customerId, charge, fromMs)
  }
}

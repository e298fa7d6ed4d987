// A customer's credits as rows: the compact state beside the append-only entries, written
// together in the caller's transaction.
import type Database from 'better-sqlite3'
import { decimal } from '../../../decimal.js'
import { type Change, type CustomerCredits, type LedgerEntry, deserializeCredits, emptyCredits, serializeCredits } from '../../../credits/index.js'


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

export class CreditRows {
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
    }
  }

  load(tenantId: number, customerId: string): CustomerCredits {
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

  /** Σ credits of every entry: the balance, by invariant I1 (the ledger audit). */
  entrySum(tenantId: number, customerId: string): string {
    return (this.stmt.sum.all(tenantId, customerId) as string[]).reduce((a, c) => a.plus(c), decimal(0)).toString()
  }
}

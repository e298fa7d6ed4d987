// A customer's credits as rows: the compact state beside the append-only entries, written
// together in the caller's transaction; reservations, thresholds and credit-priced totals.
import { decimal } from '../../../decimal.js'
import { type Change, type CustomerCredits, type LedgerEntry, deserializeCredits, emptyCredits, serializeCredits } from '../../../credits/index.js'
import type { ChargeTotalRows, LedgerRows, OverageEntryRecord, ReservationRecord, ReservationRows, ThresholdRows } from '../../../credits/storage.js'
import type { Sql } from '../sql.js'

interface EntryRow {
  n: number
  type: LedgerEntry['type']
  credits: string
  balance_after: string
  at: number
  grant_id: string | null
  event_ids: string[] | null
  invoice_id: string | null
  reservation_id: string | null
  held: string | null
  reason: string | null
}

const ENTRY_COLUMNS = 'n, type, credits, balance_after, at, grant_id, event_ids, invoice_id, reservation_id, held, reason'

function entryOf(r: EntryRow): LedgerEntry {
  return {
    id: `le_${r.n}`,
    type: r.type,
    credits: decimal(r.credits),
    balanceAfter: decimal(r.balance_after),
    atMs: r.at,
    ...(r.grant_id === null ? {} : { grantId: r.grant_id }),
    ...(r.event_ids === null ? {} : { eventIds: r.event_ids }),
    ...(r.invoice_id === null ? {} : { invoiceId: r.invoice_id }),
    ...(r.reservation_id === null ? {} : { reservationId: r.reservation_id }),
    ...(r.held === null ? {} : { held: decimal(r.held) }),
    ...(r.reason === null ? {} : { reason: r.reason }),
  }
}

export class PgLedgerRows implements LedgerRows {
  constructor(private readonly sql: Sql) {}

  async state(tenantId: number, customerId: string): Promise<CustomerCredits> {
    const row = await this.sql.one<{ state: string }>('ledger_state', 'SELECT state FROM credit_state WHERE tenant_id = $1 AND customer_id = $2', [tenantId, customerId])
    return row === undefined ? emptyCredits() : deserializeCredits(row.state)
  }

  async save(tenantId: number, customerId: string, change: Change): Promise<void> {
    const entries = change.entries
    if (entries.length > 0) {
      // All of a change's entries in one statement (a batch's deductions can be many).
      await this.sql.run(
        'ledger_insert_entries',
        `INSERT INTO credit_entries (tenant_id, customer_id, n, type, credits, balance_after, at, grant_id, event_ids, invoice_id, reservation_id, held, reason)
         SELECT $1, $2, e.n, e.type, e.credits, e.balance_after, e.at, e.grant_id,
           CASE WHEN e.event_ids IS NULL THEN NULL ELSE ARRAY(SELECT json_array_elements_text(e.event_ids::json)) END,
           e.invoice_id, e.reservation_id, e.held, e.reason
         FROM unnest($3::bigint[], $4::text[], $5::numeric[], $6::numeric[], $7::bigint[], $8::text[], $9::text[], $10::text[], $11::text[], $12::numeric[], $13::text[])
           AS e (n, type, credits, balance_after, at, grant_id, event_ids, invoice_id, reservation_id, held, reason)`,
        [
          tenantId, customerId,
          entries.map((e) => Number(e.id.slice(3))), entries.map((e) => e.type), entries.map((e) => e.credits.toString()), entries.map((e) => e.balanceAfter.toString()),
          entries.map((e) => e.atMs), entries.map((e) => e.grantId ?? null), entries.map((e) => (e.eventIds === undefined ? null : JSON.stringify(e.eventIds))),
          entries.map((e) => e.invoiceId ?? null), entries.map((e) => e.reservationId ?? null), entries.map((e) => (e.held === undefined ? null : e.held.toString())),
          entries.map((e) => e.reason ?? null),
        ],
      )
    }
    // Closed reservations leave the state (it would grow with every job): the reservations table
    // answers a repeated id, and releasing or settling a closed one changes nothing.
    await this.sql.run(
      'ledger_put_state',
      'INSERT INTO credit_state (tenant_id, customer_id, state) VALUES ($1, $2, $3) ON CONFLICT (tenant_id, customer_id) DO UPDATE SET state = excluded.state',
      [tenantId, customerId, serializeCredits(change.state, Number.MAX_SAFE_INTEGER)],
    )
  }

  async entries(tenantId: number, customerId: string, afterN: number, limit: number): Promise<LedgerEntry[]> {
    const rows = await this.sql.rows<EntryRow>(
      'ledger_entries', `SELECT ${ENTRY_COLUMNS} FROM credit_entries WHERE tenant_id = $1 AND customer_id = $2 AND n > $3 ORDER BY n LIMIT $4`, [tenantId, customerId, afterN, limit],
    )
    return rows.map(entryOf)
  }

  async entriesNaming(tenantId: number, customerId: string, eventId: string): Promise<LedgerEntry[]> {
    const rows = await this.sql.rows<EntryRow>(
      'ledger_entries_naming',
      `SELECT ${ENTRY_COLUMNS} FROM credit_entries WHERE tenant_id = $1 AND customer_id = $2 AND $3 = ANY(event_ids) ORDER BY n`,
      [tenantId, customerId, eventId],
    )
    return rows.map(entryOf)
  }

  async overageEntries(tenantId: number, customerId: string): Promise<OverageEntryRecord[]> {
    const rows = await this.sql.rows<{ type: 'deduction' | 'overage_settled'; credits: string; at: number; event_ts: number | null }>(
      'ledger_overage',
      `SELECT c.type, c.credits, c.at,
         (SELECT e.ts FROM events e WHERE e.tenant_id = c.tenant_id AND e.id = c.event_ids[1]) AS event_ts
       FROM credit_entries c WHERE c.tenant_id = $1 AND c.customer_id = $2
       AND ((c.type = 'deduction' AND c.grant_id IS NULL) OR c.type = 'overage_settled') ORDER BY c.n`,
      [tenantId, customerId],
    )
    return rows.map((r) => ({ type: r.type, credits: r.credits, atMs: r.at, eventMs: r.event_ts }))
  }
}

export class PgReservationRows implements ReservationRows {
  constructor(private readonly sql: Sql) {}

  async get(tenantId: number, id: string): Promise<ReservationRecord | undefined> {
    const r = await this.sql.one<{ id: string; customer_id: string; credits: string; granted: boolean; available: string; expires_at: number }>(
      'reservations_get', 'SELECT id, customer_id, credits, granted, available, expires_at FROM credit_reservations WHERE tenant_id = $1 AND id = $2', [tenantId, id],
    )
    return r && { id: r.id, customerId: r.customer_id, credits: r.credits, granted: r.granted, available: r.available, expiresAtMs: r.expires_at }
  }

  async insert(tenantId: number, r: ReservationRecord, nowMs: number): Promise<void> {
    await this.sql.run(
      'reservations_insert',
      'INSERT INTO credit_reservations (tenant_id, id, customer_id, credits, granted, available, expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
      [tenantId, r.id, r.customerId, r.credits, r.granted, r.available, r.expiresAtMs, nowMs],
    )
  }
}

export class PgThresholdRows implements ThresholdRows {
  constructor(private readonly sql: Sql) {}

  async autoTopUp(tenantId: number, customerId: string): Promise<{ threshold: string; credits: string; amount: string | null; armed: boolean } | undefined> {
    const r = await this.sql.one<{ threshold: string; credits: string; amount: string | null; armed: boolean }>(
      'thresholds_auto_top_up', 'SELECT threshold, credits, amount, armed FROM auto_top_ups WHERE tenant_id = $1 AND customer_id = $2', [tenantId, customerId],
    )
    return r && { threshold: r.threshold, credits: r.credits, amount: r.amount, armed: r.armed }
  }

  async putAutoTopUp(tenantId: number, customerId: string, s: { threshold: string; credits: string; amount: string | null }, armed: boolean): Promise<void> {
    await this.sql.run(
      'thresholds_put_auto_top_up',
      `INSERT INTO auto_top_ups (tenant_id, customer_id, threshold, credits, amount, armed) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (tenant_id, customer_id) DO UPDATE SET threshold = excluded.threshold, credits = excluded.credits, amount = excluded.amount, armed = excluded.armed`,
      [tenantId, customerId, s.threshold, s.credits, s.amount, armed],
    )
  }

  async setAutoTopUpArmed(tenantId: number, customerId: string, armed: boolean): Promise<void> {
    await this.sql.run('thresholds_set_armed', 'UPDATE auto_top_ups SET armed = $1 WHERE tenant_id = $2 AND customer_id = $3', [armed, tenantId, customerId])
  }

  async alert(tenantId: number, customerId: string, kind: string): Promise<boolean | undefined> {
    const r = await this.sql.one<{ armed: boolean }>('thresholds_alert', 'SELECT armed FROM credit_alerts WHERE tenant_id = $1 AND customer_id = $2 AND kind = $3', [tenantId, customerId, kind])
    return r?.armed
  }

  async putAlert(tenantId: number, customerId: string, kind: string, armed: boolean): Promise<void> {
    await this.sql.run(
      'thresholds_put_alert',
      'INSERT INTO credit_alerts (tenant_id, customer_id, kind, armed) VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id, customer_id, kind) DO UPDATE SET armed = excluded.armed',
      [tenantId, customerId, kind, armed],
    )
  }
}

export class PgChargeTotalRows implements ChargeTotalRows {
  constructor(private readonly sql: Sql) {}

  async totals(tenantId: number, customerId: string, charge: string, fromMs: number): Promise<{ dimension: string; quantity: string; credits: string }[]> {
    return this.sql.rows<{ dimension: string; quantity: string; credits: string }>(
      'totals_get',
      'SELECT dimension, quantity, credits FROM credit_totals WHERE tenant_id = $1 AND customer_id = $2 AND charge = $3 AND period_start = $4 ORDER BY dimension',
      [tenantId, customerId, charge, fromMs],
    )
  }

  async putTotal(tenantId: number, customerId: string, charge: string, fromMs: number, dimension: string, quantity: string, credits: string): Promise<void> {
    await this.sql.run(
      'totals_put',
      `INSERT INTO credit_totals (tenant_id, customer_id, charge, period_start, dimension, quantity, credits) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (tenant_id, customer_id, charge, period_start, dimension) DO UPDATE SET quantity = excluded.quantity, credits = excluded.credits`,
      [tenantId, customerId, charge, fromMs, dimension, quantity, credits],
    )
  }

  async correction(tenantId: number, customerId: string, charge: string, fromMs: number): Promise<string | undefined> {
    const r = await this.sql.one<{ credits: string }>(
      'totals_correction', 'SELECT credits FROM credit_corrections WHERE tenant_id = $1 AND customer_id = $2 AND charge = $3 AND period_start = $4', [tenantId, customerId, charge, fromMs],
    )
    return r?.credits
  }

  async putCorrection(tenantId: number, customerId: string, charge: string, fromMs: number, credits: string): Promise<void> {
    await this.sql.run(
      'totals_put_correction',
      `INSERT INTO credit_corrections (tenant_id, customer_id, charge, period_start, credits) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (tenant_id, customer_id, charge, period_start) DO UPDATE SET credits = excluded.credits`,
      [tenantId, customerId, charge, fromMs, credits],
    )
  }

  async addUnique(tenantId: number, customerId: string, charge: string, fromMs: number, dimension: string, value: string): Promise<boolean> {
    const added = await this.sql.run(
      'totals_add_unique',
      'INSERT INTO credit_uniques (tenant_id, customer_id, charge, period_start, dimension, value) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING',
      [tenantId, customerId, charge, fromMs, dimension, value],
    )
    return added === 1
  }

  async clearUniques(tenantId: number, customerId: string, charge: string, fromMs: number): Promise<void> {
    await this.sql.run('totals_clear_uniques', 'DELETE FROM credit_uniques WHERE tenant_id = $1 AND customer_id = $2 AND charge = $3 AND period_start = $4', [tenantId, customerId, charge, fromMs])
  }
}

// Credits on the embedded store: grants, top-ups, reservations, the balance and the ledger, and
// the real-time deduction of credit-priced usage. Every change loads the customer's state, runs
// a pure ledger operation (credits/) and writes its entries and the new state in one
// IMMEDIATE transaction, so the ledger balances after every commit (CONTRACT §7.5).
import { randomBytes } from 'node:crypto'
import type Database from 'better-sqlite3'
import type { FeatureConfig, TenantConfig } from '@meterkit/protocol'
import type Big from 'big.js'
import { ZERO, decimal, formatDecimal } from '../../../decimal.js'
import {
  type BalanceView, type Change, type CustomerCredits, type LedgerEntryView, type Outcome,
  addGrant, advance, balanceView, deduct, entryView, hold, refund, release, renew, settle, settleOverage, voidGrant,
} from '../../../credits/index.js'
import { formatMoney, roundMoney } from '../../../rating/index.js'
import { boundaryAfter } from '../../../billing/timeline.js'
import type { CreditFailure, CreditResult, CreditStore, GrantRequest, Page, ReservationAnswer } from '../../port.js'
import type { LoadedSubscription } from '../../../billing/subscriptions.js'
import type { SqliteSubscriptionRows } from '../billing/subscription-rows.js'
import type { UsageReader } from '../usage-reader.js'
import type { EventFoldRow } from '../derived.js'
import { CreditCosts } from './credit-costs.js'
import { CreditRows } from './credit-rows.js'
import { contextAt, creditCharges } from '../../../credits/plan-context.js'
import { LimitAlerts } from './limit-alerts.js'


/** Emits a webhook event (`balance.low`, `top_up.created`, …) inside the current transaction. */
export type Notify = (tenantId: number, type: string, data: Record<string, unknown>, atMs: number) => void

const newId = (prefix: string) => `${prefix}_${randomBytes(12).toString('base64url')}`
const invalid = (message: string): CreditFailure => ({ ok: false, code: 'invalid', message })

/** An event as the fold reads it: what the rollups' fold reads, with its reservation and arrival. */
type EventRow = EventFoldRow & { reservation_id: string | null; received_at: number }

export class SqliteCredits implements CreditStore {
  readonly rows: CreditRows
  readonly costs: CreditCosts
  private readonly stmt
  /** Per subscription, the last period start whose plan grants exist (a cache; the state is the truth). */
  private readonly renewedThrough = new Map<string, number>()
  /** Customers' subscriptions for the fold, valid while the subscriptions generation holds. */
  private readonly subsCache = new Map<string, LoadedSubscription[]>()
  private subsGeneration = -1
  private readonly limits: LimitAlerts | undefined

  constructor(
    private readonly db: Database.Database,
    private readonly subs: SqliteSubscriptionRows,
    private readonly config: (tenantId: number) => { version: number; config: TenantConfig },
    private readonly notify: Notify = () => undefined,
    usage?: (tenantId: number, customerId: string, meter: string, fromMs: number, toMs: number) => Big,
  ) {
    this.limits = usage === undefined ? undefined : new LimitAlerts(db, usage)
    this.rows = new CreditRows(db)
    this.costs = new CreditCosts(db)
    this.stmt = {
      watermark: db.prepare("SELECT seq FROM index_state WHERE name = 'credits'").pluck(),
      setWatermark: db.prepare("UPDATE index_state SET seq = ? WHERE name = 'credits'"),
      lastSeq: db.prepare('SELECT coalesce(max(seq), 0) FROM events').pluck(),
      events: db.prepare(
        `SELECT seq, tenant_id, id, event, customer_id, ts, coalesce(current, properties) AS properties, source, status, reservation_id, received_at
         FROM events WHERE seq > ? AND seq <= ? ORDER BY seq`,
      ),
      reservation: db.prepare('SELECT id, customer_id, credits, granted, available, expires_at FROM credit_reservations WHERE tenant_id = ? AND id = ?'),
      putReservation: db.prepare(
        'INSERT INTO credit_reservations (tenant_id, id, customer_id, credits, granted, available, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      autoTopUp: db.prepare('SELECT threshold, credits, amount, armed FROM auto_top_ups WHERE tenant_id = ? AND customer_id = ?'),
      putAutoTopUp: db.prepare(
        `INSERT INTO auto_top_ups (tenant_id, customer_id, threshold, credits, amount, armed) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT DO UPDATE SET threshold = excluded.threshold, credits = excluded.credits, amount = excluded.amount, armed = excluded.armed`,
      ),
      setArmed: db.prepare('UPDATE auto_top_ups SET armed = ? WHERE tenant_id = ? AND customer_id = ?'),
      alert: db.prepare('SELECT armed FROM credit_alerts WHERE tenant_id = ? AND customer_id = ? AND kind = ?').pluck(),
      putAlert: db.prepare('INSERT OR REPLACE INTO credit_alerts (tenant_id, customer_id, kind, armed) VALUES (?, ?, ?, ?)'),
      purchase: db.prepare('INSERT OR IGNORE INTO credit_purchases (tenant_id, customer_id, grant_id, credits, amount, at) VALUES (?, ?, ?, ?, ?, ?)'),
      ensureCustomer: db.prepare("INSERT INTO customers (tenant_id, id, timezone, created_at) VALUES (?, ?, 'UTC', ?) ON CONFLICT DO NOTHING"),
      overageEntries: db.prepare(
        `SELECT type, credits, at FROM credit_entries WHERE tenant_id = ? AND customer_id = ?
         AND ((type = 'deduction' AND grant_id IS NULL) OR type = 'overage_settled')`,
      ),
      customerExists: db.prepare('SELECT 1 FROM customers WHERE tenant_id = ? AND id = ?').pluck(),
    }
  }

  // ---- the shape of every change ----

  /**
   * Runs one ledger operation for a customer in the caller's transaction: plan grants due by now
   * first, then `op`, then the thresholds it may have crossed (auto top-up, low balance).
   */
  private change<T extends object>(
    tenantId: number, customerId: string, nowMs: number, op: (s: CustomerCredits) => Outcome<T, string> | undefined,
  ): (Outcome<T, string> & { state?: CustomerCredits }) | undefined {
    const subs = this.subs.loadCustomer(tenantId, customerId)
    let state = this.renewPlanGrants(tenantId, customerId, subs, this.rows.load(tenantId, customerId), nowMs)
    const out = op(state)
    if (out === undefined || !out.ok) return out
    this.rows.save(tenantId, customerId, out)
    state = out.state
    this.afterChange(tenantId, customerId, subs, state, nowMs)
    return out
  }

  private persist(tenantId: number, customerId: string, change: Change): CustomerCredits {
    this.rows.save(tenantId, customerId, change)
    return change.state
  }

  /** Plan grants of every period begun by now: one-time ones at the start, recurring ones each period (with rollover). */
  private renewPlanGrants(tenantId: number, customerId: string, subs: readonly LoadedSubscription[], state: CustomerCredits, nowMs: number): CustomerCredits {
    for (const sub of subs) {
      const t = sub.timeline
      const key = `${tenantId}:${sub.record.id}`
      let periodStart = this.renewedThrough.get(key) ?? t.startMs
      if (periodStart > nowMs) continue
      for (;;) {
        const ctx = contextAt([sub], periodStart)
        const end = boundaryAfter(t, periodStart)
        if (ctx === undefined || end === undefined) break
        ;(ctx.plan.grants ?? []).forEach((g, i) => {
          const series = `${sub.record.id}:${ctx.plan.key}:${i}`
          const out = g.recurring === undefined
            ? (periodStart === t.startMs || periodStart === ctx.phase.startMs
              ? addGrant(state, { id: series, credits: g.credits, priority: g.priority, effectiveAtMs: periodStart, expiresAfter: g.expiresAfter, rollover: g.rollover, source: `plan ${ctx.plan.key}` }, nowMs)
              : undefined)
            : renew(state, { series, credits: g.credits, priority: g.priority, expiresAfter: g.expiresAfter, recurring: g.recurring, rollover: g.rollover, source: `plan ${ctx.plan.key}`, periodStartMs: periodStart, periodEndMs: end }, nowMs)
          if (out?.ok && out.entries.length + out.grants.length > 0) state = this.persist(tenantId, customerId, out)
        })
        this.renewedThrough.set(key, periodStart)
        if (end > nowMs) break
        periodStart = end
      }
    }
    return state
  }

  /** Thresholds crossed by a change: an auto top-up once per crossing, a `balance.low` alert once per crossing. */
  private afterChange(tenantId: number, customerId: string, subs: readonly LoadedSubscription[], state: CustomerCredits, nowMs: number): void {
    const available = state.balance.minus(state.reserved)
    const auto = this.stmt.autoTopUp.get(tenantId, customerId) as { threshold: string; credits: string; amount: string | null; armed: number } | undefined
    if (auto !== undefined) {
      const below = available.lt(auto.threshold)
      if (below && auto.armed === 1) {
        this.stmt.setArmed.run(0, tenantId, customerId)
        const id = newId('topup')
        const out = addGrant(state, { id, credits: auto.credits, kind: 'top_up', source: 'auto top-up' }, nowMs)
        if (out.ok) {
          state = this.persist(tenantId, customerId, out)
          this.recordPurchase(tenantId, customerId, subs, id, decimal(auto.credits), auto.amount, nowMs, true)
        }
      } else if (!below && auto.armed === 0) {
        this.stmt.setArmed.run(1, tenantId, customerId)
      }
    }
    const plan = contextAt(subs, nowMs)?.plan
    if (plan?.lowBalance !== undefined) {
      const now = state.balance.minus(state.reserved)
      const armed = (this.stmt.alert.get(tenantId, customerId, 'balance.low') as number | undefined) ?? 1
      const below = now.lt(plan.lowBalance)
      if (below && armed === 1) {
        this.stmt.putAlert.run(tenantId, customerId, 'balance.low', 0)
        this.notify(tenantId, 'balance.low', { customerId, balance: formatDecimal(state.balance), available: formatDecimal(now), threshold: plan.lowBalance }, nowMs)
      } else if (!below && armed === 0) {
        this.stmt.putAlert.run(tenantId, customerId, 'balance.low', 1)
      }
    }
  }

  private recordPurchase(tenantId: number, customerId: string, subs: readonly LoadedSubscription[], grantId: string, credits: Big, amount: string | null | undefined, nowMs: number, automatic = false): string {
    const plan = contextAt(subs, nowMs)?.plan
    const currency = plan?.currency ?? 'USD'
    const money = amount ?? (plan?.creditPrice === undefined ? '0' : formatMoney(roundMoney(credits.times(plan.creditPrice), currency), currency))
    this.stmt.purchase.run(tenantId, customerId, grantId, credits.toString(), money, nowMs)
    this.notify(tenantId, 'top_up.created', { id: grantId, customerId, grantId, credits: credits.toString(), amount: money, currency, automatic }, nowMs)
    return money
  }

  // ---- real-time deduction ----

  watermark(): number {
    return this.stmt.watermark.get() as number
  }

  /**
   * Folds up to `limit` events past the credits watermark: each event's cost is deducted in burn
   * order (one deduction per customer and pass, naming its events), an event naming a
   * reservation settles it. Safe from any connection: it all happens under the write lock.
   */
  fold(limit = 5000): number {
    // Nothing new: no write lock taken (reads and reservations call this first).
    if ((this.stmt.watermark.get() as number) >= (this.stmt.lastSeq.get() as number)) return 0
    return this.db.transaction(() => {
      const from = this.stmt.watermark.get() as number
      const to = Math.min(from + limit, this.stmt.lastSeq.get() as number)
      if (to <= from) return 0
      const generation = this.subs.generation()
      if (generation !== this.subsGeneration) {
        this.subsCache.clear()
        this.subsGeneration = generation
      }
      const byCustomer = new Map<string, EventRow[]>()
      for (const row of this.stmt.events.all(from, to) as EventRow[]) {
        const key = `${row.tenant_id}\u0000${row.customer_id}`
        const list = byCustomer.get(key)
        if (list === undefined) byCustomer.set(key, [row])
        else list.push(row)
      }
      const features = new Map<number, readonly FeatureConfig[]>()
      for (const rows of byCustomer.values()) {
        const tenantId = rows[0]!.tenant_id
        let f = features.get(tenantId)
        if (f === undefined) {
          f = this.config(tenantId).config.features
          features.set(tenantId, f)
        }
        this.foldCustomer(rows, f)
      }
      this.stmt.setWatermark.run(to)
      // Caught up: feature limits are read while the unfolded tail is short.
      if (to - from < limit && this.limits !== undefined) {
        const nowMs = Math.max(...[...byCustomer.values()].map((rows) => rows[rows.length - 1]!.received_at))
        this.limits.sweep(nowMs, this.notify)
      }
      return to - from
    }).immediate()
  }

  /** Folds every event stored so far (before a read that must include them all). */
  catchUp(): void {
    while (this.fold(5_000) > 0) {
      // until caught up
    }
  }

  private foldCustomer(rows: EventRow[], features: readonly FeatureConfig[]): void {
    const tenantId = rows[0]!.tenant_id
    const customerId = rows[0]!.customer_id
    const cacheKey = `${tenantId}\u0000${customerId}`
    let subs = this.subsCache.get(cacheKey)
    if (subs === undefined) {
      subs = this.subs.loadCustomer(tenantId, customerId)
      if (this.subsCache.size >= 100_000) this.subsCache.clear()
      this.subsCache.set(cacheKey, subs)
    }
    // Nothing priced in credits and no reservation settled: nothing to deduct (plan grants are
    // renewed by the next credit operation or read).
    if (rows.every((r) => r.reservation_id === null) && !subs.some((sub) => sub.timeline.phases.some((p) => creditCharges(p.plan).length > 0))) return
    this.limits?.note(tenantId, customerId, features, subs)
    const atMs = rows[rows.length - 1]!.received_at
    let state = this.renewPlanGrants(tenantId, customerId, subs, this.rows.load(tenantId, customerId), atMs)
    const costs = this.costs.costCustomer(tenantId, customerId, subs, rows)
    let changed = false
    for (const { event, cost } of costs.settlements) {
      const out = settle(state, { reservationId: event.reservation_id!, cost, eventIds: [event.id] }, (event as EventRow).received_at)
      if (out.ok) {
        state = this.persist(tenantId, customerId, out)
        changed = true
      }
    }
    if (costs.eventIds.length > 0 && costs.total.gt(0)) {
      const out = deduct(state, { credits: costs.total, eventIds: costs.eventIds }, atMs)
      if (out.ok && out.entries.length > 0) {
        state = this.persist(tenantId, customerId, out)
        changed = true
      }
    }
    if (changed) this.afterChange(tenantId, customerId, subs, state, atMs)
  }

  // ---- the API ----

  async balance(tenantId: number, customerId: string, nowMs: number): Promise<BalanceView> {
    this.catchUp()
    return this.db.transaction(() => {
      const subs = this.subs.loadCustomer(tenantId, customerId)
      const state = this.renewPlanGrants(tenantId, customerId, subs, this.rows.load(tenantId, customerId), nowMs)
      return balanceView(state, nowMs)
    }).immediate()
  }

  async ledger(tenantId: number, customerId: string, q: { cursor?: string; limit: number }): Promise<Page<LedgerEntryView>> {
    this.catchUp()
    const after = q.cursor === undefined ? 0 : Number(q.cursor)
    if (!Number.isInteger(after) || after < 0) throw new RangeError('cursor: not a cursor this list returned')
    const entries = this.rows.entries(tenantId, customerId, after, q.limit + 1)
    const page = entries.slice(0, q.limit)
    const last = page[page.length - 1]
    return { data: page.map(entryView), nextCursor: entries.length > q.limit && last ? last.id.slice(3) : null }
  }

  async grant(
    tenantId: number, customerId: string,
    input: GrantRequest,
    nowMs: number,
  ): Promise<CreditResult<{ view: BalanceView; grantId: string; created: boolean }>> {
    return this.db.transaction((): CreditResult<{ view: BalanceView; grantId: string; created: boolean }> => {
      this.stmt.ensureCustomer.run(tenantId, customerId, nowMs)
      const id = input.id ?? newId('grant')
      const out = this.change(tenantId, customerId, nowMs, (s) => addGrant(s, { ...input, id }, nowMs))
      if (out === undefined || !out.ok) return invalid(grantMessage(out))
      return { ok: true, value: { view: balanceView(out.state, nowMs), grantId: id, created: !out.duplicate } }
    }).immediate()
  }

  async voidGrant(tenantId: number, customerId: string, grantId: string, reason: string | undefined, nowMs: number): Promise<CreditResult<BalanceView>> {
    this.catchUp()
    return this.db.transaction((): CreditResult<BalanceView> => {
      const out = this.change(tenantId, customerId, nowMs, (s) => voidGrant(s, { grantId, reason }, nowMs))
      if (out === undefined) return invalid('grant: invalid')
      if (!out.ok) return out.code === 'grant_not_found' ? { ok: false, code: 'not_found', message: 'no grant with this id' } : { ok: false, code: 'conflict', message: `grant: ${out.message}` }
      return { ok: true, value: balanceView(out.state, nowMs) }
    }).immediate()
  }

  async topUp(tenantId: number, customerId: string, input: { id?: string; credits: string; amount?: string; expiresAfter?: string }, nowMs: number) {
    return this.db.transaction((): CreditResult<{ grantId: string; credits: string; amount: string; created: boolean; view: BalanceView }> => {
      this.stmt.ensureCustomer.run(tenantId, customerId, nowMs)
      const id = input.id ?? newId('topup')
      const out = this.change(tenantId, customerId, nowMs, (s) => addGrant(s, { id, credits: input.credits, expiresAfter: input.expiresAfter, kind: 'top_up', source: 'top-up' }, nowMs))
      if (out === undefined || !out.ok) return invalid(grantMessage(out))
      const amount = out.duplicate ? input.amount ?? '' : this.recordPurchase(tenantId, customerId, this.subs.loadCustomer(tenantId, customerId), id, decimal(input.credits), input.amount, nowMs)
      return { ok: true, value: { grantId: id, credits: input.credits, amount, created: !out.duplicate, view: balanceView(out.state, nowMs) } }
    }).immediate()
  }

  async setAutoTopUp(tenantId: number, customerId: string, input: { threshold: string; credits: string; amount?: string }, nowMs: number) {
    return this.db.transaction(() => {
      this.stmt.ensureCustomer.run(tenantId, customerId, nowMs)
      this.stmt.putAutoTopUp.run(tenantId, customerId, input.threshold, input.credits, input.amount ?? null, 1)
      // Already below the threshold: this is a crossing too.
      const subs = this.subs.loadCustomer(tenantId, customerId)
      const state = this.renewPlanGrants(tenantId, customerId, subs, this.rows.load(tenantId, customerId), nowMs)
      this.afterChange(tenantId, customerId, subs, state, nowMs)
      return { ...input, view: balanceView(this.rows.load(tenantId, customerId), nowMs) }
    }).immediate()
  }

  /** Whether the customer's plan refuses holds it cannot cover: `overage: "block"` or a hard feature limit. */
  private blocks(tenantId: number, subs: readonly LoadedSubscription[], nowMs: number): boolean {
    const plan = contextAt(subs, nowMs)?.plan
    if (plan === undefined) return false
    if (plan.overage === 'block') return true
    const features = this.config(tenantId).config.features
    return (plan.features ?? []).some((key) => features.some((f) => f.key === key && f.type === 'metered' && f.hard === true))
  }

  async reserve(tenantId: number, input: { id?: string; customerId: string; credits: string; ttlMs?: number }, nowMs: number): Promise<CreditResult<{ answer: ReservationAnswer; created: boolean }>> {
    this.catchUp()
    return this.db.transaction((): CreditResult<{ answer: ReservationAnswer; created: boolean }> => {
      const id = input.id ?? newId('res')
      const known = this.stmt.reservation.get(tenantId, id) as { customer_id: string; credits: string; granted: number; available: string; expires_at: number } | undefined
      if (known !== undefined) {
        if (known.customer_id !== input.customerId || !decimal(known.credits).eq(input.credits)) return { ok: false, code: 'conflict', message: `id: reservation "${id}" exists with other terms` }
        return { ok: true, value: { answer: { id, customerId: known.customer_id, granted: known.granted === 1, available: known.available, credits: known.credits, expiresAtMs: known.expires_at }, created: false } }
      }
      this.stmt.ensureCustomer.run(tenantId, input.customerId, nowMs)
      const block = this.blocks(tenantId, this.subs.loadCustomer(tenantId, input.customerId), nowMs)
      const out = this.change(tenantId, input.customerId, nowMs, (s) => hold(s, { reservationId: id, credits: input.credits, ttlMs: input.ttlMs, block }, nowMs))
      if (out === undefined || !out.ok) return invalid(`credits: ${out?.message ?? 'invalid'}`)
      const answer = { id, customerId: input.customerId, granted: out.granted, available: formatDecimal(out.available), credits: decimal(input.credits).toString(), expiresAtMs: out.expiresAtMs }
      this.stmt.putReservation.run(tenantId, id, input.customerId, answer.credits, answer.granted ? 1 : 0, answer.available, answer.expiresAtMs, nowMs)
      return { ok: true, value: { answer, created: true } }
    }).immediate()
  }

  async release(tenantId: number, id: string, nowMs: number): Promise<CreditResult<{ id: string; released: boolean; available: string }>> {
    this.catchUp()
    return this.db.transaction((): CreditResult<{ id: string; released: boolean; available: string }> => {
      const known = this.stmt.reservation.get(tenantId, id) as { customer_id: string } | undefined
      if (known === undefined) return { ok: false, code: 'not_found', message: 'no reservation with this id' }
      const out = this.change(tenantId, known.customer_id, nowMs, (s) => {
        const r = release(s, id, nowMs)
        // Long closed and trimmed from the state: nothing is held, nothing to release.
        return r.ok || r.code !== 'reservation_not_found' ? r : { ok: true, ...advance(s, nowMs), reservation: undefined as never, released: false, available: s.balance.minus(s.reserved) }
      })
      if (out === undefined || !out.ok) return invalid(out?.message ?? 'invalid')
      return { ok: true, value: { id, released: out.released, available: formatDecimal(out.available) } }
    }).immediate()
  }

  // ---- corrections and period close (called inside the store's transactions) ----

  /**
   * Brings what a charge's stretch has been charged to `expected`, naming `eventIds`: a deduction
   * when more is due, a refund (to the grants the credits came from) when less.
   */
  adjustCharged(tenantId: number, customerId: string, sub: LoadedSubscription, chargeKey: string, fromMs: number, expected: Big, eventIds: string[], reason: string, atMs: number): void {
    const diff = expected.minus(this.costs.charged(tenantId, customerId, sub.record.id, chargeKey, fromMs))
    if (diff.eq(0) || eventIds.length === 0) return
    const out = this.change(tenantId, customerId, atMs, (s) => {
      if (diff.gt(0)) return deduct(s, { credits: diff, eventIds }, atMs)
      const sources = [...new Map([...new Set(eventIds)].flatMap((id) => this.rows.entriesNaming(tenantId, customerId, id)).map((e) => [e.id, e])).values()]
      const r = refund(s, { eventIds, credits: diff.neg(), sources, reason }, atMs)
      return r.ok ? r : undefined
    })
    // A refund larger than these events' deductions (never charged in real time) changes nothing.
    if (out?.ok) this.costs.correct(tenantId, customerId, sub.record.id, chargeKey, fromMs, diff)
  }

  /**
   * Settles on an invoice the overage incurred before `periodEndMs` (later overage waits for the
   * next invoice): the credits owed, now invoiced, come back to the balance.
   */
  settleOverage(tenantId: number, customerId: string, invoiceId: string, periodEndMs: number, atMs: number): Big {
    const state = this.rows.load(tenantId, customerId)
    if (state.owed.eq(0)) return ZERO
    let incurred = ZERO
    let settled = ZERO
    for (const r of this.stmt.overageEntries.all(tenantId, customerId) as { type: string; credits: string; at: number }[]) {
      if (r.type === 'overage_settled') settled = settled.plus(r.credits)
      else if (r.at < periodEndMs) incurred = incurred.minus(r.credits)
    }
    let due = incurred.minus(settled)
    if (due.gt(state.owed)) due = state.owed
    if (due.lte(0)) return ZERO
    const out = settleOverage(state, { invoiceId, credits: due }, atMs)
    if (!out.ok) return ZERO
    this.rows.save(tenantId, customerId, out)
    return out.settled
  }

  /** Credits owed now (for previews). */
  owed(tenantId: number, customerId: string): Big {
    return this.rows.load(tenantId, customerId).owed
  }

  customerExists(tenantId: number, customerId: string): boolean {
    return this.stmt.customerExists.get(tenantId, customerId) !== undefined
  }
}

function grantMessage(out: { ok: false; code: string; message: string } | undefined): string {
  if (out === undefined) return 'credits: invalid grant'
  const field: Record<string, string> = {
    invalid_id: 'id', invalid_credits: 'credits', invalid_priority: 'priority', invalid_duration: 'expiresAfter', invalid_expiry: 'expiresAt', grant_expired: 'expiresAt',
  }
  return `${field[out.code] ?? 'grant'}: ${out.message}`
}

/** A meter's usage as a number, for threshold checks. */
export function usageOf(reader: UsageReader) {
  return (tenantId: number, customerId: string, meter: string, fromMs: number, toMs: number): Big => {
    const r = reader.usage(tenantId, { customerId, meter, fromMs, toMs, window: 'none', groupBy: [] })
    return 'error' in r || r.value === null ? ZERO : decimal(r.value)
  }
}

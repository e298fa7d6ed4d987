// Credits over the storage port: grants, top-ups, reservations, the balance and the ledger, and
// the real-time deduction of credit-priced usage. Every change loads the customer's state, runs
// a pure ledger operation and writes its entries and the new state in one write transaction, so
// the ledger balances after every commit (CONTRACT §7.5).
import { randomBytes } from 'node:crypto'
import type { FeatureConfig } from '@meterkit/protocol'
import type Big from 'big.js'
import { ZERO, decimal, formatDecimal } from '../decimal.js'
import { formatMoney, roundMoney } from '../rating/index.js'
import { type LoadedSubscription, customerSubscriptions } from '../billing/subscriptions.js'
import { boundaryAfter } from '../billing/timeline.js'
import type { CreditFailure, CreditResult, CreditStore, GrantRequest, Page, ReservationAnswer } from '../store/port.js'
import type { Storage, Tx } from '../store/storage.js'
import type { EventRecord } from '../meters/storage.js'
import type { WebhookData, WebhookEventType } from '../webhooks/payloads.js'
import {
  type BalanceView, type Change, type CustomerCredits, type LedgerEntryView, type Outcome,
  addGrant, advance, balanceView, deduct, entryView, hold, overageDue, refund, release, renew, settle, settleOverage, voidGrant,
} from './index.js'
import { CreditCosts } from './credit-costs.js'
import { LimitAlerts } from './limit-alerts.js'
import { contextAt, creditCharges } from './plan-context.js'

/** Emits a webhook event (`balance.low`, `top_up.created`, …) inside the caller's transaction. */
export type Notify = (tx: Tx, tenantId: number, type: WebhookEventType, data: Record<string, unknown>, atMs: number) => Promise<void>

const newId = (prefix: string) => `${prefix}_${randomBytes(12).toString('base64url')}`
const invalid = (message: string): CreditFailure => ({ ok: false, code: 'invalid', message })

/** A credits pass sorted out in a read snapshot, not yet deducted. */
export interface PreparedCredits {
  from: number
  to: number
  subsGeneration: number
  /** Each customer's events of the pass, in order; only customers with something to deduct. */
  customers: EventRecord[][]
  lastReceivedAtMs: number
}

/**
 * Whether a customer's events of a pass can change its credits: nothing priced in credits and no
 * reservation settled means nothing to deduct (plan grants are renewed by the next credit
 * operation or read).
 */
function needsCredits(rows: readonly EventRecord[], subs: readonly LoadedSubscription[]): boolean {
  return rows.some((r) => r.reservationId !== null) || subs.some((sub) => sub.timeline.phases.some((p) => creditCharges(p.plan).length > 0))
}

/** Events of one fold pass at most: each customer's state is loaded and written once for many events. */
export const CREDITS_FOLD_PASS = 20_000

export class CreditsService implements CreditStore {
  private readonly costs = new CreditCosts()
  /** Per subscription, the last period start whose plan grants exist (a cache; the state is the truth). */
  private readonly renewedThrough = new Map<string, number>()
  /** Customers' subscriptions for the fold, valid while the subscriptions generation holds. */
  private readonly subsCache = new Map<string, LoadedSubscription[]>()
  private subsGeneration = -1
  private readonly limits = new LimitAlerts()

  constructor(private readonly storage: Storage) {}

  private readonly notify: Notify = async (tx, tenantId, type, data, atMs) => {
    const endpoints = (await tx.configs.current(tenantId)).config.webhooks ?? []
    await tx.outbox.enqueue(tenantId, endpoints, type, data as unknown as WebhookData[typeof type], atMs)
  }

  // ---- the shape of every change ----

  /**
   * Runs one ledger operation for a customer in the caller's transaction: plan grants due by now
   * first, then `op`, then the thresholds it may have crossed (auto top-up, low balance).
   */
  private async change<T extends object>(
    tx: Tx, tenantId: number, customerId: string, nowMs: number, op: (s: CustomerCredits) => Outcome<T, string> | undefined,
  ): Promise<(Outcome<T, string> & { state?: CustomerCredits }) | undefined> {
    const subs = await customerSubscriptions(tx, tenantId, customerId)
    let state = await this.renewPlanGrants(tx, tenantId, customerId, subs, await tx.ledger.state(tenantId, customerId), nowMs)
    const out = op(state)
    if (out === undefined || !out.ok) return out
    await tx.ledger.save(tenantId, customerId, out)
    state = out.state
    await this.afterChange(tx, tenantId, customerId, subs, state, nowMs)
    return out
  }

  private async persist(tx: Tx, tenantId: number, customerId: string, change: Change): Promise<CustomerCredits> {
    await tx.ledger.save(tenantId, customerId, change)
    return change.state
  }

  /** Plan grants of every period begun by now: one-time ones at the start, recurring ones each period (with rollover). */
  private async renewPlanGrants(tx: Tx, tenantId: number, customerId: string, subs: readonly LoadedSubscription[], state: CustomerCredits, nowMs: number): Promise<CustomerCredits> {
    for (const sub of subs) {
      const t = sub.timeline
      const key = `${tenantId}:${sub.record.id}`
      let periodStart = this.renewedThrough.get(key) ?? t.startMs
      if (periodStart > nowMs) continue
      for (;;) {
        const ctx = contextAt([sub], periodStart)
        const end = boundaryAfter(t, periodStart)
        if (ctx === undefined || end === undefined) break
        const grants = ctx.plan.grants ?? []
        for (let i = 0; i < grants.length; i++) {
          const g = grants[i]!
          const series = `${sub.record.id}:${ctx.plan.key}:${i}`
          const out = g.recurring === undefined
            ? (periodStart === t.startMs || periodStart === ctx.phase.startMs
              ? addGrant(state, { id: series, credits: g.credits, priority: g.priority, effectiveAtMs: periodStart, expiresAfter: g.expiresAfter, rollover: g.rollover, source: `plan ${ctx.plan.key}` }, nowMs)
              : undefined)
            : renew(state, { series, credits: g.credits, priority: g.priority, expiresAfter: g.expiresAfter, recurring: g.recurring, rollover: g.rollover, source: `plan ${ctx.plan.key}`, periodStartMs: periodStart, periodEndMs: end }, nowMs)
          if (out?.ok && out.entries.length + out.grants.length > 0) state = await this.persist(tx, tenantId, customerId, out)
        }
        this.renewedThrough.set(key, periodStart)
        if (end > nowMs) break
        periodStart = end
      }
    }
    return state
  }

  /** Thresholds crossed by a change: an auto top-up once per crossing, a `balance.low` alert once per crossing. */
  private async afterChange(tx: Tx, tenantId: number, customerId: string, subs: readonly LoadedSubscription[], state: CustomerCredits, nowMs: number): Promise<void> {
    const available = state.balance.minus(state.reserved)
    const auto = await tx.thresholds.autoTopUp(tenantId, customerId)
    if (auto !== undefined) {
      const below = available.lt(auto.threshold)
      if (below && auto.armed) {
        await tx.thresholds.setAutoTopUpArmed(tenantId, customerId, false)
        const id = newId('topup')
        const out = addGrant(state, { id, credits: auto.credits, kind: 'top_up', source: 'auto top-up' }, nowMs)
        if (out.ok) {
          state = await this.persist(tx, tenantId, customerId, out)
          await this.recordPurchase(tx, tenantId, customerId, subs, id, decimal(auto.credits), auto.amount, nowMs, true)
        }
      } else if (!below && !auto.armed) {
        await tx.thresholds.setAutoTopUpArmed(tenantId, customerId, true)
      }
    }
    const plan = contextAt(subs, nowMs)?.plan
    if (plan?.lowBalance !== undefined) {
      const now = state.balance.minus(state.reserved)
      const armed = (await tx.thresholds.alert(tenantId, customerId, 'balance.low')) ?? true
      const below = now.lt(plan.lowBalance)
      if (below && armed) {
        await tx.thresholds.putAlert(tenantId, customerId, 'balance.low', false)
        await this.notify(tx, tenantId, 'balance.low', { customerId, balance: formatDecimal(state.balance), available: formatDecimal(now), threshold: plan.lowBalance }, nowMs)
      } else if (!below && !armed) {
        await tx.thresholds.putAlert(tenantId, customerId, 'balance.low', true)
      }
    }
  }

  private async recordPurchase(tx: Tx, tenantId: number, customerId: string, subs: readonly LoadedSubscription[], grantId: string, credits: Big, amount: string | null | undefined, nowMs: number, automatic = false): Promise<string> {
    const plan = contextAt(subs, nowMs)?.plan
    const currency = plan?.currency ?? 'USD'
    const money = amount ?? (plan?.creditPrice === undefined ? '0' : formatMoney(roundMoney(credits.times(plan.creditPrice), currency), currency))
    await tx.purchases.record(tenantId, customerId, { grantId, credits: credits.toString(), amount: money, atMs: nowMs })
    await this.notify(tx, tenantId, 'top_up.created', { id: grantId, customerId, grantId, credits: credits.toString(), amount: money, currency, automatic }, nowMs)
    return money
  }

  // ---- real-time deduction ----

  /**
   * Folds up to `limit` events past the credits watermark: each event's cost is deducted in burn
   * order (one deduction per customer and pass, naming its events), an event naming a
   * reservation settles it. Answers how many events it folded.
   */
  async fold(limit = CREDITS_FOLD_PASS): Promise<number> {
    // Nothing new: no write transaction (reads and reservations call this first).
    const behind = await this.storage.transaction('read', async (tx) => (await tx.watermarks.get('credits')) < (await tx.events.maxSeq()))
    if (!behind) return 0
    return this.storage.transaction('write', (tx) => this.foldIn(tx, limit))
  }

  /**
   * Folds, inside the caller's write transaction, every event up to `toSeq`: what a period's close
   * reconciles against is then exactly what was deducted in real time, whatever other
   * connections append meanwhile.
   */
  async catchUpIn(tx: Tx, toSeq: number): Promise<void> {
    while (await this.foldIn(tx, CREDITS_FOLD_PASS, toSeq) > 0) {
      // until caught up with toSeq
    }
  }

  private async foldIn(tx: Tx, limit: number, upToSeq?: number): Promise<number> {
    const from = await tx.watermarks.get('credits')
    const to = Math.min(from + limit, upToSeq ?? await tx.events.maxSeq())
    if (to <= from) return 0
    return this.applyFold(tx, await this.prepareFold(tx, from, to, await tx.events.range(from, to)), limit)
  }

  /**
   * Sorts the events of (from, to] by customer, from rows read by the caller (rows at or before
   * `from` are skipped), keeping only the customers with something to deduct: a credit-priced
   * plan or a settled reservation. Runs in a read snapshot, outside the write lock.
   */
  async prepareFold(tx: Tx, from: number, to: number, rows: readonly EventRecord[]): Promise<PreparedCredits> {
    const subsGeneration = await tx.subscriptions.generation()
    if (subsGeneration !== this.subsGeneration) {
      this.subsCache.clear()
      this.subsGeneration = subsGeneration
    }
    const byCustomer = new Map<string, EventRecord[]>()
    let lastReceivedAtMs = 0
    for (const row of rows) {
      if (row.seq <= from) continue
      if (row.receivedAtMs > lastReceivedAtMs) lastReceivedAtMs = row.receivedAtMs
      const key = `${row.tenantId}\u0000${row.customerId}`
      const list = byCustomer.get(key)
      if (list === undefined) byCustomer.set(key, [row])
      else list.push(row)
    }
    const customers: EventRecord[][] = []
    for (const list of byCustomer.values()) {
      if (needsCredits(list, await this.subscriptionsOf(tx, list[0]!.tenantId, list[0]!.customerId))) customers.push(list)
    }
    return { from, to, subsGeneration, customers, lastReceivedAtMs }
  }

  /**
   * Deducts a pass prepared in a read snapshot, inside the write transaction; redone from the
   * events under the lock if the subscriptions changed in between or another fold got there first.
   */
  async commitFold(tx: Tx, prepared: PreparedCredits, limit = CREDITS_FOLD_PASS): Promise<number> {
    if (await tx.watermarks.get('credits') !== prepared.from || await tx.subscriptions.generation() !== prepared.subsGeneration) return this.foldIn(tx, limit)
    return this.applyFold(tx, prepared, limit)
  }

  private async applyFold(tx: Tx, p: PreparedCredits, limit: number): Promise<number> {
    const features = new Map<number, readonly FeatureConfig[]>()
    for (const rows of p.customers) {
      const tenantId = rows[0]!.tenantId
      let f = features.get(tenantId)
      if (f === undefined) {
        f = (await tx.configs.current(tenantId)).config.features
        features.set(tenantId, f)
      }
      await this.foldCustomer(tx, rows, f)
    }
    await tx.watermarks.set('credits', p.to)
    // Caught up: feature limits are read while the unfolded tail is short.
    if (p.to - p.from < limit && p.lastReceivedAtMs > 0) await this.limits.sweep(tx, p.lastReceivedAtMs, this.notify)
    return p.to - p.from
  }

  private async subscriptionsOf(tx: Tx, tenantId: number, customerId: string): Promise<LoadedSubscription[]> {
    const cacheKey = `${tenantId}\u0000${customerId}`
    let subs = this.subsCache.get(cacheKey)
    if (subs === undefined) {
      subs = await customerSubscriptions(tx, tenantId, customerId)
      if (this.subsCache.size >= 100_000) this.subsCache.clear()
      this.subsCache.set(cacheKey, subs)
    }
    return subs
  }

  /** Folds every event stored so far (before a read that must include them all). */
  async catchUp(): Promise<void> {
    while (await this.fold(CREDITS_FOLD_PASS) > 0) {
      // until caught up
    }
  }

  private async foldCustomer(tx: Tx, rows: EventRecord[], features: readonly FeatureConfig[]): Promise<void> {
    const tenantId = rows[0]!.tenantId
    const customerId = rows[0]!.customerId
    const subs = await this.subscriptionsOf(tx, tenantId, customerId)
    if (!needsCredits(rows, subs)) return
    this.limits.note(tenantId, customerId, features, subs)
    const atMs = rows[rows.length - 1]!.receivedAtMs
    let state = await this.renewPlanGrants(tx, tenantId, customerId, subs, await tx.ledger.state(tenantId, customerId), atMs)
    const costs = await this.costs.costCustomer(tx, tenantId, customerId, subs, rows)
    let changed = false
    for (const { event, cost } of costs.settlements) {
      const out = settle(state, { reservationId: event.reservationId!, cost, eventIds: [event.id] }, (event as EventRecord).receivedAtMs)
      if (out.ok) {
        state = await this.persist(tx, tenantId, customerId, out)
        changed = true
      }
    }
    for (const { total, eventIds } of costs.deductions) {
      if (!total.gt(0)) continue
      const out = deduct(state, { credits: total, eventIds }, atMs)
      if (out.ok && out.entries.length > 0) {
        state = await this.persist(tx, tenantId, customerId, out)
        changed = true
      }
    }
    if (changed) await this.afterChange(tx, tenantId, customerId, subs, state, atMs)
  }

  // ---- the API ----

  async balance(tenantId: number, customerId: string, nowMs: number): Promise<BalanceView> {
    await this.catchUp()
    return this.storage.transaction('write', async (tx) => {
      const subs = await customerSubscriptions(tx, tenantId, customerId)
      const state = await this.renewPlanGrants(tx, tenantId, customerId, subs, await tx.ledger.state(tenantId, customerId), nowMs)
      return balanceView(state, nowMs)
    })
  }

  async ledger(tenantId: number, customerId: string, q: { cursor?: string; limit: number }): Promise<Page<LedgerEntryView>> {
    await this.catchUp()
    const after = q.cursor === undefined ? 0 : Number(q.cursor)
    if (!Number.isInteger(after) || after < 0) throw new RangeError('cursor: not a cursor this list returned')
    const entries = await this.storage.transaction('read', async (tx) => tx.ledger.entries(tenantId, customerId, after, q.limit + 1))
    const page = entries.slice(0, q.limit)
    const last = page[page.length - 1]
    return { data: page.map(entryView), nextCursor: entries.length > q.limit && last ? last.id.slice(3) : null }
  }

  async grant(tenantId: number, customerId: string, input: GrantRequest, nowMs: number): Promise<CreditResult<{ view: BalanceView; grantId: string; created: boolean }>> {
    return this.storage.transaction('write', async (tx): Promise<CreditResult<{ view: BalanceView; grantId: string; created: boolean }>> => {
      await tx.customers.ensure(tenantId, customerId, nowMs)
      const id = input.id ?? newId('grant')
      const out = await this.change(tx, tenantId, customerId, nowMs, (s) => addGrant(s, { ...input, id }, nowMs))
      if (out === undefined || !out.ok) return invalid(grantMessage(out))
      return { ok: true, value: { view: balanceView(out.state, nowMs), grantId: id, created: !out.duplicate } }
    })
  }

  async voidGrant(tenantId: number, customerId: string, grantId: string, reason: string | undefined, nowMs: number): Promise<CreditResult<BalanceView>> {
    await this.catchUp()
    return this.storage.transaction('write', async (tx): Promise<CreditResult<BalanceView>> => {
      const out = await this.change(tx, tenantId, customerId, nowMs, (s) => voidGrant(s, { grantId, reason }, nowMs))
      if (out === undefined) return invalid('grant: invalid')
      if (!out.ok) return out.code === 'grant_not_found' ? { ok: false, code: 'not_found', message: 'no grant with this id' } : { ok: false, code: 'conflict', message: `grant: ${out.message}` }
      return { ok: true, value: balanceView(out.state, nowMs) }
    })
  }

  async topUp(tenantId: number, customerId: string, input: { id?: string; credits: string; amount?: string; expiresAfter?: string }, nowMs: number) {
    return this.storage.transaction('write', async (tx): Promise<CreditResult<{ grantId: string; credits: string; amount: string; created: boolean; view: BalanceView }>> => {
      await tx.customers.ensure(tenantId, customerId, nowMs)
      const id = input.id ?? newId('topup')
      const out = await this.change(tx, tenantId, customerId, nowMs, (s) => addGrant(s, { id, credits: input.credits, expiresAfter: input.expiresAfter, kind: 'top_up', source: 'top-up' }, nowMs))
      if (out === undefined || !out.ok) return invalid(grantMessage(out))
      const amount = out.duplicate
        ? input.amount ?? ''
        : await this.recordPurchase(tx, tenantId, customerId, await customerSubscriptions(tx, tenantId, customerId), id, decimal(input.credits), input.amount, nowMs)
      return { ok: true, value: { grantId: id, credits: input.credits, amount, created: !out.duplicate, view: balanceView(out.state, nowMs) } }
    })
  }

  async setAutoTopUp(tenantId: number, customerId: string, input: { threshold: string; credits: string; amount?: string }, nowMs: number) {
    return this.storage.transaction('write', async (tx) => {
      await tx.customers.ensure(tenantId, customerId, nowMs)
      await tx.thresholds.putAutoTopUp(tenantId, customerId, { threshold: input.threshold, credits: input.credits, amount: input.amount ?? null }, true)
      // Already below the threshold: this is a crossing too.
      const subs = await customerSubscriptions(tx, tenantId, customerId)
      const state = await this.renewPlanGrants(tx, tenantId, customerId, subs, await tx.ledger.state(tenantId, customerId), nowMs)
      await this.afterChange(tx, tenantId, customerId, subs, state, nowMs)
      return { ...input, view: balanceView(await tx.ledger.state(tenantId, customerId), nowMs) }
    })
  }

  /** Whether the customer's plan refuses holds it cannot cover: `overage: "block"` or a hard feature limit. */
  private async blocks(tx: Tx, tenantId: number, subs: readonly LoadedSubscription[], nowMs: number): Promise<boolean> {
    const plan = contextAt(subs, nowMs)?.plan
    if (plan === undefined) return false
    if (plan.overage === 'block') return true
    const features = (await tx.configs.current(tenantId)).config.features
    return (plan.features ?? []).some((key) => features.some((f) => f.key === key && f.type === 'metered' && f.hard === true))
  }

  async reserve(tenantId: number, input: { id?: string; customerId: string; credits: string; ttlMs?: number }, nowMs: number): Promise<CreditResult<{ answer: ReservationAnswer; created: boolean }>> {
    await this.catchUp()
    return this.storage.transaction('write', async (tx): Promise<CreditResult<{ answer: ReservationAnswer; created: boolean }>> => {
      const id = input.id ?? newId('res')
      const known = await tx.reservations.get(tenantId, id)
      if (known !== undefined) {
        if (known.customerId !== input.customerId || !decimal(known.credits).eq(input.credits)) return { ok: false, code: 'conflict', message: `id: reservation "${id}" exists with other terms` }
        return { ok: true, value: { answer: { id, customerId: known.customerId, granted: known.granted, available: known.available, credits: known.credits, expiresAtMs: known.expiresAtMs }, created: false } }
      }
      await tx.customers.ensure(tenantId, input.customerId, nowMs)
      const block = await this.blocks(tx, tenantId, await customerSubscriptions(tx, tenantId, input.customerId), nowMs)
      const out = await this.change(tx, tenantId, input.customerId, nowMs, (s) => hold(s, { reservationId: id, credits: input.credits, ttlMs: input.ttlMs, block }, nowMs))
      if (out === undefined || !out.ok) return invalid(`credits: ${out?.message ?? 'invalid'}`)
      const answer = { id, customerId: input.customerId, granted: out.granted, available: formatDecimal(out.available), credits: decimal(input.credits).toString(), expiresAtMs: out.expiresAtMs }
      await tx.reservations.insert(tenantId, answer, nowMs)
      return { ok: true, value: { answer, created: true } }
    })
  }

  async release(tenantId: number, id: string, nowMs: number): Promise<CreditResult<{ id: string; released: boolean; available: string }>> {
    await this.catchUp()
    return this.storage.transaction('write', async (tx): Promise<CreditResult<{ id: string; released: boolean; available: string }>> => {
      const known = await tx.reservations.get(tenantId, id)
      if (known === undefined) return { ok: false, code: 'not_found', message: 'no reservation with this id' }
      const out = await this.change(tx, tenantId, known.customerId, nowMs, (s) => {
        const r = release(s, id, nowMs)
        // Long closed and trimmed from the state: nothing is held, nothing to release.
        return r.ok || r.code !== 'reservation_not_found' ? r : { ok: true, ...advance(s, nowMs), reservation: undefined as never, released: false, available: s.balance.minus(s.reserved) }
      })
      if (out === undefined || !out.ok) return invalid(out?.message ?? 'invalid')
      return { ok: true, value: { id, released: out.released, available: formatDecimal(out.available) } }
    })
  }

  // ---- corrections and period close (inside billing's transactions) ----

  /** Events with seq up to this have had their credit-priced usage deducted. */
  async watermark(tx: Tx): Promise<number> {
    return tx.watermarks.get('credits')
  }

  recount(tx: Tx, tenantId: number, customerId: string, subscriptionId: string, chargeKey: string, fromMs: number, quantities: Map<string, Big>): Promise<void> {
    return this.costs.recount(tx, tenantId, customerId, subscriptionId, chargeKey, fromMs, quantities)
  }

  charged(tx: Tx, tenantId: number, customerId: string, subscriptionId: string, chargeKey: string, fromMs: number): Promise<Big> {
    return this.costs.charged(tx, tenantId, customerId, subscriptionId, chargeKey, fromMs)
  }

  /**
   * Brings what a charge's stretch has been charged to `expected`, naming `eventIds`: a deduction
   * when more is due, a refund (to the grants the credits came from) when less.
   */
  async adjustCharged(tx: Tx, tenantId: number, customerId: string, sub: LoadedSubscription, chargeKey: string, fromMs: number, expected: Big, eventIds: string[], reason: string, atMs: number): Promise<void> {
    const diff = expected.minus(await this.costs.charged(tx, tenantId, customerId, sub.record.id, chargeKey, fromMs))
    if (diff.eq(0) || eventIds.length === 0) return
    const sources = diff.gt(0) ? [] : await this.refundSources(tx, tenantId, customerId, eventIds)
    const out = await this.change(tx, tenantId, customerId, atMs, (s) => {
      if (diff.gt(0)) return deduct(s, { credits: diff, eventIds }, atMs)
      const r = refund(s, { eventIds, credits: diff.neg(), sources, reason }, atMs)
      return r.ok ? r : undefined
    })
    // A refund larger than these events' deductions (never charged in real time) changes nothing.
    if (out?.ok) await this.costs.correct(tx, tenantId, customerId, sub.record.id, chargeKey, fromMs, diff)
  }

  /** The entries that charged the events, each once. */
  private async refundSources(tx: Tx, tenantId: number, customerId: string, eventIds: string[]) {
    const byId = new Map<string, Awaited<ReturnType<Tx['ledger']['entriesNaming']>>[number]>()
    for (const id of new Set(eventIds)) for (const e of await tx.ledger.entriesNaming(tenantId, customerId, id)) byId.set(e.id, e)
    return [...byId.values()]
  }

  /**
   * Settles on an invoice the overage of the period ending at `periodEndMs` and earlier ones (the
   * next period's waits for the next invoice): the credits owed, now invoiced, come back to the
   * balance.
   */
  async settleOverage(tx: Tx, tenantId: number, customerId: string, invoiceId: string, periodEndMs: number, atMs: number): Promise<Big> {
    const state = await tx.ledger.state(tenantId, customerId)
    if (state.owed.eq(0)) return ZERO
    const due = overageDue(await tx.ledger.overageEntries(tenantId, customerId), state.owed, periodEndMs)
    if (due.lte(0)) return ZERO
    const out = settleOverage(state, { invoiceId, credits: due }, atMs)
    if (!out.ok) return ZERO
    await tx.ledger.save(tenantId, customerId, out)
    return out.settled
  }

  /** What an invoice closing the period that ends at `periodEndMs` would settle now (drafts and previews). */
  async overageDue(tx: Tx, tenantId: number, customerId: string, periodEndMs: number): Promise<Big> {
    const state = await tx.ledger.state(tenantId, customerId)
    if (state.owed.eq(0)) return ZERO
    return overageDue(await tx.ledger.overageEntries(tenantId, customerId), state.owed, periodEndMs)
  }
}

function grantMessage(out: { ok: false; code: string; message: string } | undefined): string {
  if (out === undefined) return 'credits: invalid grant'
  const field: Record<string, string> = {
    invalid_id: 'id', invalid_credits: 'credits', invalid_priority: 'priority', invalid_duration: 'expiresAfter', invalid_expiry: 'expiresAt', grant_expired: 'expiresAt',
  }
  return `${field[out.code] ?? 'grant'}: ${out.message}`
}

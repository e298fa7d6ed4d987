// What an event costs in credits, the moment it is folded: for each credit-priced charge on an
// additive meter (sum, count, unique_count), price(period total after) − price(total before),
// so graduated and volume tiers price each event right. Other aggregations are priced when the
// period closes; so is anything a correction or a falling volume price changes.
import type { JsonValue, MeterConfig } from '@meterkit/protocol'
import type Big from 'big.js'
import { ZERO, decimal, numericToDecimal } from '../decimal.js'
import { canonicalJson } from '../json.js'
import { type CompiledMeter, compileMeter, contribution } from '../meters/meter.js'
import type { EventRecord } from '../meters/storage.js'
import { type UsageCharge, incrementCost, rateCharge } from '../rating/index.js'
import type { LoadedSubscription } from '../billing/subscriptions.js'
import type { Tx } from '../store/storage.js'
import { contextAt, creditCharges, pricedFrom } from './plan-context.js'

export type CostedEvent = Pick<EventRecord, 'id' | 'status' | 'reservationId' | 'event' | 'timestampMs' | 'properties' | 'source'>

const ADDITIVE = new Set(['sum', 'count', 'unique_count'])

interface Stretch {
  charge: UsageCharge
  key: string
  from: number
  /** The subscription's stretch of a period the charge belongs to: its deduction's group. */
  group: string
  /** Quantities per dimension value before the pass, and now. */
  start: Map<string, Big>
  now: Map<string, Big>
  /** Credits of this pass's settlements, already charged on their own. */
  settled: Big
  dimensional: boolean
}

export interface CustomerCosts {
  /**
   * What the events that settle no reservation cost, one deduction per stretch of a billing
   * period (a subscription's period, or its part under one plan), in the order the events came:
   * so each deduction, and its overage, belongs to one period.
   */
  deductions: { total: Big; eventIds: string[] }[]
  /** Events naming a reservation, in order, each with its own cost. */
  settlements: { event: CostedEvent; cost: Big }[]
}

const ONE = decimal(1)

export class CreditCosts {
  private readonly compiled = new Map<string, CompiledMeter>()

  private readonly byObject = new WeakMap<MeterConfig, CompiledMeter>()

  private meter(config: MeterConfig): CompiledMeter {
    const known = this.byObject.get(config)
    if (known !== undefined) return known
    const m = this.meterByJson(config)
    this.byObject.set(config, m)
    return m
  }

  private meterByJson(config: MeterConfig): CompiledMeter {
    const key = canonicalJson(config as unknown as JsonValue)
    let m = this.compiled.get(key)
    if (m === undefined) {
      m = compileMeter(config)
      this.compiled.set(key, m)
    }
    return m
  }

  /**
   * Costs one customer's events of a fold pass. Each charge stretch's usage is loaded once and
   * carried in memory; the pass's cost of a stretch is price(total after) − price(total before),
   * which equals the sum of the events' own increments, priced once. An event that settles a
   * reservation is priced on its own, at its place in the order, since its cost is its own.
   */
  async costCustomer(tx: Tx, tenantId: number, customerId: string, subs: readonly LoadedSubscription[], events: readonly CostedEvent[]): Promise<CustomerCosts> {
    const stretches = new Map<string, Stretch>()
    const settlements: { event: CostedEvent; cost: Big }[] = []
    /** Event id → its group, for the events charged in this pass. */
    const charged = new Map<string, string>()
    for (const e of events) {
      if (e.status === 'voided') continue
      const ctx = contextAt(subs, e.timestampMs)
      const charges = ctx === undefined ? [] : creditCharges(ctx.plan)
      let properties: JsonValue | undefined
      let own = ZERO
      for (const charge of charges) {
        const config = ctx!.phase.meters.find((m) => m.key === charge.meter)
        if (config === undefined || config.event !== e.event || !ADDITIVE.has(config.aggregation)) continue
        const meter = this.meter(config)
        properties ??= JSON.parse(e.properties) as JsonValue
        const c = contribution(meter, e.event, e.source, properties)
        if (c === undefined) continue
        const dimIndex = charge.model === 'dimensional' ? meter.groupBy.indexOf(charge.dimension) : -1
        const dimension = dimIndex < 0 ? '' : JSON.stringify((JSON.parse(c.groupKey) as JsonValue[])[dimIndex] ?? null)
        const from = pricedFrom(ctx!, e.timestampMs)
        const key = `${ctx!.sub.record.id}:${charge.key}`
        let increment: Big
        if (meter.aggregation === 'count') increment = ONE
        else if (meter.aggregation === 'sum') increment = numericToDecimal(c.value!)
        else increment = (await tx.chargeTotals.addUnique(tenantId, customerId, key, from, dimension, c.unique!)) ? ONE : ZERO
        if (increment.eq(0)) continue
        const id = `${key}\u0000${from}`
        let st = stretches.get(id)
        if (st === undefined) {
          const rows = await tx.chargeTotals.totals(tenantId, customerId, key, from)
          const quantities = new Map(rows.map((r) => [r.dimension, decimal(r.quantity)]))
          st = { charge, key, from, group: `${ctx!.sub.record.id}\u0000${from}`, start: new Map(quantities), now: quantities, settled: ZERO, dimensional: dimIndex >= 0 }
          stretches.set(id, st)
        }
        const before = st.now.get(dimension) ?? ZERO
        const after = before.plus(increment)
        if (e.reservationId !== null) {
          const raw = incrementCost(charge, before, after, dimIndex < 0 ? undefined : dimension, dimIndex < 0 ? undefined : st.now)
          const cost = raw.lt(0) ? ZERO : raw
          own = own.plus(cost)
          st.settled = st.settled.plus(cost)
        }
        st.now.set(dimension, after)
        if (e.reservationId === null) charged.set(e.id, st.group)
      }
      if (e.reservationId !== null) settlements.push({ event: e, cost: own })
    }
    const groups = new Map<string, { total: Big; eventIds: string[] }>()
    for (const e of events) {
      const group = charged.get(e.id)
      if (group === undefined) continue
      const g = groups.get(group)
      if (g === undefined) groups.set(group, { total: ZERO, eventIds: [e.id] })
      else g.eventIds.push(e.id)
    }
    for (const st of stretches.values()) {
      // A falling volume price is not refunded within a pass: the period's close settles it.
      const raw = this.priceOf(st.charge, st.now, st.dimensional).minus(this.priceOf(st.charge, st.start, st.dimensional)).minus(st.settled)
      const cost = raw.lt(0) ? ZERO : raw
      const g = groups.get(st.group)
      if (g !== undefined) g.total = g.total.plus(cost)
      for (const [dimension, quantity] of st.now) await tx.chargeTotals.putTotal(tenantId, customerId, st.key, st.from, dimension, quantity.toString(), '0')
      await this.addCharged(tx, tenantId, customerId, st.key, st.from, cost.plus(st.settled))
    }
    return { deductions: [...groups.values()], settlements }
  }

  private priceOf(charge: UsageCharge, quantities: Map<string, Big>, dimensional: boolean): Big {
    const usage = dimensional ? { quantity: ZERO, byDimension: quantities } : { quantity: quantities.get('') ?? ZERO }
    return rateCharge(charge, usage).reduce((a, l) => a.plus(l.amount), ZERO)
  }

  private async addCharged(tx: Tx, tenantId: number, customerId: string, key: string, fromMs: number, delta: Big): Promise<void> {
    if (delta.eq(0)) return
    const before = decimal((await tx.chargeTotals.correction(tenantId, customerId, key, fromMs)) ?? '0')
    await tx.chargeTotals.putCorrection(tenantId, customerId, key, fromMs, before.plus(delta).toString())
  }

  /** Credits a charge's stretch starting at `fromMs` has been charged: events plus corrections. */
  async charged(tx: Tx, tenantId: number, customerId: string, subscriptionId: string, chargeKey: string, fromMs: number): Promise<Big> {
    const key = `${subscriptionId}:${chargeKey}`
    const rows = await tx.chargeTotals.totals(tenantId, customerId, key, fromMs)
    const correction = await tx.chargeTotals.correction(tenantId, customerId, key, fromMs)
    return rows.reduce((a, r) => a.plus(r.credits), decimal(correction ?? '0'))
  }

  async correct(tx: Tx, tenantId: number, customerId: string, subscriptionId: string, chargeKey: string, fromMs: number, delta: Big): Promise<void> {
    await this.addCharged(tx, tenantId, customerId, `${subscriptionId}:${chargeKey}`, fromMs, delta)
  }

  /** Replaces a stretch's quantities (and unique values) with a recount from the events, after a correction. */
  async recount(tx: Tx, tenantId: number, customerId: string, subscriptionId: string, chargeKey: string, fromMs: number, quantities: Map<string, Big>, uniques?: Map<string, string[]>): Promise<void> {
    const key = `${subscriptionId}:${chargeKey}`
    const rows = await tx.chargeTotals.totals(tenantId, customerId, key, fromMs)
    const credits = new Map(rows.map((r) => [r.dimension, r.credits]))
    for (const dim of new Set([...credits.keys(), ...quantities.keys()])) {
      await tx.chargeTotals.putTotal(tenantId, customerId, key, fromMs, dim, (quantities.get(dim) ?? ZERO).toString(), credits.get(dim) ?? '0')
    }
    if (uniques !== undefined) {
      await tx.chargeTotals.clearUniques(tenantId, customerId, key, fromMs)
      for (const [dim, values] of uniques) for (const v of values) await tx.chargeTotals.addUnique(tenantId, customerId, key, fromMs, dim, v)
    }
  }
}

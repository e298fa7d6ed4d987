// What an event costs in credits, the moment it is folded: for each credit-priced charge on an
// additive meter (sum, count, unique_count), price(period total after) − price(total before),
// so graduated and volume tiers price each event right. Other aggregations are priced when the
// period closes; so is anything a correction or a falling volume price changes.
import type Database from 'better-sqlite3'
import type { JsonValue, MeterConfig } from '@meterkit/protocol'
import type Big from 'big.js'
import { ZERO, decimal, numericToDecimal } from '../../../decimal.js'
import { canonicalJson } from '../../../json.js'
import { type CompiledMeter, compileMeter, contribution } from '../../../meters/meter.js'
import { incrementCost } from '../../../rating/index.js'
import type { EventSource } from '../../port.js'
import type { LoadedSubscription } from '../billing/subscriptions.js'
import { contextAt, creditCharges, pricedFrom } from './plan-context.js'

export interface CostedEvent {
  id: string
  event: string
  ts: number
  properties: string
  source: EventSource
}

const ADDITIVE = new Set(['sum', 'count', 'unique_count'])

export class CreditCosts {
  private readonly stmt
  private readonly compiled = new Map<string, CompiledMeter>()

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

  private meter(config: MeterConfig): CompiledMeter {
    const key = canonicalJson(config as unknown as JsonValue)
    let m = this.compiled.get(key)
    if (m === undefined) {
      m = compileMeter(config)
      this.compiled.set(key, m)
    }
    return m
  }

  /** The event's cost in credits (≥ 0), recorded in the running totals of its charges. */
  cost(tenantId: number, customerId: string, subs: readonly LoadedSubscription[], e: CostedEvent): Big {
    const ctx = contextAt(subs, e.ts)
    if (ctx === undefined) return ZERO
    const charges = creditCharges(ctx.plan)
    if (charges.length === 0) return ZERO
    let properties: JsonValue | undefined
    let total = ZERO
    for (const charge of charges) {
      const config = ctx.phase.meters.find((m) => m.key === charge.meter)
      if (config === undefined || config.event !== e.event || !ADDITIVE.has(config.aggregation)) continue
      const meter = this.meter(config)
      properties ??= JSON.parse(e.properties) as JsonValue
      const c = contribution(meter, e.event, e.source, properties)
      if (c === undefined) continue
      const dimIndex = charge.model === 'dimensional' ? meter.groupBy.indexOf(charge.dimension) : -1
      const dimension = dimIndex < 0 ? '' : JSON.stringify((JSON.parse(c.groupKey) as JsonValue[])[dimIndex] ?? null)
      const from = pricedFrom(ctx, e.ts)
      const key = `${ctx.sub.row.id}:${charge.key}`
      let increment: Big
      if (meter.aggregation === 'count') increment = decimal(1)
      else if (meter.aggregation === 'sum') increment = numericToDecimal(c.value!)
      else increment = this.stmt.addUnique.run(tenantId, customerId, key, from, dimension, c.unique!).changes === 1 ? decimal(1) : ZERO
      if (increment.eq(0)) continue
      const rows = this.stmt.totals.all(tenantId, customerId, key, from) as { dimension: string; quantity: string; credits: string }[]
      const quantities = new Map(rows.map((r) => [r.dimension, decimal(r.quantity)]))
      const charged = decimal(rows.find((r) => r.dimension === dimension)?.credits ?? '0')
      const before = quantities.get(dimension) ?? ZERO
      const after = before.plus(increment)
      const raw = incrementCost(charge, before, after, dimIndex < 0 ? undefined : dimension, dimIndex < 0 ? undefined : quantities)
      // A falling volume price is not refunded event by event: the period's close settles it.
      const cost = raw.lt(0) ? ZERO : raw
      this.stmt.putTotal.run(tenantId, customerId, key, from, dimension, after.toString(), charged.plus(cost).toString())
      total = total.plus(cost)
    }
    return total
  }

  /** Credits a charge's stretch starting at `fromMs` has been charged: events plus corrections. */
  charged(tenantId: number, customerId: string, subscriptionId: string, chargeKey: string, fromMs: number): Big {
    const key = `${subscriptionId}:${chargeKey}`
    const rows = this.stmt.totals.all(tenantId, customerId, key, fromMs) as { credits: string }[]
    const correction = this.stmt.correction.get(tenantId, customerId, key, fromMs) as string | undefined
    return rows.reduce((a, r) => a.plus(r.credits), decimal(correction ?? '0'))
  }

  correct(tenantId: number, customerId: string, subscriptionId: string, chargeKey: string, fromMs: number, delta: Big): void {
    const key = `${subscriptionId}:${chargeKey}`
    const before = decimal((this.stmt.correction.get(tenantId, customerId, key, fromMs) as string | undefined) ?? '0')
    this.stmt.putCorrection.run(tenantId, customerId, key, fromMs, before.plus(delta).toString())
  }

  /** Replaces a stretch's quantities (and unique values) with a recount from the events, after a correction. */
  recount(tenantId: number, customerId: string, subscriptionId: string, chargeKey: string, fromMs: number, quantities: Map<string, Big>, uniques?: Map<string, string[]>): void {
    const key = `${subscriptionId}:${chargeKey}`
    const rows = this.stmt.totals.all(tenantId, customerId, key, fromMs) as { dimension: string; credits: string }[]
    const credits = new Map(rows.map((r) => [r.dimension, r.credits]))
    for (const dim of new Set([...credits.keys(), ...quantities.keys()])) {
      this.stmt.putTotal.run(tenantId, customerId, key, fromMs, dim, (quantities.get(dim) ?? ZERO).toString(), credits.get(dim) ?? '0')
    }
    if (uniques !== undefined) {
      this.stmt.clearUniques.run(tenantId, customerId, key, fromMs)
      for (const [dim, values] of uniques) for (const v of values) this.stmt.addUnique.run(tenantId, customerId, key, fromMs, dim, v)
    }
  }
}

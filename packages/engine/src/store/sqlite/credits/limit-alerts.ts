// `limit.reached`: a metered feature's usage reaching its limit in the current billing period,
// noticed as the credits fold passes over the customer's events, once per feature and period.
// The usage is read from the meter once per customer, feature and period, then carried forward
// by the events of each pass (sum and count meters; other aggregations are read again).
import type { FeatureConfig, JsonValue, PlanConfig } from '@meterkit/protocol'
import type Database from 'better-sqlite3'
import type Big from 'big.js'
import { numericToDecimal } from '../../../decimal.js'
import { compileMeter, contribution } from '../../../meters/meter.js'
import type { EventSource } from '../../port.js'
import type { LoadedSubscription } from '../billing/subscriptions.js'
import { billingPeriodAt, contextAt } from './plan-context.js'
import type { Notify } from './sqlite-credits.js'

const REREAD_MS = 60_000

type Metered = Extract<FeatureConfig, { type: 'metered' }>

export interface AlertEvent {
  event: string
  ts: number
  properties: string
  source: EventSource
  status: string
}

export class LimitAlerts {
  private readonly used = new Map<string, { used: Big; readAtMs: number }>()
  private readonly stmt

  constructor(
    db: Database.Database,
    private readonly usage: (tenantId: number, customerId: string, meter: string, fromMs: number, toMs: number) => Big,
  ) {
    this.stmt = {
      alerted: db.prepare('SELECT armed FROM credit_alerts WHERE tenant_id = ? AND customer_id = ? AND kind = ?').pluck(),
      mark: db.prepare('INSERT OR REPLACE INTO credit_alerts (tenant_id, customer_id, kind, armed) VALUES (?, ?, ?, 0)'),
    }
  }

  check(tenantId: number, customerId: string, features: readonly FeatureConfig[], subs: readonly LoadedSubscription[], events: readonly AlertEvent[], nowMs: number, notify: Notify): void {
    const ctx = contextAt(subs, nowMs)
    if (ctx === undefined) return
    for (const feature of metered(ctx.plan, features)) {
      const config = ctx.phase.meters.find((m) => m.key === feature.meter)
      if (config === undefined) continue
      const period = billingPeriodAt(ctx.sub, nowMs)
      const kind = `limit.reached:${feature.key}:${period.startMs}`
      if (this.stmt.alerted.get(tenantId, customerId, kind) !== undefined) continue
      const key = `${tenantId}\u0000${customerId}\u0000${kind}`
      const known = this.used.get(key)
      let used: Big
      let readAtMs = nowMs
      const meter = compileMeter(config)
      // Read again now and then: another connection's fold may have passed over some events.
      if (known === undefined || nowMs - known.readAtMs > REREAD_MS || (meter.aggregation !== 'sum' && meter.aggregation !== 'count')) {
        // Read after this pass's events are stored: they are already in it.
        used = this.usage(tenantId, customerId, meter.key, period.startMs, nowMs + 1)
      } else {
        used = known.used
        readAtMs = known.readAtMs
        for (const e of events) {
          if (e.status === 'voided' || e.ts < period.startMs || e.ts >= period.endMs || e.event !== meter.event) continue
          const c = contribution(meter, e.event, e.source, JSON.parse(e.properties) as JsonValue)
          if (c !== undefined) used = used.plus(meter.aggregation === 'count' ? 1 : numericToDecimal(c.value!))
        }
      }
      if (this.used.size >= 100_000) this.used.clear()
      this.used.set(key, { used, readAtMs })
      if (used.gte(feature.limit)) {
        this.stmt.mark.run(tenantId, customerId, kind)
        notify(tenantId, 'limit.reached', {
          customerId, feature: feature.key, meter: meter.key, limit: feature.limit, used: used.toString(), hard: feature.hard === true,
          periodStart: new Date(period.startMs).toISOString(), periodEnd: new Date(period.endMs).toISOString(),
        }, nowMs)
      }
    }
  }
}

function metered(plan: PlanConfig, features: readonly FeatureConfig[]): Metered[] {
  const keys = new Set(plan.features ?? [])
  return features.filter((f): f is Metered => f.type === 'metered' && keys.has(f.key))
}

// `limit.reached`: a metered feature's usage reaching its limit in the current billing period,
// once per feature and period. The credits fold notes which customers had events; a sweep reads
// their usage when the fold has caught up (so the unfolded tail every read adds is short): at
// once when few customers wait, else at most every SWEEP_MS, so a busy tenant costs one read per
// active customer every few seconds, not one per event.
import type { FeatureConfig, PlanConfig } from '@meterkit/protocol'
import type { LoadedSubscription } from '../billing/subscriptions.js'
import { ZERO, decimal } from '../decimal.js'
import type { Tx } from '../store/storage.js'
import { readUsage } from '../meters/usage-reading.js'
import { billingPeriodAt, contextAt } from './plan-context.js'
import type { Notify } from './credits-service.js'

const SWEEP_MS = 5_000
const SWEEP_AT_ONCE = 50

type Metered = Extract<FeatureConfig, { type: 'metered' }>

export class LimitAlerts {
  private readonly pending = new Map<string, { tenantId: number; customerId: string; subs: readonly LoadedSubscription[]; features: readonly FeatureConfig[] }>()
  private lastSweepMs = Number.NEGATIVE_INFINITY

  /** The customer had events in this pass: its metered features are checked at the next sweep. */
  note(tenantId: number, customerId: string, features: readonly FeatureConfig[], subs: readonly LoadedSubscription[]): void {
    if (features.length === 0) return
    this.pending.set(`${tenantId}\u0000${customerId}`, { tenantId, customerId, subs, features })
  }

  /** Checks the noted customers when few wait or enough time passed; call when the fold has caught up. */
  async sweep(tx: Tx, nowMs: number, notify: Notify): Promise<void> {
    if (this.pending.size === 0) return
    if (this.pending.size > SWEEP_AT_ONCE && nowMs - this.lastSweepMs < SWEEP_MS) return
    this.lastSweepMs = nowMs
    const due = [...this.pending.values()]
    this.pending.clear()
    for (const p of due) await this.check(tx, p.tenantId, p.customerId, p.features, p.subs, nowMs, notify)
  }

  private async check(tx: Tx, tenantId: number, customerId: string, features: readonly FeatureConfig[], subs: readonly LoadedSubscription[], nowMs: number, notify: Notify): Promise<void> {
    const ctx = contextAt(subs, nowMs)
    if (ctx === undefined) return
    for (const feature of metered(ctx.plan, features)) {
      const config = ctx.phase.meters.find((m) => m.key === feature.meter)
      if (config === undefined) continue
      const period = billingPeriodAt(ctx.sub, nowMs)
      const kind = `limit.reached:${feature.key}:${period.startMs}`
      if ((await tx.thresholds.alert(tenantId, customerId, kind)) !== undefined) continue
      const r = await readUsage(tx, tenantId, { customerId, meter: config.key, fromMs: period.startMs, toMs: nowMs + 1, window: 'none', groupBy: [] })
      const used = 'error' in r || r.value === null ? ZERO : decimal(r.value)
      if (used.lt(feature.limit)) continue
      await tx.thresholds.putAlert(tenantId, customerId, kind, false)
      await notify(tx, tenantId, 'limit.reached', {
        customerId, feature: feature.key, meter: config.key, limit: feature.limit, used: used.toString(), hard: feature.hard === true,
        periodStart: new Date(period.startMs).toISOString(), periodEnd: new Date(period.endMs).toISOString(),
      }, nowMs)
    }
  }
}

function metered(plan: PlanConfig, features: readonly FeatureConfig[]): Metered[] {
  const keys = new Set(plan.features ?? [])
  return features.filter((f): f is Metered => f.type === 'metered' && keys.has(f.key))
}

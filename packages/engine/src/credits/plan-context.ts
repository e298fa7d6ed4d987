// Which plan prices a customer's usage at an instant, and the billing period the usage falls in.
import type { PlanConfig } from '@meterkit/protocol'
import { type Phase, boundaryAfter, phaseAt } from '../billing/timeline.js'
import { type LoadedSubscription, periodStartAt } from '../billing/subscriptions.js'
import type { UsageCharge } from '../rating/index.js'

export interface PlanContext {
  sub: LoadedSubscription
  phase: Phase
  plan: PlanConfig
}

/** The subscription in effect at `ms` (the earliest started, when several are). */
export function contextAt(subs: readonly LoadedSubscription[], ms: number): PlanContext | undefined {
  for (const sub of subs) {
    const t = sub.timeline
    if (ms < t.startMs || (t.endMs !== null && ms >= t.endMs)) continue
    const phase = phaseAt(t, ms)
    return { sub, phase, plan: phase.plan }
  }
  return undefined
}

export function creditCharges(plan: PlanConfig): UsageCharge[] {
  return plan.charges.filter((c): c is UsageCharge => c.model !== 'flat' && c.unit === 'credits')
}

/**
 * The start of the stretch of a billing period one plan prices: the period's start, or a plan
 * change inside it. Real-time credit totals and invoice lines use the same key.
 */
export function pricedFrom(ctx: PlanContext, ms: number): number {
  return Math.max(periodStartAt(ctx.sub.timeline, ms), ctx.phase.startMs)
}

/** The billing period [start, end) holding `ms`, cut by plan changes that restart periods and by the end of service. */
export function billingPeriodAt(sub: LoadedSubscription, ms: number): { startMs: number; endMs: number } {
  return { startMs: periodStartAt(sub.timeline, ms), endMs: boundaryAfter(sub.timeline, ms) ?? ms + 1 }
}

// A subscription as the engine works with it: its record and the timeline its phases describe,
// and the views the API shows of it.
import type { Subscription } from './model.js'
import type { SubscriptionRecord } from './storage.js'
import { type Phase, type Timeline, boundaryAfter, naturalPeriod, phaseAt } from './timeline.js'
import type { Tx } from '../store/storage.js'

export interface LoadedSubscription {
  record: SubscriptionRecord
  timeline: Timeline
}

export function timelineOf(record: SubscriptionRecord, phases: Phase[], timeZone: string): Timeline {
  return { timeZone, startMs: record.startMs, endMs: record.endMs, phases }
}

export async function loadSubscription(tx: Tx, tenantId: number, record: SubscriptionRecord): Promise<LoadedSubscription> {
  const [phases, timeZone] = await Promise.all([tx.subscriptions.phases(tenantId, record.id), tx.customers.timeZone(tenantId, record.customerId)])
  return { record, timeline: timelineOf(record, phases, timeZone) }
}

/** A customer's subscriptions with their timelines, by start. */
export async function customerSubscriptions(tx: Tx, tenantId: number, customerId: string): Promise<LoadedSubscription[]> {
  const records = await tx.subscriptions.byCustomer(tenantId, customerId)
  if (records.length === 0) return []
  const timeZone = await tx.customers.timeZone(tenantId, customerId)
  const out: LoadedSubscription[] = []
  for (const record of records) out.push({ record, timeline: timelineOf(record, await tx.subscriptions.phases(tenantId, record.id), timeZone) })
  return out
}

/** The start of the period containing `ms`: the natural period's start, or a later (re)start. */
export function periodStartAt(t: Timeline, ms: number): number {
  let start = Math.max(naturalPeriod(t, ms).startMs, t.startMs)
  for (const p of t.phases) if (p.startMs <= ms && p.anchorMs === p.startMs && p.startMs > start) start = p.startMs
  return start
}

export function subscriptionView(s: LoadedSubscription, nowMs: number): Subscription {
  const t = s.timeline
  const status = nowMs < t.startMs ? 'scheduled' : t.endMs !== null && nowMs >= t.endMs ? 'canceled' : 'active'
  const at = Math.max(nowMs, t.startMs)
  const end = status === 'canceled' ? undefined : boundaryAfter(t, at)
  return {
    id: s.record.id,
    customerId: s.record.customerId,
    status,
    startMs: t.startMs,
    endMs: t.endMs,
    plan: phaseAt(t, at).plan.key,
    phases: t.phases.map((p) => ({ startMs: p.startMs, planKey: p.plan.key, plan: p.plan })),
    currentPeriod: end === undefined ? null : { startMs: periodStartAt(t, at), endMs: end },
    billedThroughMs: s.record.billedThroughMs,
    createdAtMs: s.record.createdAtMs,
  }
}

// Subscriptions as rows, and the timeline each one describes.
import type Database from 'better-sqlite3'
import type { MeterConfig, PlanConfig } from '@meterkit/protocol'
import type { Subscription } from '../../../billing/model.js'
import { type Timeline, boundaryAfter, naturalPeriod, phaseAt } from '../../../billing/timeline.js'

export interface SubscriptionRow {
  id: string
  customer_id: string
  start_at: number
  end_at: number | null
  billed_through: number | null
  created_at: number
}

interface PhaseRow {
  start_at: number
  plan: string
  meters: string
  anchor_at: number
  replaces_billed: number
}

export interface LoadedSubscription {
  row: SubscriptionRow
  timeline: Timeline
}

export class SubscriptionRows {
  private readonly stmt

  constructor(db: Database.Database) {
    this.stmt = {
      get: db.prepare('SELECT id, customer_id, start_at, end_at, billed_through, created_at FROM subscriptions WHERE tenant_id = ? AND id = ?'),
      byCustomer: db.prepare('SELECT id, customer_id, start_at, end_at, billed_through, created_at FROM subscriptions INDEXED BY subscriptions_by_customer WHERE tenant_id = ? AND customer_id = ? ORDER BY start_at, id'),
      all: db.prepare('SELECT id, customer_id, start_at, end_at, billed_through, created_at FROM subscriptions WHERE tenant_id = ? ORDER BY customer_id, id'),
      phases: db.prepare('SELECT start_at, plan, meters, anchor_at, replaces_billed FROM subscription_phases WHERE tenant_id = ? AND subscription_id = ? ORDER BY start_at'),
      timezone: db.prepare('SELECT timezone FROM customers WHERE tenant_id = ? AND id = ?').pluck(),
      insert: db.prepare('INSERT INTO subscriptions (tenant_id, id, customer_id, start_at, end_at, billed_through, created_at) VALUES (?, ?, ?, ?, NULL, NULL, ?)'),
      insertPhase: db.prepare(
        `INSERT OR REPLACE INTO subscription_phases (tenant_id, subscription_id, start_at, plan, meters, anchor_at, replaces_billed, config_version)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      dropPhasesFrom: db.prepare('DELETE FROM subscription_phases WHERE tenant_id = ? AND subscription_id = ? AND start_at >= ?'),
      dropPhasesAfter: db.prepare('DELETE FROM subscription_phases WHERE tenant_id = ? AND subscription_id = ? AND start_at > ?'),
      bump: db.prepare("UPDATE index_state SET seq = seq + 1 WHERE name = 'subscriptions'"),
      generation: db.prepare("SELECT seq FROM index_state WHERE name = 'subscriptions'").pluck(),
      setEnd: db.prepare('UPDATE subscriptions SET end_at = ? WHERE tenant_id = ? AND id = ?'),
      setBilled: db.prepare('UPDATE subscriptions SET billed_through = ? WHERE tenant_id = ? AND id = ?'),
    }
  }

  get(tenantId: number, id: string): SubscriptionRow | undefined {
    return this.stmt.get.get(tenantId, id) as SubscriptionRow | undefined
  }

  byCustomer(tenantId: number, customerId: string): SubscriptionRow[] {
    return this.stmt.byCustomer.all(tenantId, customerId) as SubscriptionRow[]
  }

  all(tenantId: number): SubscriptionRow[] {
    return this.stmt.all.all(tenantId) as SubscriptionRow[]
  }

  load(tenantId: number, row: SubscriptionRow): LoadedSubscription {
    const phases = (this.stmt.phases.all(tenantId, row.id) as PhaseRow[]).map((p) => ({
      startMs: p.start_at,
      plan: JSON.parse(p.plan) as PlanConfig,
      meters: JSON.parse(p.meters) as MeterConfig[],
      anchorMs: p.anchor_at,
      ...(p.replaces_billed ? { replacesBilled: true } : {}),
    }))
    const timeZone = this.timeZone(tenantId, row.customer_id)
    return { row, timeline: { timeZone, startMs: row.start_at, endMs: row.end_at, phases } }
  }

  /** Changes with every subscription change (and customer timezone change). */
  generation(): number {
    return this.stmt.generation.get() as number
  }

  timeZone(tenantId: number, customerId: string): string {
    return (this.stmt.timezone.get(tenantId, customerId) as string | undefined) ?? 'UTC'
  }

  insert(tenantId: number, id: string, customerId: string, startMs: number, nowMs: number): void {
    this.stmt.insert.run(tenantId, id, customerId, startMs, nowMs)
    this.stmt.bump.run()
  }

  /** Puts a plan in effect from `startMs`, replacing any phase scheduled at or after it. */
  putPhase(tenantId: number, id: string, phase: { startMs: number; plan: PlanConfig; meters: MeterConfig[]; anchorMs: number; replacesBilled?: boolean }, configVersion: number): void {
    this.stmt.dropPhasesFrom.run(tenantId, id, phase.startMs)
    this.stmt.insertPhase.run(tenantId, id, phase.startMs, JSON.stringify(phase.plan), JSON.stringify(phase.meters), phase.anchorMs, phase.replacesBilled ? 1 : 0, configVersion)
    this.stmt.bump.run()
  }

  end(tenantId: number, id: string, atMs: number): void {
    this.stmt.dropPhasesAfter.run(tenantId, id, atMs)
    this.stmt.setEnd.run(atMs, tenantId, id)
    this.stmt.bump.run()
  }

  setBilledThrough(tenantId: number, id: string, boundaryMs: number): void {
    this.stmt.setBilled.run(boundaryMs, tenantId, id)
  }
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
    id: s.row.id,
    customerId: s.row.customer_id,
    status,
    startMs: t.startMs,
    endMs: t.endMs,
    plan: phaseAt(t, at).plan.key,
    phases: t.phases.map((p) => ({ startMs: p.startMs, planKey: p.plan.key, plan: p.plan })),
    currentPeriod: end === undefined ? null : { startMs: periodStartAt(t, at), endMs: end },
    billedThroughMs: s.row.billed_through,
    createdAtMs: s.row.created_at,
  }
}

// Subscriptions and their phases as rows.
import type Database from 'better-sqlite3'
import type { MeterConfig, PlanConfig } from '@meterkit/protocol'
import type { SubscriptionRecord, SubscriptionRows } from '../../../billing/storage.js'
import { type LoadedSubscription, timelineOf } from '../../../billing/subscriptions.js'
import type { Phase } from '../../../billing/timeline.js'

interface Row {
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

const COLUMNS = 'id, customer_id, start_at, end_at, billed_through, created_at'

function toRecord(r: Row): SubscriptionRecord {
  return { id: r.id, customerId: r.customer_id, startMs: r.start_at, endMs: r.end_at, billedThroughMs: r.billed_through, createdAtMs: r.created_at }
}

export class SqliteSubscriptionRows implements SubscriptionRows {
  private readonly stmt

  constructor(db: Database.Database) {
    this.stmt = {
      get: db.prepare(`SELECT ${COLUMNS} FROM subscriptions WHERE tenant_id = ? AND id = ?`),
      byCustomer: db.prepare(`SELECT ${COLUMNS} FROM subscriptions INDEXED BY subscriptions_by_customer WHERE tenant_id = ? AND customer_id = ? ORDER BY start_at, id`),
      all: db.prepare(`SELECT ${COLUMNS} FROM subscriptions WHERE tenant_id = ? ORDER BY customer_id, id`),
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
      tenants: db.prepare('SELECT DISTINCT tenant_id FROM subscriptions').pluck(),
      inEffect: db.prepare('SELECT DISTINCT customer_id FROM subscriptions WHERE tenant_id = ? AND start_at < ? AND (end_at IS NULL OR end_at > ?)').pluck(),
    }
  }

  get(tenantId: number, id: string): SubscriptionRecord | undefined {
    const row = this.stmt.get.get(tenantId, id) as Row | undefined
    return row && toRecord(row)
  }

  byCustomer(tenantId: number, customerId: string): SubscriptionRecord[] {
    return (this.stmt.byCustomer.all(tenantId, customerId) as Row[]).map(toRecord)
  }

  all(tenantId: number): SubscriptionRecord[] {
    return (this.stmt.all.all(tenantId) as Row[]).map(toRecord)
  }

  phases(tenantId: number, id: string): Phase[] {
    return (this.stmt.phases.all(tenantId, id) as PhaseRow[]).map((p) => ({
      startMs: p.start_at,
      plan: JSON.parse(p.plan) as PlanConfig,
      meters: JSON.parse(p.meters) as MeterConfig[],
      anchorMs: p.anchor_at,
      ...(p.replaces_billed ? { replacesBilled: true } : {}),
    }))
  }

  /** A customer's subscriptions with their timelines, read synchronously (the credits fold). */
  loadCustomer(tenantId: number, customerId: string): LoadedSubscription[] {
    const records = this.byCustomer(tenantId, customerId)
    if (records.length === 0) return []
    const timeZone = (this.stmt.timezone.get(tenantId, customerId) as string | undefined) ?? 'UTC'
    return records.map((record) => ({ record, timeline: timelineOf(record, this.phases(tenantId, record.id), timeZone) }))
  }

  bumpGeneration(): void {
    this.stmt.bump.run()
  }

  generation(): number {
    return this.stmt.generation.get() as number
  }

  tenants(): number[] {
    return this.stmt.tenants.all() as number[]
  }

  customersInEffect(tenantId: number, fromMs: number, toMs: number): string[] {
    return this.stmt.inEffect.all(tenantId, toMs, fromMs) as string[]
  }

  insert(tenantId: number, record: { id: string; customerId: string; startMs: number }, nowMs: number): void {
    this.stmt.insert.run(tenantId, record.id, record.customerId, record.startMs, nowMs)
    this.stmt.bump.run()
  }

  putPhase(tenantId: number, id: string, phase: Phase, configVersion: number): void {
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

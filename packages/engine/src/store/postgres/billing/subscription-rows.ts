// Subscriptions and their phases as rows.
import type { MeterConfig, PlanConfig } from '@meterkit/protocol'
import type { SubscriptionRecord, SubscriptionRows } from '../../../billing/storage.js'
import type { Phase } from '../../../billing/timeline.js'
import type { Sql } from '../sql.js'

interface Row {
  id: string
  customer_id: string
  start_at: number
  end_at: number | null
  billed_through: number | null
  created_at: number
}

const COLUMNS = 'id, customer_id, start_at, end_at, billed_through, created_at'

function toRecord(r: Row): SubscriptionRecord {
  return { id: r.id, customerId: r.customer_id, startMs: r.start_at, endMs: r.end_at, billedThroughMs: r.billed_through, createdAtMs: r.created_at }
}

export class PgSubscriptionRows implements SubscriptionRows {
  constructor(private readonly sql: Sql) {}

  async get(tenantId: number, id: string): Promise<SubscriptionRecord | undefined> {
    const row = await this.sql.one<Row>('subscriptions_get', `SELECT ${COLUMNS} FROM subscriptions WHERE tenant_id = $1 AND id = $2`, [tenantId, id])
    return row && toRecord(row)
  }

  async byCustomer(tenantId: number, customerId: string): Promise<SubscriptionRecord[]> {
    const rows = await this.sql.rows<Row>('subscriptions_by_customer', `SELECT ${COLUMNS} FROM subscriptions WHERE tenant_id = $1 AND customer_id = $2 ORDER BY start_at, id`, [tenantId, customerId])
    return rows.map(toRecord)
  }

  async all(tenantId: number): Promise<SubscriptionRecord[]> {
    const rows = await this.sql.rows<Row>('subscriptions_all', `SELECT ${COLUMNS} FROM subscriptions WHERE tenant_id = $1 ORDER BY customer_id, id`, [tenantId])
    return rows.map(toRecord)
  }

  async phases(tenantId: number, id: string): Promise<Phase[]> {
    const rows = await this.sql.rows<{ start_at: number; plan: string; meters: string; anchor_at: number; replaces_billed: boolean }>(
      'subscriptions_phases',
      'SELECT start_at, plan, meters, anchor_at, replaces_billed FROM subscription_phases WHERE tenant_id = $1 AND subscription_id = $2 ORDER BY start_at',
      [tenantId, id],
    )
    return rows.map((p) => ({
      startMs: p.start_at,
      plan: JSON.parse(p.plan) as PlanConfig,
      meters: JSON.parse(p.meters) as MeterConfig[],
      anchorMs: p.anchor_at,
      ...(p.replaces_billed ? { replacesBilled: true } : {}),
    }))
  }

  async insert(tenantId: number, record: { id: string; customerId: string; startMs: number }, nowMs: number): Promise<void> {
    await this.sql.run(
      'subscriptions_insert',
      'INSERT INTO subscriptions (tenant_id, id, customer_id, start_at, end_at, billed_through, created_at) VALUES ($1, $2, $3, $4, NULL, NULL, $5)',
      [tenantId, record.id, record.customerId, record.startMs, nowMs],
    )
    await this.bump()
  }

  async putPhase(tenantId: number, id: string, phase: Phase, configVersion: number): Promise<void> {
    await this.sql.run('subscriptions_drop_phases_from', 'DELETE FROM subscription_phases WHERE tenant_id = $1 AND subscription_id = $2 AND start_at >= $3', [tenantId, id, phase.startMs])
    await this.sql.run(
      'subscriptions_insert_phase',
      `INSERT INTO subscription_phases (tenant_id, subscription_id, start_at, plan, meters, anchor_at, replaces_billed, config_version)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [tenantId, id, phase.startMs, JSON.stringify(phase.plan), JSON.stringify(phase.meters), phase.anchorMs, phase.replacesBilled === true, configVersion],
    )
    await this.bump()
  }

  async end(tenantId: number, id: string, atMs: number): Promise<void> {
    await this.sql.run('subscriptions_drop_phases_after', 'DELETE FROM subscription_phases WHERE tenant_id = $1 AND subscription_id = $2 AND start_at > $3', [tenantId, id, atMs])
    await this.sql.run('subscriptions_set_end', 'UPDATE subscriptions SET end_at = $1 WHERE tenant_id = $2 AND id = $3', [atMs, tenantId, id])
    await this.bump()
  }

  async setBilledThrough(tenantId: number, id: string, boundaryMs: number): Promise<void> {
    await this.sql.run('subscriptions_set_billed', 'UPDATE subscriptions SET billed_through = $1 WHERE tenant_id = $2 AND id = $3', [boundaryMs, tenantId, id])
  }

  async generation(): Promise<number> {
    const row = await this.sql.one<{ seq: number }>('subscriptions_generation', "SELECT seq FROM index_state WHERE name = 'subscriptions'")
    return row!.seq
  }

  async tenants(): Promise<number[]> {
    return (await this.sql.rows<{ tenant_id: number }>('subscriptions_tenants', 'SELECT DISTINCT tenant_id FROM subscriptions ORDER BY tenant_id')).map((r) => r.tenant_id)
  }

  async customersInEffect(tenantId: number, fromMs: number, toMs: number): Promise<string[]> {
    const rows = await this.sql.rows<{ customer_id: string }>(
      'subscriptions_in_effect',
      'SELECT DISTINCT customer_id FROM subscriptions WHERE tenant_id = $1 AND start_at < $2 AND (end_at IS NULL OR end_at > $3)',
      [tenantId, toMs, fromMs],
    )
    return rows.map((r) => r.customer_id)
  }

  async bumpGeneration(): Promise<void> {
    await this.bump()
  }

  /** Moves the generation, which caches of timelines check. */
  private async bump(): Promise<void> {
    await this.sql.run('subscriptions_bump', "UPDATE index_state SET seq = seq + 1 WHERE name = 'subscriptions'")
  }
}

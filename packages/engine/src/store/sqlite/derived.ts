// Derived state: the customer index and the meter rollups, both built from raw events up to a
// watermark (index_state). The writer folds new events in large passes; corrections recompute
// the buckets they touch; a configuration change rebuilds the meters it changed. Raw events
// stay the source of truth: every figure here can be rebuilt from them (`verify` does).
import type Database from 'better-sqlite3'
import { type JsonValue, type MeterConfig, type TenantConfig } from '@meterkit/protocol'
import { DecimalSum, decimal } from '../../decimal.js'
import { type Partial, addContribution, emptyPartial, mergePartial, numericText, sumText } from '../../meters/aggregate.js'
import { BUCKET_MS, bucketOf } from '../../meters/buckets.js'
import { contribution } from '../../meters/meter.js'
import { type TenantMeters, compileConfig } from '../../meters/compiled.js'
import { canonicalJson } from '../../json.js'
import type { EventSource } from '../port.js'

export interface RollupRow {
  meter: string
  customer_id: string
  bucket: number
  group_key: string
  count: number
  sum: string | null
  min: string | null
  max: string | null
  latest_ts: number | null
  latest_id: string | null
  latest_value: string | null
}

export interface EventFoldRow {
  seq: number
  tenant_id: number
  id: string
  event: string
  customer_id: string
  ts: number
  properties: string
  source: EventSource
  status: string
}

interface Accumulated {
  tenantId: number
  meter: string
  customerId: string
  bucket: number
  groupKey: string
  partial: Partial
  uniques: Set<string>
}

export function rowToPartial(row: RollupRow): Partial {
  return {
    count: row.count,
    sum: row.sum === null ? undefined : DecimalSum.of(row.sum),
    min: row.min === null ? undefined : decimal(row.min),
    max: row.max === null ? undefined : decimal(row.max),
    latestTs: row.latest_ts ?? undefined,
    latestId: row.latest_id ?? undefined,
    latestValue: row.latest_value === null ? undefined : decimal(row.latest_value),
  }
}


export const EMPTY_CONFIG: TenantConfig = { meters: [], features: [], plans: [] }

export class DerivedState {
  private readonly configs = new Map<number, TenantMeters>()
  private readonly stmt

  constructor(private readonly db: Database.Database) {
    this.stmt = {
      watermark: db.prepare("SELECT seq FROM index_state WHERE name = 'customer_events'").pluck(),
      lastSeq: db.prepare('SELECT coalesce(max(seq), 0) FROM events').pluck(),
      fillCustomerIndex: db.prepare(
        `INSERT INTO customer_events (tenant_id, customer_id, ts, seq)
         SELECT tenant_id, customer_id, ts, seq FROM events WHERE seq > ? AND seq <= ?
         ORDER BY tenant_id, customer_id, ts, seq`,
      ),
      advance: db.prepare("UPDATE index_state SET seq = ? WHERE name = 'customer_events'"),
      generation: db.prepare("SELECT seq FROM index_state WHERE name = 'generation'").pluck(),
      bumpGeneration: db.prepare("UPDATE index_state SET seq = seq + 1 WHERE name = 'generation'"),
      eventsInRange: db.prepare(
        `SELECT seq, tenant_id, id, event, customer_id, ts, coalesce(current, properties) AS properties, source, status
         FROM events WHERE seq > ? AND seq <= ?`,
      ),
      latestVersions: db.prepare('SELECT tenant_id, max(version) AS version FROM config_versions GROUP BY tenant_id'),
      configAt: db.prepare('SELECT config FROM config_versions WHERE tenant_id = ? AND version = ?').pluck(),
      latestVersion: db.prepare('SELECT max(version) FROM config_versions WHERE tenant_id = ?').pluck(),
      getRollup: db.prepare(
        `SELECT meter, customer_id, bucket, group_key, count, sum, min, max, latest_ts, latest_id, latest_value
         FROM meter_rollups WHERE tenant_id = ? AND meter = ? AND customer_id = ? AND bucket = ? AND group_key = ?`,
      ),
      insertRollup: db.prepare(
        `INSERT INTO meter_rollups (tenant_id, meter, customer_id, bucket, group_key, count, sum, min, max, latest_ts, latest_id, latest_value)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      ),
      updateRollup: db.prepare(
        `UPDATE meter_rollups SET count = ?, sum = ?, min = ?, max = ?, latest_ts = ?, latest_id = ?, latest_value = ?
         WHERE tenant_id = ? AND meter = ? AND customer_id = ? AND bucket = ? AND group_key = ?`,
      ),
      putUnique: db.prepare(
        'INSERT OR IGNORE INTO meter_uniques (tenant_id, meter, customer_id, bucket, group_key, value) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      deleteBucketRollups: db.prepare('DELETE FROM meter_rollups WHERE tenant_id = ? AND meter = ? AND customer_id = ? AND bucket = ?'),
      deleteBucketUniques: db.prepare('DELETE FROM meter_uniques WHERE tenant_id = ? AND meter = ? AND customer_id = ? AND bucket = ?'),
      deleteMeterRollups: db.prepare('DELETE FROM meter_rollups WHERE tenant_id = ? AND meter = ?'),
      deleteMeterUniques: db.prepare('DELETE FROM meter_uniques WHERE tenant_id = ? AND meter = ?'),
      customerBucketEvents: db.prepare(
        `SELECT e.seq, e.tenant_id, e.id, e.event, e.customer_id, e.ts, coalesce(e.current, e.properties) AS properties, e.source, e.status
         FROM customer_events c JOIN events e ON e.seq = c.seq
         WHERE c.tenant_id = ? AND c.customer_id = ? AND c.ts >= ? AND c.ts < ?`,
      ),
      tenantEventsUpTo: db.prepare(
        `SELECT seq, tenant_id, id, event, customer_id, ts, coalesce(current, properties) AS properties, source, status
         FROM events WHERE tenant_id = ? AND event = ? AND seq <= ?`,
      ),
    }
  }

  watermark(): number {
    return this.stmt.watermark.get() as number
  }

  /** The tenant's current meters (reloaded when a newer configuration version exists). */
  tenant(tenantId: number): TenantMeters {
    const version = (this.stmt.latestVersion.get(tenantId) as number | null) ?? 0
    const cached = this.configs.get(tenantId)
    if (cached !== undefined && cached.version === version) return cached
    const config = version === 0 ? EMPTY_CONFIG : (JSON.parse(this.stmt.configAt.get(tenantId, version) as string) as TenantConfig)
    const compiled = compileConfig(version, config)
    this.configs.set(tenantId, compiled)
    return compiled
  }

  private refreshAll(): void {
    for (const { tenant_id, version } of this.stmt.latestVersions.all() as { tenant_id: number; version: number }[]) {
      if (this.configs.get(tenant_id)?.version !== version) this.tenant(tenant_id)
    }
  }

  /** Folds up to `maxRows` events past the watermark into the index and rollups; answers how many. */
  fold(maxRows: number): number {
    return this.db.transaction(() => {
      const prepared = this.prepareFold(maxRows)
      return prepared === undefined ? 0 : this.commitFold(prepared)
    }).immediate()
  }

  /**
   * The same fold for a thread other than the writer: the reading and adding up happen in a read
   * snapshot, without the write lock, and only the writing takes it, briefly. If a correction or
   * a configuration change landed in between (the generation moved), the fold is redone under
   * the lock.
   */
  foldConcurrently(maxRows: number): number {
    const prepared = this.db.transaction(() => this.prepareFold(maxRows))()
    if (prepared === undefined) return 0
    return this.db.transaction(() => {
      if (this.stmt.watermark.get() !== prepared.from || this.stmt.generation.get() !== prepared.generation) {
        const again = this.prepareFold(maxRows)
        return again === undefined ? 0 : this.commitFold(again)
      }
      return this.commitFold(prepared)
    }).immediate()
  }

  /** Marks that raw events or meters changed outside a fold. Call inside the write transaction. */
  bumpGeneration(): void {
    this.stmt.bumpGeneration.run()
  }

  private prepareFold(maxRows: number): { from: number; to: number; generation: number; acc: Map<string, Accumulated> } | undefined {
    const from = this.stmt.watermark.get() as number
    const to = Math.min(this.stmt.lastSeq.get() as number, from + maxRows)
    if (to <= from) return undefined
    const generation = this.stmt.generation.get() as number
    this.refreshAll()
    const acc = new Map<string, Accumulated>()
    for (const row of this.stmt.eventsInRange.iterate(from, to) as IterableIterator<EventFoldRow>) {
      this.accumulate(acc, row, undefined)
    }
    return { from, to, generation, acc }
  }

  private commitFold(p: { from: number; to: number; acc: Map<string, Accumulated> }): number {
    this.stmt.fillCustomerIndex.run(p.from, p.to)
    this.write(p.acc)
    this.stmt.advance.run(p.to)
    return p.to - p.from
  }

  private accumulate(acc: Map<string, Accumulated>, row: EventFoldRow, only: ReadonlySet<string> | undefined): void {
    if (row.status === 'voided') return
    const meters = this.configs.get(row.tenant_id)?.byEvent.get(row.event)
    if (meters === undefined) return
    let properties: JsonValue | undefined
    const bucket = bucketOf(row.ts)
    const base = `${row.tenant_id}\u0001${row.customer_id}\u0001${bucket}\u0001`
    for (const meter of meters) {
      if (only !== undefined && !only.has(meter.key)) continue
      properties ??= JSON.parse(row.properties) as JsonValue
      const c = contribution(meter, row.event, row.source, properties)
      if (c === undefined) continue
      const k = `${base}${meter.key}\u0001${c.groupKey}`
      let a = acc.get(k)
      if (a === undefined) {
        a = { tenantId: row.tenant_id, meter: meter.key, customerId: row.customer_id, bucket, groupKey: c.groupKey, partial: emptyPartial(), uniques: new Set() }
        acc.set(k, a)
      }
      addContribution(a.partial, c, row.ts, row.id, meter.aggregation)
      if (c.unique !== undefined) a.uniques.add(c.unique)
    }
  }

  private write(acc: Map<string, Accumulated>): void {
    // In primary-key order: neighbouring rows share pages, so the b-tree is written in runs.
    const entries = [...acc.values()].sort((x, y) => x.tenantId - y.tenantId
      || (x.meter < y.meter ? -1 : x.meter > y.meter ? 1 : 0)
      || (x.customerId < y.customerId ? -1 : x.customerId > y.customerId ? 1 : 0)
      || x.bucket - y.bucket
      || (x.groupKey < y.groupKey ? -1 : x.groupKey > y.groupKey ? 1 : 0))
    for (const a of entries) {
      const p = a.partial
      // New keys (the common case for sparse data) take one statement; existing ones merge.
      const { changes } = this.stmt.insertRollup.run(a.tenantId, a.meter, a.customerId, a.bucket, a.groupKey, p.count, sumText(p.sum),
        numericText(p.min), numericText(p.max), p.latestTs ?? null, p.latestId ?? null, numericText(p.latestValue))
      if (changes === 0) {
        const merged = rowToPartial(this.stmt.getRollup.get(a.tenantId, a.meter, a.customerId, a.bucket, a.groupKey) as RollupRow)
        mergePartial(merged, p)
        this.stmt.updateRollup.run(merged.count, sumText(merged.sum), numericText(merged.min), numericText(merged.max),
          merged.latestTs ?? null, merged.latestId ?? null, numericText(merged.latestValue), a.tenantId, a.meter, a.customerId, a.bucket, a.groupKey)
      }
      for (const value of a.uniques) this.stmt.putUnique.run(a.tenantId, a.meter, a.customerId, a.bucket, a.groupKey, value)
    }
  }

  /**
   * Rebuilds every rollup from the raw events up to the watermark, in memory, one customer at a
   * time, and compares it with the stored rollups, unique values and customer index: the
   * standing proof that the fast figures and the facts agree. Run it inside a read transaction
   * for a consistent snapshot.
   */
  verify(maxDifferences = 50): { events: number; unfolded: number; rollups: number; differences: string[] } {
    const w = this.watermark()
    this.refreshAll()
    const differences: string[] = []
    const note = (text: string) => {
      if (differences.length < maxDifferences) differences.push(text)
    }
    // The customer index: every event up to the watermark has its entry, and nothing else does.
    const missing = this.db.prepare(
      `SELECT count(*) FROM events e WHERE e.seq <= ? AND NOT EXISTS (
         SELECT 1 FROM customer_events c WHERE c.tenant_id = e.tenant_id AND c.customer_id = e.customer_id AND c.ts = e.ts AND c.seq = e.seq)`,
    ).pluck().get(w) as number
    const indexed = this.db.prepare('SELECT count(*) FROM customer_events').pluck().get() as number
    const events = Math.min(w, this.db.prepare('SELECT count(*) FROM events WHERE seq <= ?').pluck().get(w) as number)
    if (missing > 0 || indexed !== events) note(`customer index: ${missing} events lack an entry; it holds ${indexed} entries for ${events} events`)

    const customerEvents = this.db.prepare(
      `SELECT e.seq, e.tenant_id, e.id, e.event, e.customer_id, e.ts, coalesce(e.current, e.properties) AS properties, e.source, e.status
       FROM customer_events c JOIN events e ON e.seq = c.seq WHERE c.tenant_id = ? AND c.customer_id = ?`,
    )
    const storedRollups = this.db.prepare(
      `SELECT meter, customer_id, bucket, group_key, count, sum, min, max, latest_ts, latest_id, latest_value
       FROM meter_rollups WHERE tenant_id = ? AND meter = ? AND customer_id = ?`,
    )
    const storedUniques = this.db.prepare('SELECT bucket, group_key, value FROM meter_uniques WHERE tenant_id = ? AND meter = ? AND customer_id = ?')
    const customers = this.db.prepare('SELECT DISTINCT tenant_id, customer_id FROM customer_events')
    let rollups = 0
    for (const { tenant_id: tenantId, customer_id: customerId } of customers.iterate() as IterableIterator<{ tenant_id: number; customer_id: string }>) {
      const acc = new Map<string, Accumulated>()
      for (const row of customerEvents.iterate(tenantId, customerId) as IterableIterator<EventFoldRow>) this.accumulate(acc, row, undefined)
      const seen = new Set<string>()
      for (const meter of this.configs.get(tenantId)?.byKey.keys() ?? []) {
        const uniques = new Map<string, Set<string>>()
        for (const u of storedUniques.iterate(tenantId, meter, customerId) as IterableIterator<{ bucket: number; group_key: string; value: string }>) {
          const k = `${tenantId}\u0001${customerId}\u0001${u.bucket}\u0001${meter}\u0001${u.group_key}`
          let set = uniques.get(k)
          if (set === undefined) uniques.set(k, (set = new Set()))
          set.add(u.value)
        }
        for (const row of storedRollups.iterate(tenantId, meter, customerId) as IterableIterator<RollupRow>) {
          rollups++
          const k = `${tenantId}\u0001${customerId}\u0001${row.bucket}\u0001${meter}\u0001${row.group_key}`
          seen.add(k)
          const where = () => `tenant ${tenantId} meter ${meter} customer ${customerId} bucket ${new Date(row.bucket).toISOString()} group ${row.group_key || '(none)'}`
          const expected = acc.get(k)
          if (expected === undefined) {
            note(`${where()}: stored rollup has no events behind it`)
            continue
          }
          const p = expected.partial
          const want = [p.count, sumText(p.sum), numericText(p.min), numericText(p.max), p.latestTs ?? null, p.latestId ?? null, numericText(p.latestValue)]
          const got = [row.count, row.sum, row.min, row.max, row.latest_ts, row.latest_id, row.latest_value]
          if (want.some((v, i) => v !== got[i])) note(`${where()}: stored ${JSON.stringify(got)}, events give ${JSON.stringify(want)}`)
          const storedSet = uniques.get(k) ?? new Set<string>()
          if (storedSet.size !== expected.uniques.size || [...expected.uniques].some((v) => !storedSet.has(v))) {
            note(`${where()}: unique values differ (stored ${storedSet.size}, events give ${expected.uniques.size})`)
          }
        }
      }
      for (const [k, a] of acc) {
        if (!seen.has(k)) note(`tenant ${a.tenantId} meter ${a.meter} customer ${a.customerId} bucket ${new Date(a.bucket).toISOString()}: events give a rollup that is not stored`)
      }
    }
    const unfolded = (this.stmt.lastSeq.get() as number) - w
    return { events, unfolded, rollups, differences }
  }

  /**
   * Recomputes one customer's bucket for the given meters from raw events (after a void or an
   * amend). Call inside a write transaction. Events past the watermark are left to the next fold.
   */
  recomputeBucket(tenantId: number, customerId: string, ts: number, meterKeys: ReadonlySet<string>): void {
    this.bumpGeneration()
    const bucket = bucketOf(ts)
    this.tenant(tenantId)
    for (const meter of meterKeys) {
      this.stmt.deleteBucketRollups.run(tenantId, meter, customerId, bucket)
      this.stmt.deleteBucketUniques.run(tenantId, meter, customerId, bucket)
    }
    const acc = new Map<string, Accumulated>()
    for (const row of this.stmt.customerBucketEvents.iterate(tenantId, customerId, bucket, bucket + BUCKET_MS) as IterableIterator<EventFoldRow>) {
      this.accumulate(acc, row, meterKeys)
    }
    this.write(acc)
  }

  /**
   * Makes the rollups match a new configuration: meters removed or changed lose their rollups,
   * meters added or changed are rebuilt from the events up to the watermark. Call inside the
   * write transaction that stores the new version.
   */
  applyConfig(tenantId: number, previous: TenantConfig, next: TenantConfig): void {
    this.bumpGeneration()
    const before = new Map(previous.meters.map((m) => [m.key, canonicalJson(m as unknown as JsonValue)]))
    const after = new Map(next.meters.map((m) => [m.key, m]))
    for (const [key, json] of before) {
      const m = after.get(key)
      if (m === undefined || canonicalJson(m as unknown as JsonValue) !== json) {
        this.stmt.deleteMeterRollups.run(tenantId, key)
        this.stmt.deleteMeterUniques.run(tenantId, key)
      }
    }
    const rebuild: MeterConfig[] = next.meters.filter((m) => before.get(m.key) !== canonicalJson(m as unknown as JsonValue))
    if (rebuild.length === 0) return
    this.configs.delete(tenantId)
    this.tenant(tenantId)
    const w = this.stmt.watermark.get() as number
    const keys = new Set(rebuild.map((m) => m.key))
    for (const eventName of new Set(rebuild.map((m) => m.event))) {
      const acc = new Map<string, Accumulated>()
      for (const row of this.stmt.tenantEventsUpTo.iterate(tenantId, eventName, w) as IterableIterator<EventFoldRow>) {
        this.accumulate(acc, row, keys)
      }
      this.write(acc)
    }
  }
}

// Reads usage: rollups for the whole 15-minute buckets of the range, and single events for the
// partial buckets at its edges and for the newest events not yet folded (past the watermark).
// All of it in one read transaction, so the watermark and the rows agree.
import type Database from 'better-sqlite3'
import type { JsonValue } from '@meterkit/protocol'
import { bucketOf, nextBucketBoundary } from '../../meters/buckets.js'
import { type CompiledMeter, contribution } from '../../meters/meter.js'
import { UsageAccumulator } from '../../meters/usage.js'
import type { Page, UsageEvent, UsageEventsRequest, UsageRequest } from '../port.js'
import type { UsageResult } from '../../meters/usage.js'
import { numericText } from '../../meters/aggregate.js'
import { decodeCursor, encodeCursor } from '../cursor.js'
import { DecimalSum } from '../../decimal.js'
import { emptyPartial } from '../../meters/aggregate.js'
import { type DerivedState, type EventFoldRow, rowToPartial } from './derived.js'

const EVENT_FIELDS = 'e.seq, e.tenant_id, e.id, e.event, e.customer_id, e.ts, coalesce(e.current, e.properties) AS properties, e.source, e.status'

export class UsageReader {
  private readonly stmt

  constructor(private readonly db: Database.Database, private readonly derived: DerivedState) {
    this.stmt = {
      timezone: db.prepare('SELECT timezone FROM customers WHERE tenant_id = ? AND id = ?').pluck(),
      // Raw rows of just the columns each aggregation reads: materializing full row objects
      // cost more than the query itself on a month of 15-minute buckets.
      rollups: db.prepare(
        `SELECT bucket, group_key, count, sum, min, max, latest_ts, latest_id, latest_value
         FROM meter_rollups WHERE tenant_id = ? AND meter = ? AND customer_id = ? AND bucket >= ? AND bucket < ?`,
      ).raw(),
      rollupCounts: db.prepare(
        `SELECT bucket, group_key, count, sum FROM meter_rollups
         WHERE tenant_id = ? AND meter = ? AND customer_id = ? AND bucket >= ? AND bucket < ?`,
      ).raw(),
      uniques: db.prepare(
        `SELECT bucket, group_key, value FROM meter_uniques
         WHERE tenant_id = ? AND meter = ? AND customer_id = ? AND bucket >= ? AND bucket < ?`,
      ),
      indexedEvents: db.prepare(
        `SELECT ${EVENT_FIELDS} FROM customer_events c JOIN events e ON e.seq = c.seq
         WHERE c.tenant_id = ? AND c.customer_id = ? AND c.ts >= ? AND c.ts < ? AND e.event = ?`,
      ),
      tailEvents: db.prepare(
        `SELECT ${EVENT_FIELDS} FROM events e
         WHERE e.seq > ? AND +e.tenant_id = ? AND +e.customer_id = ? AND +e.event = ? AND +e.ts >= ? AND +e.ts < ?`,
        // The unary + keeps SQLite on the rowid range (the few events past the watermark)
        // instead of the time index, which would scan the whole range.
      ),
    }
  }

  timezone(tenantId: number, customerId: string): string {
    return (this.stmt.timezone.get(tenantId, customerId) as string | undefined) ?? 'UTC'
  }

  private meter(tenantId: number, key: string): { meter: CompiledMeter; version: number } | { error: string } {
    const t = this.derived.tenant(tenantId)
    const meter = t.byKey.get(key)
    return meter === undefined ? { error: `meter: no meter "${key}" in configuration version ${t.version}` } : { meter, version: t.version }
  }

  /** Every event of the customer and meter in [from, to), each once: indexed ones, then the tail. */
  private *events(tenantId: number, meter: CompiledMeter, customerId: string, fromMs: number, toMs: number, watermark: number): Generator<EventFoldRow> {
    yield* this.stmt.indexedEvents.iterate(tenantId, customerId, fromMs, toMs, meter.event) as IterableIterator<EventFoldRow>
    yield* this.stmt.tailEvents.iterate(watermark, tenantId, customerId, meter.event, fromMs, toMs) as IterableIterator<EventFoldRow>
  }

  usage(tenantId: number, r: UsageRequest): UsageResult | { error: string } {
    return this.db.transaction(() => {
      const found = this.meter(tenantId, r.meter)
      if ('error' in found) return found
      const { meter, version } = found
      for (const dim of r.groupBy) {
        if (!meter.groupBy.includes(dim)) return { error: `groupBy: "${dim}" is not a groupBy dimension of meter "${meter.key}"` }
      }
      const acc = new UsageAccumulator(meter, { fromMs: r.fromMs, toMs: r.toMs, window: r.window, groupBy: r.groupBy, timeZone: this.timezone(tenantId, r.customerId) }, version)
      const w = this.derived.watermark()
      const alignedFrom = nextBucketBoundary(r.fromMs)
      const alignedTo = bucketOf(r.toMs)
      const add = (row: EventFoldRow) => {
        if (row.status === 'voided') return
        const c = contribution(meter, row.event, row.source, JSON.parse(row.properties) as JsonValue)
        if (c !== undefined) acc.addEvent(row.ts, row.id, c)
      }
      if (alignedFrom < alignedTo) {
        // all() rather than iterate(): one call into SQLite for the whole range is several
        // times faster than a step per row, and the range of one customer is small.
        const simple = meter.aggregation === 'count' || meter.aggregation === 'sum' || meter.aggregation === 'avg' || meter.aggregation === 'unique_count'
        if (simple) {
          for (const [bucket, groupKey, count, sum] of this.stmt.rollupCounts.all(tenantId, meter.key, r.customerId, alignedFrom, alignedTo) as [number, string, number, string | null][]) {
            acc.addPartial(bucket, groupKey, { ...emptyPartial(), count, sum: sum === null ? undefined : DecimalSum.of(sum) })
          }
        } else {
          for (const v of this.stmt.rollups.all(tenantId, meter.key, r.customerId, alignedFrom, alignedTo) as [number, string, number, string | null, string | null, string | null, number | null, string | null, string | null][]) {
            acc.addPartial(v[0], v[1], rowToPartial({
              meter: meter.key, customer_id: r.customerId, bucket: v[0], group_key: v[1], count: v[2], sum: v[3], min: v[4], max: v[5],
              latest_ts: v[6], latest_id: v[7], latest_value: v[8],
            }))
          }
        }
        if (meter.aggregation === 'unique_count') {
          for (const u of this.stmt.uniques.raw().all(tenantId, meter.key, r.customerId, alignedFrom, alignedTo) as [number, string, string][]) {
            acc.addUnique(u[0], u[1], u[2])
          }
        }
        // Partial buckets at the edges, up to the watermark.
        for (const [a, b] of [[r.fromMs, alignedFrom], [alignedTo, r.toMs]] as const) {
          if (a < b) for (const row of this.stmt.indexedEvents.iterate(tenantId, r.customerId, a, b, meter.event) as IterableIterator<EventFoldRow>) add(row)
        }
      } else {
        for (const row of this.stmt.indexedEvents.iterate(tenantId, r.customerId, r.fromMs, r.toMs, meter.event) as IterableIterator<EventFoldRow>) add(row)
      }
      for (const row of this.stmt.tailEvents.iterate(w, tenantId, r.customerId, meter.event, r.fromMs, r.toMs) as IterableIterator<EventFoldRow>) add(row)
      return acc.result()
    })()
  }

  usageEvents(tenantId: number, r: UsageEventsRequest): Page<UsageEvent> | { error: string } {
    return this.db.transaction(() => {
      const found = this.meter(tenantId, r.meter)
      if ('error' in found) return found
      const { meter } = found
      for (const dim of Object.keys(r.group ?? {})) {
        if (!meter.groupBy.includes(dim)) return { error: `group: "${dim}" is not a groupBy dimension of meter "${meter.key}"` }
      }
      let after: [number, string] | undefined
      if (r.cursor !== undefined) {
        const key = decodeCursor(r.cursor)
        if (key === undefined || typeof key[0] !== 'number' || typeof key[1] !== 'string') return { error: 'cursor: not a cursor this list returned' }
        after = [key[0], key[1]]
      }
      const matches: UsageEvent[] = []
      for (const row of this.events(tenantId, meter, r.customerId, after ? after[0] : r.fromMs, r.toMs, this.derived.watermark())) {
        if (row.status === 'voided') continue
        if (after && (row.ts < after[0] || (row.ts === after[0] && row.id <= after[1]))) continue
        const c = contribution(meter, row.event, row.source, JSON.parse(row.properties) as JsonValue)
        if (c === undefined) continue
        const values = c.groupKey === '' ? [] : (JSON.parse(c.groupKey) as JsonValue[])
        const group = Object.fromEntries(meter.groupBy.map((dim, i) => [dim, values[i] ?? null]))
        if (r.group && Object.entries(r.group).some(([dim, v]) => JSON.stringify(group[dim]) !== JSON.stringify(v))) continue
        matches.push({
          id: row.id,
          timestampMs: row.ts,
          value: c.value !== undefined ? numericText(c.value) : c.unique ?? null,
          group,
        })
      }
      matches.sort((a, b) => a.timestampMs - b.timestampMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      const data = matches.slice(0, r.limit)
      const last = data[data.length - 1]
      return { data, nextCursor: matches.length > r.limit && last ? encodeCursor([last.timestampMs, last.id]) : null }
    })()
  }
}

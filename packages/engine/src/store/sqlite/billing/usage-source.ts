// Usage for billing. Invoices read the raw events of the period once, so each line knows the
// exact events behind it; previews and simulations read rollups when the meter they price is
// the one the rollups follow, which is fast, and fall back to the events otherwise.
import type Database from 'better-sqlite3'
import type { JsonValue, MeterConfig } from '@meterkit/protocol'
import type Big from 'big.js'
import { ZERO, decimal } from '../../../decimal.js'
import { canonicalJson } from '../../../json.js'
import { type CompiledMeter, compileMeter, contribution } from '../../../meters/meter.js'
import { UsageAccumulator, type UsageResult } from '../../../meters/usage.js'
import type { ChargeUsage, UsageCharge } from '../../../rating/index.js'
import type { SourcedUsage, UsageSource } from '../../../billing/lines.js'
import type { Segment } from '../../../billing/timeline.js'
import type { DerivedState, EventFoldRow } from '../derived.js'
import type { UsageReader } from '../usage-reader.js'

const meterKeys = new WeakMap<MeterConfig, string>()
/** A meter definition's identity: its canonical JSON, computed once per object. */
function meterKey(meter: MeterConfig): string {
  let key = meterKeys.get(meter)
  if (key === undefined) {
    key = canonicalJson(meter as unknown as JsonValue)
    meterKeys.set(meter, key)
  }
  return key
}

const FIELDS = 'e.seq, e.tenant_id, e.id, e.event, e.customer_id, e.ts, coalesce(e.current, e.properties) AS properties, e.source, e.status'

/** The usage shape as the rating functions take it. */
export function chargeUsageOf(result: UsageResult, charge: UsageCharge): ChargeUsage {
  const quantity = result.value === null ? ZERO : decimal(result.value)
  if (charge.model !== 'dimensional') return { quantity }
  const byDimension = new Map<string, Big>()
  for (const g of result.groups ?? []) {
    if (g.value !== null) byDimension.set(JSON.stringify(g.group[charge.dimension] ?? null), decimal(g.value))
  }
  return { quantity, byDimension }
}

export class BillingUsage {
  private readonly stmt
  private readonly compiled = new Map<string, CompiledMeter>()

  constructor(db: Database.Database, private readonly derived: DerivedState, private readonly reader: UsageReader) {
    this.stmt = {
      indexed: db.prepare(
        `SELECT ${FIELDS} FROM customer_events c JOIN events e ON e.seq = c.seq
         WHERE c.tenant_id = ? AND c.customer_id = ? AND c.ts >= ? AND c.ts < ?`,
      ),
      tail: db.prepare(
        `SELECT ${FIELDS} FROM events e WHERE e.seq > ? AND +e.tenant_id = ? AND +e.customer_id = ? AND +e.ts >= ? AND +e.ts < ?`,
      ),
      maxSeq: db.prepare('SELECT coalesce(max(seq), 0) FROM events').pluck(),
    }
  }

  maxSeq(): number {
    return this.stmt.maxSeq.get() as number
  }

  private meter(config: MeterConfig): CompiledMeter {
    const key = meterKey(config)
    let m = this.compiled.get(key)
    if (m === undefined) {
      m = compileMeter(config)
      this.compiled.set(key, m)
    }
    return m
  }

  /**
   * Invoice usage: one pass over the customer's events of each segment, each event offered to
   * every charge of the segment's plan. Memoized per segment, since a plan prices several charges.
   */
  scanning(tenantId: number, customerId: string, timeZone: string): UsageSource {
    const cache = new Map<string, Map<string, SourcedUsage>>()
    return (segment: Segment, charge: UsageCharge) => {
      const key = `${segment.fromMs}:${segment.toMs}:${segment.phase.startMs}`
      let usages = cache.get(key)
      if (usages === undefined) {
        usages = this.scan(tenantId, customerId, timeZone, segment)
        cache.set(key, usages)
      }
      return usages.get(charge.key) ?? { quantity: ZERO, seqs: [] }
    }
  }

  private scan(tenantId: number, customerId: string, timeZone: string, segment: Segment): Map<string, SourcedUsage> {
    const meters = new Map(segment.phase.meters.map((m) => [m.key, this.meter(m)]))
    const charges = segment.phase.plan.charges.filter((c): c is UsageCharge => c.model !== 'flat')
    const work = charges.flatMap((charge) => {
      const meter = meters.get(charge.meter)
      if (meter === undefined) return []
      const dimension = charge.model === 'dimensional' ? charge.dimension : undefined
      const acc = new UsageAccumulator(meter, { fromMs: segment.fromMs, toMs: segment.toMs, window: 'none', groupBy: dimension ? [dimension] : [], timeZone }, 0)
      return [{ charge, meter, acc, dimIndex: dimension ? meter.groupBy.indexOf(dimension) : -1, seqs: [] as number[], byDim: new Map<string, number[]>() }]
    })
    const byEvent = new Map<string, typeof work>()
    for (const w of work) byEvent.set(w.meter.event, [...(byEvent.get(w.meter.event) ?? []), w])
    const visit = (row: EventFoldRow) => {
      if (row.status === 'voided') return
      const targets = byEvent.get(row.event)
      if (targets === undefined) return
      const properties = JSON.parse(row.properties) as JsonValue
      for (const w of targets) {
        const c = contribution(w.meter, row.event, row.source, properties)
        if (c === undefined) continue
        w.acc.addEvent(row.ts, row.id, c)
        w.seqs.push(row.seq)
        if (w.dimIndex >= 0) {
          const dim = JSON.stringify((JSON.parse(c.groupKey) as JsonValue[])[w.dimIndex] ?? null)
          const list = w.byDim.get(dim)
          if (list === undefined) w.byDim.set(dim, [row.seq])
          else list.push(row.seq)
        }
      }
    }
    if (work.length > 0) {
      // all() rather than iterate(): one call into SQLite per range is several times faster than
      // a step per row, and one customer's period is small.
      for (const row of this.stmt.indexed.all(tenantId, customerId, segment.fromMs, segment.toMs) as EventFoldRow[]) visit(row)
      for (const row of this.stmt.tail.all(this.derived.watermark(), tenantId, customerId, segment.fromMs, segment.toMs) as EventFoldRow[]) visit(row)
    }
    const out = new Map<string, SourcedUsage>()
    for (const w of work) {
      const usage = chargeUsageOf(w.acc.result(), w.charge)
      const sort = (a: number, b: number) => a - b
      out.set(w.charge.key, { ...usage, seqs: w.seqs.sort(sort), ...(w.dimIndex >= 0 ? { seqsByDimension: new Map([...w.byDim].map(([k, v]) => [k, v.sort(sort)])) } : {}) })
    }
    return out
  }

  /** Preview usage: rollups when the phase's meter is the configured one, events otherwise. */
  fast(tenantId: number, customerId: string, timeZone: string): UsageSource {
    const scanning = this.scanning(tenantId, customerId, timeZone)
    // A simulation prices the same usage under two plans: read each figure once.
    const read = new Map<string, SourcedUsage>()
    return (segment, charge) => {
      const meter = segment.phase.meters.find((m) => m.key === charge.meter)
      const key = `${segment.fromMs}:${segment.toMs}:${meter ? meterKey(meter) : charge.meter}:${charge.model === 'dimensional' ? charge.dimension : ''}`
      let usage = read.get(key)
      if (usage === undefined) {
        usage = this.fastRead(tenantId, customerId, segment, charge, scanning)
        read.set(key, usage)
      }
      return usage
    }
  }

  private fastRead(tenantId: number, customerId: string, segment: Segment, charge: UsageCharge, scanning: UsageSource): SourcedUsage {
    const snapshot = segment.phase.meters.find((m) => m.key === charge.meter)
    const current = this.derived.tenant(tenantId).byKey.get(charge.meter)
    if (snapshot === undefined || current === undefined || meterKey(snapshot) !== meterKey(current.config)) return scanning(segment, charge)
    const result = this.reader.usage(tenantId, {
      customerId, meter: charge.meter, fromMs: segment.fromMs, toMs: segment.toMs, window: 'none',
      groupBy: charge.model === 'dimensional' ? [charge.dimension] : [],
    })
    if ('error' in result) return scanning(segment, charge)
    return { ...chargeUsageOf(result, charge), seqs: [] }
  }
}

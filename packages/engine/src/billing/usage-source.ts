// Usage for billing. Invoices read the raw events of the period once, so each line knows the
// exact events behind it; previews and simulations read rollups when the meter they price is
// the one the rollups follow, which is fast, and fall back to the events otherwise.
//
// The rating functions take usage synchronously, so a source is loaded first, for the segments
// the caller is about to price, and then answers from memory.
import type { JsonValue, MeterConfig } from '@meterkit/protocol'
import type Big from 'big.js'
import { ZERO, decimal } from '../decimal.js'
import { canonicalJson } from '../json.js'
import { type CompiledMeter, compileMeter, contribution } from '../meters/meter.js'
import type { EventRecord } from '../meters/storage.js'
import { UsageAccumulator, type UsageResult } from '../meters/usage.js'
import type { ChargeUsage, UsageCharge } from '../rating/index.js'
import type { Tx } from '../store/storage.js'
import { readUsage } from '../meters/usage-reading.js'
import type { SourcedUsage, UsageSource } from './lines.js'
import { usageCharges } from './lines.js'
import type { Segment } from './timeline.js'

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

const compiledMeters = new Map<string, CompiledMeter>()
function compiled(config: MeterConfig): CompiledMeter {
  const key = meterKey(config)
  let m = compiledMeters.get(key)
  if (m === undefined) {
    if (compiledMeters.size > 10_000) compiledMeters.clear()
    m = compileMeter(config)
    compiledMeters.set(key, m)
  }
  return m
}

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

const segmentKey = (segment: Segment) => `${segment.fromMs}:${segment.toMs}:${segment.phase.startMs}`

/** What every usage charge of a segment's plan counted, from the segment's events. */
function scan(events: readonly EventRecord[], timeZone: string, segment: Segment): Map<string, SourcedUsage> {
  const meters = new Map(segment.phase.meters.map((m) => [m.key, compiled(m)]))
  const work = usageCharges(segment.phase.plan).flatMap((charge) => {
    const meter = meters.get(charge.meter)
    if (meter === undefined) return []
    const dimension = charge.model === 'dimensional' ? charge.dimension : undefined
    const acc = new UsageAccumulator(meter, { fromMs: segment.fromMs, toMs: segment.toMs, window: 'none', groupBy: dimension ? [dimension] : [], timeZone }, 0)
    return [{ charge, meter, acc, dimIndex: dimension ? meter.groupBy.indexOf(dimension) : -1, seqs: [] as number[], byDim: new Map<string, number[]>() }]
  })
  const byEvent = new Map<string, typeof work>()
  for (const w of work) byEvent.set(w.meter.event, [...(byEvent.get(w.meter.event) ?? []), w])
  for (const row of events) {
    if (row.status === 'voided') continue
    const targets = byEvent.get(row.event)
    if (targets === undefined) continue
    const properties = JSON.parse(row.properties) as JsonValue
    for (const w of targets) {
      const c = contribution(w.meter, row.event, row.source, properties)
      if (c === undefined) continue
      w.acc.addEvent(row.timestampMs, row.id, c)
      w.seqs.push(row.seq)
      if (w.dimIndex >= 0) {
        const dim = JSON.stringify((JSON.parse(c.groupKey) as JsonValue[])[w.dimIndex] ?? null)
        const list = w.byDim.get(dim)
        if (list === undefined) w.byDim.set(dim, [row.seq])
        else list.push(row.seq)
      }
    }
  }
  const out = new Map<string, SourcedUsage>()
  const sort = (a: number, b: number) => a - b
  for (const w of work) {
    const usage = chargeUsageOf(w.acc.result(), w.charge)
    out.set(w.charge.key, { ...usage, seqs: w.seqs.sort(sort), ...(w.dimIndex >= 0 ? { seqsByDimension: new Map([...w.byDim].map(([k, v]) => [k, v.sort(sort)])) } : {}) })
  }
  return out
}

/**
 * A customer's usage for billing, loaded segment by segment. `scanning` (invoices, corrections)
 * reads events, so lines name them; `fast` (previews, simulations) reads rollups where it can.
 */
export class BillingUsage {
  private readonly scanned = new Map<string, Map<string, SourcedUsage>>()
  private readonly fastRead = new Map<string, SourcedUsage>()
  private currentMeters: Map<string, MeterConfig> | undefined

  constructor(
    private readonly tx: Tx,
    private readonly tenantId: number,
    private readonly customerId: string,
    private readonly timeZone: string,
    private readonly mode: 'scanning' | 'fast',
    /**
     * Only events with a seq up to this (scanning): what the invoice and its credits were
     * computed from, exactly, while appends of other connections go on.
     */
    private readonly upToSeq = Number.POSITIVE_INFINITY,
  ) {}

  /** Reads what pricing `segments` needs, each segment once. */
  async load(segments: readonly Segment[]): Promise<void> {
    for (const segment of segments) {
      if (this.mode === 'fast') await this.loadFast(segment)
      else await this.loadScan(segment)
    }
  }

  private async loadScan(segment: Segment): Promise<Map<string, SourcedUsage>> {
    const key = segmentKey(segment)
    let usages = this.scanned.get(key)
    if (usages === undefined) {
      const hasCharges = usageCharges(segment.phase.plan).length > 0
      const all = hasCharges ? await this.tx.events.customerRange(this.tenantId, this.customerId, segment.fromMs, segment.toMs) : []
      const events = this.upToSeq === Number.POSITIVE_INFINITY ? all : all.filter((e) => e.seq <= this.upToSeq)
      usages = scan(events, this.timeZone, segment)
      this.scanned.set(key, usages)
    }
    return usages
  }

  private fastKey(segment: Segment, charge: UsageCharge): string {
    const meter = segment.phase.meters.find((m) => m.key === charge.meter)
    return `${segment.fromMs}:${segment.toMs}:${meter ? meterKey(meter) : charge.meter}:${charge.model === 'dimensional' ? charge.dimension : ''}`
  }

  private async loadFast(segment: Segment): Promise<void> {
    this.currentMeters ??= new Map((await this.tx.configs.current(this.tenantId)).config.meters.map((m) => [m.key, m]))
    for (const charge of usageCharges(segment.phase.plan)) {
      const key = this.fastKey(segment, charge)
      if (this.fastRead.has(key)) continue
      this.fastRead.set(key, await this.readFast(segment, charge))
    }
  }

  private async readFast(segment: Segment, charge: UsageCharge): Promise<SourcedUsage> {
    const snapshot = segment.phase.meters.find((m) => m.key === charge.meter)
    const current = this.currentMeters!.get(charge.meter)
    const viaEvents = async () => (await this.loadScan(segment)).get(charge.key) ?? { quantity: ZERO, seqs: [] }
    if (snapshot === undefined || current === undefined || meterKey(snapshot) !== meterKey(current)) return viaEvents()
    const result = await readUsage(this.tx, this.tenantId, {
      customerId: this.customerId, meter: charge.meter, fromMs: segment.fromMs, toMs: segment.toMs, window: 'none',
      groupBy: charge.model === 'dimensional' ? [charge.dimension] : [],
    })
    if ('error' in result) return viaEvents()
    return { ...chargeUsageOf(result, charge), seqs: [] }
  }

  /** The loaded usage, for the rating functions; a segment not loaded first is a bug. */
  readonly source: UsageSource = (segment, charge) => {
    if (this.mode === 'fast') {
      const usage = this.fastRead.get(this.fastKey(segment, charge))
      if (usage === undefined) throw new Error(`billing usage: segment ${segmentKey(segment)} was not loaded`)
      return usage
    }
    const usages = this.scanned.get(segmentKey(segment))
    if (usages === undefined) throw new Error(`billing usage: segment ${segmentKey(segment)} was not loaded`)
    return usages.get(charge.key) ?? { quantity: ZERO, seqs: [] }
  }
}

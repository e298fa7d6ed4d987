// Usage over a range: partial aggregates from rollups and from single events, folded into
// calendar windows in the customer's zone and into the requested groups.
import type { JsonValue } from '@meterkit/protocol'
import { formatTimestamp } from '@meterkit/protocol'
import { type Partial, addContribution, emptyPartial, finalValue, mergePartial } from './aggregate.js'
import type { CompiledMeter, Contribution } from './meter.js'
import { type CalendarUnit, splitRange } from './timezone.js'

export type UsageWindow = 'hour' | 'day' | 'month' | 'none'

export interface UsageQuery {
  fromMs: number
  toMs: number
  window: UsageWindow
  /** Dimensions to split by: a subset of the meter's groupBy. */
  groupBy: string[]
  timeZone: string
}

export interface UsageGroup {
  group: Record<string, JsonValue>
  value: string | null
}

export interface UsageResult {
  meter: string
  from: string
  to: string
  window: UsageWindow
  configVersion: number
  value: string | null
  groups?: UsageGroup[]
  buckets?: { start: string; end: string; value: string | null; groups?: UsageGroup[] }[]
}

interface Cell {
  partial: Partial
  uniques: Set<string>
}

/** Accumulates rollup rows and events for one meter and query, then answers the usage shape. */
export class UsageAccumulator {
  private readonly edges: number[]
  private readonly windows: Map<string, Cell>[]
  private readonly total = new Map<string, Cell>()
  private readonly projection: number[]

  constructor(private readonly meter: CompiledMeter, private readonly query: UsageQuery, private readonly configVersion: number) {
    this.edges = query.window === 'none'
      ? [query.fromMs, query.toMs]
      : splitRange(query.fromMs, query.toMs, query.window as CalendarUnit, query.timeZone)
    this.windows = Array.from({ length: this.edges.length - 1 }, () => new Map<string, Cell>())
    this.projection = query.groupBy.map((dim) => meter.groupBy.indexOf(dim))
  }

  private windowIndex(ms: number): number {
    let lo = 0
    let hi = this.edges.length - 2
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (this.edges[mid]! <= ms) lo = mid
      else hi = mid - 1
    }
    return lo
  }

  /** Stored group keys projected onto the requested dimensions, computed once per key. */
  private readonly projected = new Map<string, string>()

  private project(groupKey: string): string {
    if (this.projection.length === 0) return ''
    let key = this.projected.get(groupKey)
    if (key === undefined) {
      const values = JSON.parse(groupKey) as JsonValue[]
      key = JSON.stringify(this.projection.map((i) => values[i] ?? null))
      this.projected.set(groupKey, key)
    }
    return key
  }

  private cell(map: Map<string, Cell>, key: string): Cell {
    let cell = map.get(key)
    if (cell === undefined) map.set(key, (cell = { partial: emptyPartial(), uniques: new Set() }))
    return cell
  }

  /** A rollup row: its bucket lies wholly inside one window. */
  addPartial(bucketMs: number, groupKey: string, partial: Partial): void {
    const key = this.project(groupKey)
    mergePartial(this.cell(this.windows[this.windowIndex(bucketMs)]!, key).partial, partial)
    mergePartial(this.cell(this.total, key).partial, partial)
  }

  addUnique(bucketMs: number, groupKey: string, value: string): void {
    const key = this.project(groupKey)
    this.cell(this.windows[this.windowIndex(bucketMs)]!, key).uniques.add(value)
    this.cell(this.total, key).uniques.add(value)
  }

  addEvent(ts: number, id: string, c: Contribution): void {
    const key = this.project(c.groupKey)
    for (const cell of [this.cell(this.windows[this.windowIndex(ts)]!, key), this.cell(this.total, key)]) {
      addContribution(cell.partial, c, ts, id, this.meter.aggregation)
      if (c.unique !== undefined) cell.uniques.add(c.unique)
    }
  }

  private value(cells: Iterable<Cell>): string | null {
    const merged: Cell = { partial: emptyPartial(), uniques: new Set() }
    for (const c of cells) {
      mergePartial(merged.partial, c.partial)
      for (const u of c.uniques) merged.uniques.add(u)
    }
    return finalValue(this.meter.aggregation, merged.partial, merged.uniques)
  }

  private groups(map: Map<string, Cell>): UsageGroup[] {
    return [...map.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, cell]) => {
        const values = JSON.parse(key) as JsonValue[]
        return {
          group: Object.fromEntries(this.query.groupBy.map((dim, i) => [dim, values[i] ?? null])),
          value: finalValue(this.meter.aggregation, cell.partial, cell.uniques),
        }
      })
  }

  result(): UsageResult {
    const grouped = this.query.groupBy.length > 0
    const out: UsageResult = {
      meter: this.meter.key,
      from: formatTimestamp(this.query.fromMs),
      to: formatTimestamp(this.query.toMs),
      window: this.query.window,
      configVersion: this.configVersion,
      value: this.value(this.total.values()),
    }
    if (grouped) out.groups = this.groups(this.total)
    if (this.query.window !== 'none') {
      out.buckets = this.windows.map((map, i) => ({
        start: formatTimestamp(this.edges[i]!),
        end: formatTimestamp(this.edges[i + 1]!),
        value: this.value(map.values()),
        ...(grouped ? { groups: this.groups(map) } : {}),
      }))
    }
    return out
  }
}

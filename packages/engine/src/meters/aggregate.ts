// Partial aggregates: what a rollup row holds for one meter, customer, bucket and group. They
// merge associatively, so buckets, windows and whole ranges are all folds of the same thing.
import type { Aggregation } from '@meterkit/protocol'
import { DecimalSum, type Numeric, ZERO, compareNumeric, decimal, formatDecimal, numericToDecimal } from '../decimal.js'
import type { Contribution } from './meter.js'

export interface Partial {
  count: number
  sum: DecimalSum | undefined
  min: Numeric | undefined
  max: Numeric | undefined
  latestTs: number | undefined
  latestId: string | undefined
  latestValue: Numeric | undefined
}

export function emptyPartial(): Partial {
  return { count: 0, sum: undefined, min: undefined, max: undefined, latestTs: undefined, latestId: undefined, latestValue: undefined }
}

function later(ts: number, id: string, p: Partial): boolean {
  return p.latestTs === undefined || ts > p.latestTs || (ts === p.latestTs && id > p.latestId!)
}

/**
 * Adds one event's contribution, keeping only what the aggregation needs: sum (sum and avg),
 * min, max, or latest (greatest time, then greatest id). Count is always kept.
 */
export function addContribution(p: Partial, c: Contribution, ts: number, id: string, aggregation: Aggregation): void {
  p.count++
  const v = c.value
  if (v === undefined) return
  switch (aggregation) {
    case 'sum':
    case 'avg':
      ;(p.sum ??= new DecimalSum()).add(v)
      return
    case 'min':
      if (p.min === undefined || compareNumeric(v, p.min) < 0) p.min = v
      return
    case 'max':
      if (p.max === undefined || compareNumeric(v, p.max) > 0) p.max = v
      return
    case 'latest':
      if (later(ts, id, p)) {
        p.latestTs = ts
        p.latestId = id
        p.latestValue = v
      }
      return
    default:
  }
}

export function mergePartial(into: Partial, other: Partial): void {
  into.count += other.count
  if (other.sum !== undefined) (into.sum ??= new DecimalSum()).merge(other.sum)
  if (other.min !== undefined && (into.min === undefined || compareNumeric(other.min, into.min) < 0)) into.min = other.min
  if (other.max !== undefined && (into.max === undefined || compareNumeric(other.max, into.max) > 0)) into.max = other.max
  if (other.latestTs !== undefined && later(other.latestTs, other.latestId!, into)) {
    into.latestTs = other.latestTs
    into.latestId = other.latestId
    into.latestValue = other.latestValue
  }
}

/** A stored numeric column as text, plain notation. */
export function numericText(v: Numeric | undefined): string | null {
  return v === undefined ? null : formatDecimal(numericToDecimal(v))
}

export function sumText(s: DecimalSum | undefined): string | null {
  return s === undefined ? null : s.text()
}

/**
 * The meter's figure from a partial (and, for unique_count, the set of values): exact decimal
 * strings; "0" for an empty sum, count or unique count; null for an empty min, max, latest, avg.
 */
export function finalValue(aggregation: Aggregation, p: Partial, uniques: ReadonlySet<string> | undefined): string | null {
  switch (aggregation) {
    case 'count':
      return String(p.count)
    case 'unique_count':
      return String(uniques?.size ?? 0)
    case 'sum':
      return p.sum === undefined ? formatDecimal(ZERO) : p.sum.text()
    case 'min':
      return numericText(p.min)
    case 'max':
      return numericText(p.max)
    case 'latest':
      return numericText(p.latestValue)
    case 'avg':
      return p.sum === undefined || p.count === 0 ? null : formatDecimal(p.sum.value().div(decimal(p.count)))
  }
}

/** A stored rollup's partial aggregate. */
export function partialOf(r: { count: number; sum: string | null; min: string | null; max: string | null; latestTs: number | null; latestId: string | null; latestValue: string | null }): Partial {
  return {
    count: r.count,
    sum: r.sum === null ? undefined : DecimalSum.of(r.sum),
    min: r.min === null ? undefined : decimal(r.min),
    max: r.max === null ? undefined : decimal(r.max),
    latestTs: r.latestTs ?? undefined,
    latestId: r.latestId ?? undefined,
    latestValue: r.latestValue === null ? undefined : decimal(r.latestValue),
  }
}

// Partial aggregates: what a rollup row holds for one meter, customer, bucket and group. They
// merge associatively, so buckets, windows and whole ranges are all folds of the same thing.
import type { Aggregation } from '@meterkit/protocol'
import { type Decimal, ZERO, decimal, formatDecimal } from '../decimal.js'
import type { Contribution } from './meter.js'

export interface Partial {
  count: number
  sum: Decimal | undefined
  min: Decimal | undefined
  max: Decimal | undefined
  latestTs: number | undefined
  latestId: string | undefined
  latestValue: Decimal | undefined
}

export function emptyPartial(): Partial {
  return { count: 0, sum: undefined, min: undefined, max: undefined, latestTs: undefined, latestId: undefined, latestValue: undefined }
}

/** Adds one event's contribution (its time and id decide `latest`: greatest time, then greatest id). */
export function addContribution(p: Partial, c: Contribution, ts: number, id: string): void {
  p.count++
  const v = c.value
  if (v === undefined) return
  p.sum = p.sum === undefined ? v : p.sum.plus(v)
  if (p.min === undefined || v.lt(p.min)) p.min = v
  if (p.max === undefined || v.gt(p.max)) p.max = v
  if (p.latestTs === undefined || ts > p.latestTs || (ts === p.latestTs && id > p.latestId!)) {
    p.latestTs = ts
    p.latestId = id
    p.latestValue = v
  }
}

export function mergePartial(into: Partial, other: Partial): void {
  into.count += other.count
  if (other.sum !== undefined) into.sum = into.sum === undefined ? other.sum : into.sum.plus(other.sum)
  if (other.min !== undefined && (into.min === undefined || other.min.lt(into.min))) into.min = other.min
  if (other.max !== undefined && (into.max === undefined || other.max.gt(into.max))) into.max = other.max
  if (other.latestTs !== undefined && (into.latestTs === undefined || other.latestTs > into.latestTs
    || (other.latestTs === into.latestTs && other.latestId! > into.latestId!))) {
    into.latestTs = other.latestTs
    into.latestId = other.latestId
    into.latestValue = other.latestValue
  }
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
      return formatDecimal(p.sum ?? ZERO)
    case 'min':
      return p.min === undefined ? null : formatDecimal(p.min)
    case 'max':
      return p.max === undefined ? null : formatDecimal(p.max)
    case 'latest':
      return p.latestValue === undefined ? null : formatDecimal(p.latestValue)
    case 'avg':
      return p.sum === undefined || p.count === 0 ? null : formatDecimal(p.sum.div(decimal(p.count)))
  }
}

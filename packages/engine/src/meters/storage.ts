// What metering and its readers need from storage: the raw events in the orders the engine reads
// them, and usage figures from the rollups.
import type { EventSource } from '../store/port.js'
import type { Awaitable } from '../store/storage.js'

/** An event as folds and billing read it: current properties (JSON text) and status. */
export interface EventRecord {
  /** The store's append order (1, 2, …): folds and watermarks count in it. */
  seq: number
  tenantId: number
  id: string
  event: string
  customerId: string
  timestampMs: number
  properties: string
  source: EventSource
  status: string
  reservationId: string | null
  receivedAtMs: number
}

export interface EventReads {
  /** The greatest seq stored (0 when none). */
  maxSeq(): Awaitable<number>
  /**
   * A customer's events with a time in [fromMs, toMs), in no particular order; only those named
   * `event` when given; `folded`: only those the rollups cover (true) or only those past the
   * rollups' watermark (false), as of this transaction.
   */
  customerRange(tenantId: number, customerId: string, fromMs: number, toMs: number, options?: { event?: string; folded?: boolean }): Awaitable<EventRecord[]>
  /** The events with seq in (afterSeq, toSeq], by seq (what a fold pass reads). */
  range(afterSeq: number, toSeq: number): Awaitable<EventRecord[]>
  /** Where and when the events with seq in (afterSeq, toSeq] happened, by seq. */
  arrivals(afterSeq: number, toSeq: number): Awaitable<{ seq: number; tenantId: number; customerId: string; timestampMs: number }[]>
  /** The ids and times of events by seq, in the order asked. */
  bySeqs(seqs: readonly number[]): Awaitable<{ id: string; timestampMs: number }[]>
}

/** A rollup row: the partial aggregate of one meter, customer, 15-minute bucket and group. */
export interface RollupRecord {
  bucket: number
  groupKey: string
  count: number
  sum: string | null
  min: string | null
  max: string | null
  latestTs: number | null
  latestId: string | null
  latestValue: string | null
}

export interface RollupReads {
  /** A customer's rollups of a meter over the buckets in [fromBucket, toBucket). */
  /** `countsOnly`: the caller needs count and sum alone (sum, count, avg, unique_count), so the rest may be left null. */
  rollups(tenantId: number, meter: string, customerId: string, fromBucket: number, toBucket: number, countsOnly: boolean): Awaitable<RollupRecord[]>
  /** The unique values a unique_count meter's rollups hold over [fromBucket, toBucket). */
  uniques(tenantId: number, meter: string, customerId: string, fromBucket: number, toBucket: number): Awaitable<{ bucket: number; groupKey: string; value: string }[]>
}

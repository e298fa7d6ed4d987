// What metering and its readers need from storage: the raw events in the orders the engine reads
// them, and usage figures from the rollups.
import type { EventSource, EventVersion } from '../store/port.js'
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

/** One stored event with what it was received as and the corrections made to it since. */
export interface EventHistory {
  record: EventRecord
  /** The properties as received (JSON text). */
  original: string
  /** Amends and voids, oldest first (versions 2, 3, …). */
  corrections: EventVersion[]
}

/** A page request over a tenant's events, newest first; `before` is the (time, id) key of the last row of the previous page. */
export interface EventListRequest {
  customerId?: string
  event?: string
  fromMs?: number
  toMs?: number
  before?: [number, string]
  limit: number
}

/** The events as the rollup fold, corrections and audits write and check them. */
export interface EventRows extends EventReads {
  find(tenantId: number, id: string): Awaitable<EventHistory | undefined>
  /** Newest first (time, then id), at most `limit` rows. */
  list(tenantId: number, request: EventListRequest): Awaitable<EventRecord[]>
  /** Records an amend (`properties` the new JSON text) or a void as the event's next version, and its new status. */
  correct(tenantId: number, id: string, change: { action: 'amend' | 'void'; properties: string | null; reason: string; atMs: number; keyId: string | null }): Awaitable<void>
  /** The rollups' watermark: events with seq up to it are folded into the rollups. */
  foldedSeq(): Awaitable<number>
  /** Moves the rollups' watermark from `afterSeq` to `toSeq` (a store may index those events for customer reads here). */
  markFolded(afterSeq: number, toSeq: number): Awaitable<void>
  /** A tenant's events named `event` with seq up to `toSeq` (rebuilding a meter), in no particular order. */
  named(tenantId: number, event: string, toSeq: number): Awaitable<EventRecord[]>
  /** The customers with folded events, per tenant (audits walk them). */
  foldedCustomers(): Awaitable<{ tenantId: number; customerId: string }[]>
  /** A customer's folded events, all times. */
  foldedOf(tenantId: number, customerId: string): Awaitable<EventRecord[]>
  /** How many events have seq up to `toSeq`; and what is wrong with the store's own indexes of them, if anything. */
  audit(toSeq: number): Awaitable<{ events: number; problems: string[] }>
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

/** The key of a rollup row: tenant, meter, customer, bucket and group. */
export interface RollupKey {
  tenantId: number
  meter: string
  customerId: string
  bucket: number
  groupKey: string
}

export interface RollupRows extends RollupReads {
  get(key: RollupKey): Awaitable<RollupRecord | undefined>
  /** Stores a new row; answers false (and changes nothing) when one with its key exists. */
  insert(key: RollupKey, row: RollupRecord): Awaitable<boolean>
  update(key: RollupKey, row: RollupRecord): Awaitable<void>
  addUniques(key: RollupKey, values: Iterable<string>): Awaitable<void>
  /** Drops one customer's rows of a meter in one bucket, unique values included. */
  deleteBucket(tenantId: number, meter: string, customerId: string, bucket: number): Awaitable<void>
  /** Drops every row of a meter, unique values included. */
  deleteMeter(tenantId: number, meter: string): Awaitable<void>
  /** Every row of a meter for one customer, and its unique values (audits). */
  allOf(tenantId: number, meter: string, customerId: string): Awaitable<{ rows: RollupRecord[]; uniques: { bucket: number; groupKey: string; value: string }[] }>
  /** A counter moved by every change to events or meters outside a fold: a fold prepared before it moved must not be written. */
  generation(): Awaitable<number>
  bumpGeneration(): Awaitable<void>
}

// What metering and its readers need from storage: the raw events in the orders the engine reads
// them, and usage figures from the rollups.
import type { EventSource, UsageRequest } from '../store/port.js'
import type { Awaitable } from '../store/storage.js'
import type { UsageResult } from './usage.js'

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
  /** A customer's events with a time in [fromMs, toMs), in no particular order. */
  customerRange(tenantId: number, customerId: string, fromMs: number, toMs: number): Awaitable<EventRecord[]>
  /** The events with seq in (afterSeq, toSeq], by seq (what a fold pass reads). */
  range(afterSeq: number, toSeq: number): Awaitable<EventRecord[]>
  /** Where and when the events with seq in (afterSeq, toSeq] happened, by seq. */
  arrivals(afterSeq: number, toSeq: number): Awaitable<{ seq: number; tenantId: number; customerId: string; timestampMs: number }[]>
  /** The ids and times of events by seq, in the order asked. */
  bySeqs(seqs: readonly number[]): Awaitable<{ id: string; timestampMs: number }[]>
}

export interface UsageReads {
  /** Metered usage from rollups (and the events not folded into them yet). */
  usage(tenantId: number, request: UsageRequest): Awaitable<UsageResult | { error: string }>
}

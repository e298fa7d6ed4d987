// Cuts batches off the head of the queue within the count and byte limits of one request, and
// encodes a batch as the `POST /v1/events` body from the events' stored JSON.
import { MAX_BATCH_BYTES, MAX_BATCH_EVENTS } from '@meterkit/protocol'
import type { SerializedEvent } from './event.js'

/** `{"events":[` + `]}` */
export const BATCH_ENVELOPE_BYTES = 13

export interface BatchLimits {
  maxEvents: number
  maxBytes: number
}

/** The user's options clamped to what the collector accepts in one request. */
export function batchLimits(flushAt: number, maxBatchBytes: number): BatchLimits {
  return {
    maxEvents: Math.max(1, Math.min(Math.floor(flushAt), MAX_BATCH_EVENTS)),
    maxBytes: Math.max(1, Math.min(Math.floor(maxBatchBytes), MAX_BATCH_BYTES)),
  }
}

/** Body size of a batch holding `count` events of `eventBytes` total. */
export function bodyBytes(count: number, eventBytes: number): number {
  return BATCH_ENVELOPE_BYTES + eventBytes + Math.max(0, count - 1)
}

interface Source<T> {
  readonly length: number
  peek(): T | undefined
  shift(): T | undefined
}

/**
 * Takes events from the head of `source` while the batch stays within `limits`. The first
 * event is always taken, so an event larger than `maxBytes` still travels (alone).
 */
export function takeBatch<T extends SerializedEvent>(source: Source<T>, limits: BatchLimits): T[] {
  const batch: T[] = []
  let bytes = BATCH_ENVELOPE_BYTES
  while (batch.length < limits.maxEvents) {
    const next = source.peek()
    if (next === undefined) break
    const added = next.bytes + (batch.length > 0 ? 1 : 0)
    if (batch.length > 0 && bytes + added > limits.maxBytes) break
    bytes += added
    batch.push(source.shift()!)
  }
  return batch
}

export function encodeBatch(events: readonly SerializedEvent[]): string {
  let body = '{"events":['
  for (let i = 0; i < events.length; i++) body += (i === 0 ? '' : ',') + events[i]!.json
  return body + ']}'
}

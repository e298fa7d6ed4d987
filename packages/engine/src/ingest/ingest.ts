// Ingest: validate each event of a batch on its own, apply the time rules of the receiving
// route, and hand the valid ones to the store in one transaction. One bad event never sinks
// its batch: it gets a `rejected` result with a code naming the field, the others go on.
import {
  type EventResult,
  MAX_FUTURE_SKEW_MS,
  type ValidEvent,
  validateEvent,
} from '@meterkit/protocol'
import type { EventSource, IngestBatch, IngestOutcome } from '../store/port.js'

/**
 * Where valid events go: a store (which answers what each event was), or the durable log of
 * queue mode, which answers `queued` and leaves the verdict to the worker that applies them.
 */
export interface IngestSink {
  ingest(batch: IngestBatch): Promise<readonly (IngestOutcome | 'queued')[]>
}

export interface IngestContext {
  tenantId: number
  source: EventSource
  nowMs: number
  /** Oldest accepted timestamp is `nowMs - latenessWindowMs`; `undefined` for backfill (no limit). */
  latenessWindowMs: number | undefined
  /** A customer token may send events for its own customer only. */
  customerId?: string
  /** A customer token may send only these event names. */
  eventNames?: ReadonlySet<string>
  /** How far in the future a timestamp may lie (default 5 minutes). */
  futureSkewMs?: number
}

function describeWindow(ms: number): string {
  const days = ms / 86_400_000
  return Number.isInteger(days) ? `${days}-day` : `${ms / 1000}-second`
}

/** Checks one raw event against the wire rules and the context's time and scope rules. */
export function checkEvent(raw: unknown, ctx: IngestContext): { ok: true; event: ValidEvent } | (EventResult & { status: 'rejected' }) {
  const check = validateEvent(raw)
  if (!check.ok) return { id: check.id, status: 'rejected', code: check.code, message: check.message }
  const e = check.event
  if (e.timestampMs > ctx.nowMs + (ctx.futureSkewMs ?? MAX_FUTURE_SKEW_MS)) {
    return { id: e.id, status: 'rejected', code: 'timestamp_in_future', message: 'timestamp: is more than 5 minutes in the future' }
  }
  if (ctx.latenessWindowMs !== undefined && e.timestampMs < ctx.nowMs - ctx.latenessWindowMs) {
    return {
      id: e.id,
      status: 'rejected',
      code: 'timestamp_too_old',
      message: `timestamp: is older than the ${describeWindow(ctx.latenessWindowMs)} lateness window (send it to /v1/events/import)`,
    }
  }
  if (ctx.customerId !== undefined && e.customerId !== ctx.customerId) {
    return { id: e.id, status: 'rejected', code: 'forbidden_customer', message: 'customerId: this credential may not send events for that customer' }
  }
  if (ctx.eventNames !== undefined && !ctx.eventNames.has(e.event)) {
    return { id: e.id, status: 'rejected', code: 'forbidden_event', message: `event: this credential may not send "${e.event}" events` }
  }
  return { ok: true, event: e }
}

/** Validates and stores a batch; answers one result per input event, in order. */
export async function ingestEvents(store: IngestSink, rawEvents: readonly unknown[], ctx: IngestContext): Promise<EventResult[]> {
  const results = new Array<EventResult>(rawEvents.length)
  const valid: ValidEvent[] = []
  const positions: number[] = []
  for (let i = 0; i < rawEvents.length; i++) {
    const checked = checkEvent(rawEvents[i], ctx)
    if ('ok' in checked) {
      valid.push(checked.event)
      positions.push(i)
    } else {
      results[i] = checked
    }
  }
  if (valid.length > 0) {
    const outcomes = await store.ingest({ tenantId: ctx.tenantId, source: ctx.source, receivedAtMs: ctx.nowMs, events: valid })
    for (let j = 0; j < valid.length; j++) {
      const id = valid[j]!.id
      const outcome = outcomes[j]!
      results[positions[j]!] = outcome === 'conflict'
        ? { id, status: 'conflict', code: 'conflict', message: 'id: an event with this id and different content is already stored; nothing changed' }
        : { id, status: outcome }
    }
  }
  return results
}

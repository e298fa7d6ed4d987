// The `POST /v1/events` request and response (CONTRACT §4).
import { z } from 'zod'
import type { EventErrorCode } from './errors.js'
import { MAX_BATCH_EVENTS } from './limits.js'

/** The envelope only: each event is validated on its own so that one bad event never sinks its batch. */
export const batchRequestSchema = z.object({
  events: z
    .array(z.unknown(), { error: 'events: must be an array of events' })
    .min(1, 'events: must hold at least 1 event')
    .max(MAX_BATCH_EVENTS, `events: must hold at most ${MAX_BATCH_EVENTS} events`),
})

/**
 * `queued` is the answer of a collector in queue mode (docs/protocol.md): the event is held by
 * the durable log and a worker applies it; whether it is new, a duplicate or a conflict is known
 * only then, at `GET /v1/events/:id`. Like `accepted` and `duplicate`, it means delivered.
 */
export type EventStatus = 'accepted' | 'duplicate' | 'queued' | 'conflict' | 'rejected'

export type EventResult =
  | { id: string; status: 'accepted' | 'duplicate' | 'queued' }
  | { id: string; status: 'conflict'; code: 'conflict'; message: string }
  | { id: string | null; status: 'rejected'; code: EventErrorCode; message: string }

export interface BatchResponse {
  accepted: number
  duplicates: number
  conflicts: number
  rejected: number
  /** Events answered `queued`; present only when there are some (queue mode). */
  queued?: number
  results: EventResult[]
}

export const eventResultSchema = z.object({
  id: z.string().nullable(),
  status: z.enum(['accepted', 'duplicate', 'queued', 'conflict', 'rejected']),
  code: z.string().optional(),
  message: z.string().optional(),
})

export const batchResponseSchema = z.object({
  accepted: z.number().int().nonnegative(),
  duplicates: z.number().int().nonnegative(),
  conflicts: z.number().int().nonnegative(),
  rejected: z.number().int().nonnegative(),
  queued: z.number().int().nonnegative().optional(),
  results: z.array(eventResultSchema),
})

/** Counts the results into a response body. */
export function summarize(results: EventResult[]): BatchResponse {
  let accepted = 0
  let duplicates = 0
  let conflicts = 0
  let rejected = 0
  let queued = 0
  for (const r of results) {
    if (r.status === 'accepted') accepted++
    else if (r.status === 'duplicate') duplicates++
    else if (r.status === 'queued') queued++
    else if (r.status === 'conflict') conflicts++
    else rejected++
  }
  return queued === 0 ? { accepted, duplicates, conflicts, rejected, results } : { accepted, duplicates, conflicts, rejected, queued, results }
}

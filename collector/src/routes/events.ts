// POST /v1/events (the hot path), GET /v1/events and GET /v1/events/:id (audit).
import { z } from '@hono/zod-openapi'
import { type EventWithVersions, type StoredEvent, ingestEvents } from '@meterkit/engine'
import {
  type EventResult,
  MAX_EVENT_BYTES,
  MAX_FUTURE_SKEW_MS,
  checkProperties,
  utf8ByteLength,
  type Properties,
  batchRequestSchema,
  batchResponseSchema,
  formatTimestamp,
  parseRfc3339,
  summarize,
  wireEventSchema,
} from '@meterkit/protocol'
import type { z as zod } from 'zod'
import type { AppContext } from '../app.js'
import { HttpError } from '../http-error.js'
import type { Principal } from '../middleware/auth.js'
import { api, body, describeIssues, errors, instant, json, jsonObject, limitQuery, page, pageQuery, pathParams, route, timestamp } from '../openapi/index.js'
import { importRoute } from './import.js'
import { acceptedEvents } from '../live/index.js'

const tags = ['Events']

const reason = z.string().min(1, 'must say why').max(1000)
const voidSchema = z.object({ reason }).strict()
const amendSchema = z.object({ properties: jsonObject, reason }).strict()

// Described for readers; the engine validates each event with wireEventSchema itself.
const eventSchema = wireEventSchema.extend({
  id: wireEventSchema.shape.id.meta({ description: 'The idempotency key: unique per tenant, forever. Sending it again is a `duplicate`, never a second count.' }),
  timestamp: wireEventSchema.shape.timestamp.meta({ format: 'date-time', description: 'Any RFC 3339 offset; at most 5 minutes ahead, at most the lateness window (default 35 days) old' }),
  properties: wireEventSchema.shape.properties.meta({
    type: 'object',
    description: 'At most 100 top-level keys, nested at most 5 levels (properties is level 1), strings at most 4096 characters, finite numbers',
  }),
  reservationId: wireEventSchema.shape.reservationId.meta({ description: 'Settles this credit reservation with the event\'s rated cost' }),
}).meta({ description: 'A usage event, at most 32 KiB serialized. Each is validated on its own: a bad one gets a `rejected` result naming the field, the rest go on.' })
/** The batch envelope; each event is checked by `Event` on its own, so one bad event costs only itself. */
const batchSchema = z.object({ events: batchRequestSchema.shape.events.meta({ items: { $ref: '#/components/schemas/Event' } }) })

const storedEvent = z.object({
  id: z.string(),
  event: z.string(),
  customerId: z.string(),
  timestamp,
  properties: jsonObject,
  reservationId: z.string().optional(),
  source: z.enum(['server', 'browser', 'import']),
  receivedAt: timestamp,
  status: z.enum(['active', 'voided', 'amended']),
}).meta({ id: 'StoredEvent' })
const eventDetailSchema = storedEvent.extend({
  versions: z.array(z.object({
    version: z.number().int(),
    action: z.enum(['receive', 'amend', 'void']),
    properties: jsonObject.nullable(),
    reason: z.string().nullable(),
    at: timestamp,
    keyId: z.string().optional(),
  })),
}).meta({ id: 'EventDetail' })
const idParams = pathParams('id')

/** The envelope's problem in one sentence (the events themselves are judged one by one). */
function envelopeError(error: zod.ZodError): HttpError {
  const issue = error.issues[0]!
  const message = issue.path.length === 0 && issue.code === 'invalid_type'
    ? 'body: must be a JSON object { "events": [ … ] }'
    : issue.message.startsWith('events') ? issue.message : `events: ${issue.message}`
  return new HttpError('invalid_body', message)
}

export function eventDetail(e: EventWithVersions) {
  return {
    ...eventView(e),
    status: e.status,
    versions: e.versions.map((v) => ({
      version: v.version,
      action: v.action,
      properties: v.properties,
      reason: v.reason,
      at: formatTimestamp(v.atMs),
      ...(v.keyId === null ? {} : { keyId: v.keyId }),
    })),
  }
}

/** What a credential may send: a customer token only its customer's allowed events, near now. */
function ingestScope(principal: Principal, ctx: AppContext) {
  if (principal.kind === 'secret') return { source: 'server' as const, latenessWindowMs: ctx.latenessWindowMs }
  return {
    source: 'browser' as const,
    latenessWindowMs: MAX_FUTURE_SKEW_MS,
    customerId: principal.customerId,
    eventNames: principal.ingestEvents,
  }
}

/** A token's old event is not backfill material: its message must not point at the import route. */
function browserMessages(results: EventResult[]): EventResult[] {
  return results.map((r) => (r.status === 'rejected' && r.code === 'timestamp_too_old'
    ? { ...r, message: 'timestamp: is more than 5 minutes in the past (customer tokens send events as they happen)' }
    : r))
}

export function eventView(e: StoredEvent) {
  return {
    id: e.id,
    event: e.event,
    customerId: e.customerId,
    timestamp: formatTimestamp(e.timestampMs),
    properties: e.properties,
    ...(e.reservationId === undefined ? {} : { reservationId: e.reservationId }),
    source: e.source,
    receivedAt: formatTimestamp(e.receivedAtMs),
  }
}

/** `limit` for a handler that reads its query by hand: the rule of `limitQuery`, the same answer. */
export function limitParam(value: string | undefined): number {
  const parsed = limitQuery.safeParse(value)
  if (!parsed.success) throw new HttpError('invalid_request', describeIssues(parsed.error, 'limit'))
  return parsed.data
}

/** Whether the batch reached the store (at least one event was valid). */
function valid(results: { status: string }[]): boolean {
  return results.some((r) => r.status !== 'rejected')
}

export function eventRoutes(ctx: AppContext) {
  const app = api()
  app.openAPIRegistry.register('Event', eventSchema)

  importRoute(app, ctx)

  route(app, {
    method: 'post', path: '/', tags, summary: 'Send events',
    description: 'One batch of 1–1000 events, at most 1 MiB after decoding (`Content-Encoding: gzip` accepted). The answer comes after every accepted event is durably committed (in queue mode: after the event stream holds every valid event, each answered `queued`), with one result per event, in order. With a customer token (also as `?token=` with a `text/plain` body, for `sendBeacon`), only the events the token allows, for its customer, timestamped within 5 minutes of now.',
    request: {
      body: { required: true, content: { 'application/json': { schema: batchSchema }, 'text/plain': { schema: batchSchema } } },
    },
    responses: {
      200: json(batchResponseSchema.meta({ id: 'BatchResponse' }), 'Per-event results: `accepted`, `duplicate` (same id, same content: already stored), `conflict` (same id, other content: nothing changed) or `rejected` with a code; in queue mode `queued` (held by the durable log; a worker applies it, the outcome at `GET /v1/events/{id}`)'),
      ...errors('rate_limited'),
    },
  }, async (c) => {
    const events = c.req.valid('json').events
    const principal = c.get('principal')
    const scope = ingestScope(principal, ctx)
    const started = performance.now()
    let results
    try {
      results = await ingestEvents(ctx.ingestSink, events, { tenantId: principal.tenantId, nowMs: ctx.clock.now(), ...scope })
      if (scope.source === 'browser') results = browserMessages(results)
    } catch (err) {
      ctx.writeHealth.failed((err as Error).message)
      // Nothing was acknowledged: the batch may be sent again as it is.
      const { retryAfterSeconds } = err as { retryAfterSeconds?: number }
      throw new HttpError('unavailable', `events could not be stored: ${(err as Error).message}`, undefined, { 'retry-after': String(retryAfterSeconds ?? 1) })
    }
    if (valid(results)) ctx.writeHealth.succeeded()
    ctx.live.committed(principal.tenantId, acceptedEvents(events, results))
    const response = summarize(results)
    ctx.metrics.commitSeconds.observe((performance.now() - started) / 1000)
    ctx.metrics.batchSize.observe(events.length)
    if (response.accepted) ctx.metrics.events.inc({ status: 'accepted' }, response.accepted)
    if (response.duplicates) ctx.metrics.events.inc({ status: 'duplicate' }, response.duplicates)
    if (response.conflicts) ctx.metrics.events.inc({ status: 'conflict' }, response.conflicts)
    if (response.queued) ctx.metrics.events.inc({ status: 'queued' }, response.queued)
    if (response.rejected) ctx.metrics.events.inc({ status: 'rejected' }, response.rejected)
    return c.json(response)
  }, { invalidBody: envelopeError })

  route(app, {
    method: 'get', path: '/', tags, summary: 'List events',
    description: 'Stored events, newest first (ties: id), voided ones included with their status.',
    request: {
      query: pageQuery.extend({
        customerId: z.string().optional(),
        event: z.string().optional(),
        from: instant.optional().meta({ description: 'Events at or after this instant' }),
        to: instant.optional().meta({ description: 'Events before this instant' }),
      }),
    },
    responses: { 200: json(page(storedEvent), 'A page of events') },
  }, async (c) => {
    const q = c.req.valid('query')
    let list
    try {
      list = await ctx.store.listEvents(c.get('principal').tenantId, {
        customerId: q.customerId,
        event: q.event,
        fromMs: q.from === undefined ? undefined : parseRfc3339(q.from),
        toMs: q.to === undefined ? undefined : parseRfc3339(q.to),
        cursor: q.cursor,
        limit: q.limit,
      })
    } catch (err) {
      if (err instanceof RangeError) throw new HttpError('invalid_request', err.message)
      throw err
    }
    return c.json({
      data: list.data.map((e) => ({ ...eventView(e), status: e.status })),
      nextCursor: list.nextCursor,
    })
  })

  route(app, {
    method: 'get', path: '/{id}', tags, summary: 'Read an event',
    description: 'The event with its status and every version (received, amended, voided).',
    request: { params: idParams },
    responses: { 200: json(eventDetailSchema, 'The event') },
  }, async (c) => {
    const event = await ctx.store.getEvent(c.get('principal').tenantId, c.req.valid('param').id)
    if (event === undefined) throw new HttpError('not_found', 'no event with this id')
    return c.json(eventDetail(event))
  })

  route(app, {
    method: 'post', path: '/{id}/void', tags, summary: 'Void an event',
    description: 'The event stops counting: usage, charges and credits are recomputed. Audit-logged with the reason.',
    request: { params: idParams, body: body(voidSchema) },
    responses: { 200: json(eventDetailSchema, 'The voided event'), ...errors('conflict') },
  }, async (c) => {
    const input = c.req.valid('json')
    const p = c.get('principal')
    const result = await ctx.store.voidEvent(p.tenantId, c.req.valid('param').id, input.reason, p.keyId, ctx.clock.now())
    if (!result.ok) {
      throw result.code === 'not_found' ? new HttpError('not_found', 'no event with this id') : new HttpError('conflict', 'the event is already voided')
    }
    ctx.live.committed(p.tenantId, [result.event])
    return c.json(eventDetail(result.event))
  })

  route(app, {
    method: 'post', path: '/{id}/amend', tags, summary: 'Amend an event',
    description: 'A new version of the event, with these properties wholly replacing the old, counts in all figures instead. Audit-logged with the reason.',
    request: { params: idParams, body: body(amendSchema) },
    responses: { 200: json(eventDetailSchema, 'The amended event'), ...errors('conflict') },
  }, async (c) => {
    const input = c.req.valid('json')
    const problem = checkProperties(input.properties)
    if (problem !== undefined) throw new HttpError('invalid_body', problem)
    const bytes = utf8ByteLength(JSON.stringify(input.properties))
    if (bytes > MAX_EVENT_BYTES) throw new HttpError('invalid_body', `properties: ${bytes} bytes is over the ${MAX_EVENT_BYTES}-byte event limit`)
    const p = c.get('principal')
    const result = await ctx.store.amendEvent(p.tenantId, c.req.valid('param').id, input.properties as Properties, input.reason, p.keyId, ctx.clock.now())
    if (!result.ok) {
      throw result.code === 'not_found' ? new HttpError('not_found', 'no event with this id') : new HttpError('conflict', 'a voided event cannot be amended')
    }
    ctx.live.committed(p.tenantId, [result.event])
    return c.json(eventDetail(result.event))
  })

  return app
}

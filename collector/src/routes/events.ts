// POST /v1/events (the hot path), GET /v1/events and GET /v1/events/:id (audit).
import { type EventWithVersions, type StoredEvent, ingestEvents } from '@meterkit/engine'
import {
  type EventResult,
  MAX_EVENT_BYTES,
  MAX_FUTURE_SKEW_MS,
  checkProperties,
  utf8ByteLength,
  type Properties,
  DEFAULT_LIST_LIMIT,
  MAX_BATCH_BYTES,
  MAX_LIST_LIMIT,
  batchRequestSchema,
  formatTimestamp,
  parseRfc3339,
  summarize,
} from '@meterkit/protocol'
import { Hono } from 'hono'
import type { AppContext } from '../app.js'
import { HttpError } from '../http-error.js'
import type { AuthEnv, Principal } from '../middleware/auth.js'
import { parseJson, readBodyText } from '../middleware/body.js'
import { z } from 'zod'
import { readJsonBody } from './json.js'
import { importRoute } from './import.js'
import { acceptedEvents } from '../live/index.js'

const reason = z.string().min(1, 'must say why').max(1000)
const voidSchema = z.object({ reason }).strict()
const amendSchema = z.object({ properties: z.record(z.string(), z.json()), reason }).strict()

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

/** JSON, or the same JSON as text/plain: what sendBeacon and CORS-simple requests can send. */
function requireJson(contentType: string | undefined): void {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase()
  if (type !== 'application/json' && type !== 'text/plain') {
    throw new HttpError('unsupported_media_type', `Content-Type must be application/json or text/plain (got "${contentType ?? ''}")`)
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

function instantParam(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const ms = parseRfc3339(value)
  if (ms === undefined) throw new HttpError('invalid_request', `${name}: must be an RFC 3339 date-time`)
  return ms
}

export function limitParam(value: string | undefined): number {
  if (value === undefined) return DEFAULT_LIST_LIMIT
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1 || n > MAX_LIST_LIMIT) {
    throw new HttpError('invalid_request', `limit: must be a whole number from 1 to ${MAX_LIST_LIMIT}`)
  }
  return n
}

/** Whether the batch reached the store (at least one event was valid). */
function valid(results: { status: string }[]): boolean {
  return results.some((r) => r.status !== 'rejected')
}

export function eventRoutes(ctx: AppContext) {
  const app = new Hono<AuthEnv>()

  app.post('/import', importRoute(ctx))

  app.post('/', async (c) => {
    requireJson(c.req.header('content-type'))
    const body = parseJson(await readBodyText(c.req.raw, MAX_BATCH_BYTES))
    const envelope = batchRequestSchema.safeParse(body)
    if (!envelope.success) {
      const issue = envelope.error.issues[0]!
      const message = issue.path.length === 0 && issue.code === 'invalid_type'
        ? 'body: must be a JSON object { "events": [ … ] }'
        : issue.message.startsWith('events') ? issue.message : `events: ${issue.message}`
      throw new HttpError('invalid_body', message)
    }
    const events = envelope.data.events
    const principal = c.get('principal')
    const scope = ingestScope(principal, ctx)
    const started = performance.now()
    let results
    try {
      results = await ingestEvents(ctx.store, events, { tenantId: principal.tenantId, nowMs: ctx.clock.now(), ...scope })
      if (scope.source === 'browser') results = browserMessages(results)
    } catch (err) {
      ctx.writeHealth.failed((err as Error).message)
      // Nothing was acknowledged: the batch may be sent again as it is.
      throw new HttpError('unavailable', `events could not be stored: ${(err as Error).message}`, undefined, { 'retry-after': '1' })
    }
    if (valid(results)) ctx.writeHealth.succeeded()
    ctx.live.committed(principal.tenantId, acceptedEvents(events, results))
    const response = summarize(results)
    ctx.metrics.commitSeconds.observe((performance.now() - started) / 1000)
    ctx.metrics.batchSize.observe(events.length)
    if (response.accepted) ctx.metrics.events.inc({ status: 'accepted' }, response.accepted)
    if (response.duplicates) ctx.metrics.events.inc({ status: 'duplicate' }, response.duplicates)
    if (response.conflicts) ctx.metrics.events.inc({ status: 'conflict' }, response.conflicts)
    if (response.rejected) ctx.metrics.events.inc({ status: 'rejected' }, response.rejected)
    return c.json(response)
  })

  app.get('/', async (c) => {
    const q = c.req.query()
    let page
    try {
      page = await ctx.store.listEvents(c.get('principal').tenantId, {
        customerId: q.customerId,
        event: q.event,
        fromMs: instantParam('from', q.from),
        toMs: instantParam('to', q.to),
        cursor: q.cursor,
        limit: limitParam(q.limit),
      })
    } catch (err) {
      if (err instanceof RangeError) throw new HttpError('invalid_request', err.message)
      throw err
    }
    return c.json({
      data: page.data.map((e) => ({ ...eventView(e), status: e.status })),
      nextCursor: page.nextCursor,
    })
  })

  app.get('/:id', async (c) => {
    const event = await ctx.store.getEvent(c.get('principal').tenantId, c.req.param('id'))
    if (event === undefined) throw new HttpError('not_found', 'no event with this id')
    return c.json(eventDetail(event))
  })

  app.post('/:id/void', async (c) => {
    const input = await readJsonBody(c.req.raw, voidSchema)
    const p = c.get('principal')
    const result = await ctx.store.voidEvent(p.tenantId, c.req.param('id'), input.reason, p.keyId, ctx.clock.now())
    if (!result.ok) {
      throw result.code === 'not_found' ? new HttpError('not_found', 'no event with this id') : new HttpError('conflict', 'the event is already voided')
    }
    ctx.live.committed(p.tenantId, [result.event])
    return c.json(eventDetail(result.event))
  })

  app.post('/:id/amend', async (c) => {
    const input = await readJsonBody(c.req.raw, amendSchema)
    const problem = checkProperties(input.properties)
    if (problem !== undefined) throw new HttpError('invalid_body', problem)
    const bytes = utf8ByteLength(JSON.stringify(input.properties))
    if (bytes > MAX_EVENT_BYTES) throw new HttpError('invalid_body', `properties: ${bytes} bytes is over the ${MAX_EVENT_BYTES}-byte event limit`)
    const p = c.get('principal')
    const result = await ctx.store.amendEvent(p.tenantId, c.req.param('id'), input.properties as Properties, input.reason, p.keyId, ctx.clock.now())
    if (!result.ok) {
      throw result.code === 'not_found' ? new HttpError('not_found', 'no event with this id') : new HttpError('conflict', 'a voided event cannot be amended')
    }
    ctx.live.committed(p.tenantId, [result.event])
    return c.json(eventDetail(result.event))
  })

  return app
}

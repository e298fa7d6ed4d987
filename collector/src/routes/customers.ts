// Customers, and their metered usage with the exact events behind it.
import { z } from '@hono/zod-openapi'
import { isValidTimeZone } from '@meterkit/engine'
import { type JsonValue, MAX_CUSTOMER_ID_LENGTH, formatTimestamp, parseRfc3339 } from '@meterkit/protocol'
import type { AppContext } from '../app.js'
import { HttpError } from '../http-error.js'
import { api, body, decimal, instant, json, jsonObject, jsonValue, page, pageQuery, pathParams, route, timestamp } from '../openapi/index.js'

const tags = ['Customers']

const customerSchema = z.object({
  id: z.string().min(1).max(MAX_CUSTOMER_ID_LENGTH),
  name: z.string().max(500).nullable().optional(),
  email: z.string().max(320).nullable().optional(),
  timezone: z.string().refine(isValidTimeZone, 'must be an IANA time zone such as Europe/Paris').optional()
    .meta({ description: 'Default `UTC`; day, week and month buckets and calendar periods follow it' }),
  metadata: jsonObject.nullable().optional(),
}).strict()

const customerView = z.object({
  id: z.string(),
  name: z.string().nullable(),
  email: z.string().nullable(),
  timezone: z.string(),
  metadata: jsonObject.nullable(),
  createdAt: timestamp,
}).meta({ id: 'Customer' })

const WINDOWS = ['hour', 'day', 'month', 'none'] as const

/** The query of a usage figure: which meter, over which half-open range [from, to). */
const rangeQuery = z.object({
  meter: z.string({ error: 'is required' }).min(1, 'is required').meta({ description: 'The meter\'s key' }),
  from: instant.optional().meta({ description: 'Default: the start of the current billing period, or 30 days before `to`' }),
  to: instant.optional().meta({ description: 'Default: now' }),
})

const usageGroup = z.object({ group: z.record(z.string(), jsonValue), value: decimal.nullable() })
const usageSchema = z.object({
  meter: z.string(),
  from: timestamp,
  to: timestamp,
  window: z.enum(WINDOWS),
  configVersion: z.number().int(),
  value: decimal.nullable().meta({ description: 'The figure over the range; null for max, min, latest and avg with no events' }),
  groups: z.array(usageGroup).optional(),
  buckets: z.array(z.object({ start: timestamp, end: timestamp, value: decimal.nullable(), groups: z.array(usageGroup).optional() }))
    .optional().meta({ description: 'Every bucket of the window in the range, aligned to the customer\'s timezone; the first and last possibly partial' }),
}).meta({ id: 'Usage' })

const DAY_MS = 86_400_000

/** An instant the query schema has checked, or the fallback. */
function instantMs(value: string | undefined, fallback: number): number {
  return value === undefined ? fallback : parseRfc3339(value)!
}

/** The range asked for; by default the customer's current billing period so far, or the last 30 days. */
function range(q: { from?: string; to?: string }, nowMs: number, periodStartMs?: number): { fromMs: number; toMs: number } {
  const toMs = instantMs(q.to, nowMs)
  const fromMs = instantMs(q.from, q.to === undefined && periodStartMs !== undefined ? periodStartMs : toMs - 30 * DAY_MS)
  if (fromMs >= toMs) throw new HttpError('invalid_request', 'from: must be before to')
  if (toMs - fromMs > 5 * 366 * DAY_MS) throw new HttpError('invalid_request', 'to: a range is at most 5 years')
  return { fromMs, toMs }
}

export function customerRoutes(ctx: AppContext) {
  const app = api()

  const customerJson = (c: Awaited<ReturnType<typeof ctx.store.getCustomer>> & object) => ({
    id: c.id, name: c.name, email: c.email, timezone: c.timezone, metadata: c.metadata, createdAt: formatTimestamp(c.createdAtMs),
  })

  async function requireCustomer(tenantId: number, id: string) {
    const customer = await ctx.store.getCustomer(tenantId, id)
    if (customer === undefined) throw new HttpError('not_found', 'no customer with this id')
    return customer
  }

  route(app, {
    method: 'post', path: '/', tags, summary: 'Create or update a customer',
    description: 'Fields given replace the stored ones. A customer is also created by its first event or token.',
    request: { body: body(customerSchema) },
    responses: { 201: json(customerView, 'Created'), 200: json(customerView, 'Updated') },
  }, async (c) => {
    const input = c.req.valid('json')
    const { customer, created } = await ctx.store.putCustomer(c.get('principal').tenantId, input as Parameters<typeof ctx.store.putCustomer>[1], ctx.clock.now())
    return c.json(customerJson(customer), created ? 201 : 200)
  })

  route(app, {
    method: 'get', path: '/{id}', tags, summary: 'Read a customer',
    request: { params: pathParams('id') },
    responses: { 200: json(customerView, 'The customer') },
  }, async (c) => c.json(customerJson(await requireCustomer(c.get('principal').tenantId, c.req.valid('param').id))))

  async function currentPeriodStart(tenantId: number, customerId: string): Promise<number | undefined> {
    const now = ctx.clock.now()
    const active = (await ctx.store.billing.listSubscriptions(tenantId, customerId, now)).find((s) => s.status === 'active' && s.currentPeriod !== null)
    return active?.currentPeriod?.startMs
  }

  route(app, {
    method: 'get', path: '/{id}/usage', tags, summary: 'Read metered usage',
    description: 'Exact decimals over [from, to), from rollups: as fast with a billion events as with ten.',
    request: {
      params: pathParams('id'),
      query: rangeQuery.extend({
        window: z.enum(WINDOWS, { error: 'must be hour, day, month or none' }).default('none').meta({ description: 'Buckets of this size (default `none`: one figure)' }),
        groupBy: z.string().optional().meta({ description: 'Comma-separated dimensions of the meter\'s groupBy to split by' }),
      }),
    },
    responses: { 200: json(usageSchema, 'The usage') },
  }, async (c) => {
    const tenantId = c.get('principal').tenantId
    const customerId = c.req.valid('param').id
    await requireCustomer(tenantId, customerId)
    const q = c.req.valid('query')
    const result = await ctx.store.usage(tenantId, {
      customerId,
      meter: q.meter,
      ...range(q, ctx.clock.now(), await currentPeriodStart(tenantId, customerId)),
      window: q.window,
      groupBy: q.groupBy ? q.groupBy.split(',').map((s) => s.trim()).filter(Boolean) : [],
    })
    if ('error' in result) throw new HttpError('invalid_request', result.error)
    return c.json(result)
  })

  route(app, {
    method: 'get', path: '/{id}/usage/events', tags, summary: 'List the events behind a usage figure',
    description: 'The exact source events of the meter in the range, each with the value it contributed. `group.<dimension>=<value>` (the value as JSON, or as text) narrows to one group: `?group.resolution=%224k%22`.',
    request: { params: pathParams('id'), query: rangeQuery.extend(pageQuery.shape) },
    responses: {
      200: json(page(z.object({ id: z.string(), timestamp, value: z.string().nullable(), group: z.record(z.string(), jsonValue) })), 'A page of events'),
    },
  }, async (c) => {
    const tenantId = c.get('principal').tenantId
    const customerId = c.req.valid('param').id
    await requireCustomer(tenantId, customerId)
    const q = c.req.valid('query')
    // group.<dimension> keys are open-ended: read from the raw query.
    const group: Record<string, JsonValue> = {}
    for (const [k, v] of Object.entries(c.req.query())) {
      if (!k.startsWith('group.')) continue
      try {
        group[k.slice(6)] = JSON.parse(v) as JsonValue
      } catch {
        group[k.slice(6)] = v
      }
    }
    const list = await ctx.store.usageEvents(tenantId, {
      customerId, meter: q.meter, ...range(q, ctx.clock.now(), await currentPeriodStart(tenantId, customerId)), group, cursor: q.cursor, limit: q.limit,
    })
    if ('error' in list) throw new HttpError('invalid_request', list.error)
    return c.json({
      data: list.data.map((e) => ({ id: e.id, timestamp: formatTimestamp(e.timestampMs), value: e.value, group: e.group })),
      nextCursor: list.nextCursor,
    })
  })

  return app
}

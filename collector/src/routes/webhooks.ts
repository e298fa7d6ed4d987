// Webhook deliveries, for inspection: what was sent where, how often, and what the endpoint said;
// a finished one can be sent again. Endpoints: webhook-endpoints.ts.
import { z } from '@hono/zod-openapi'
import { DELIVERY_STATUSES, type WebhookDelivery } from '@meterkit/engine'
import { WEBHOOK_EVENTS, formatTimestamp } from '@meterkit/protocol'
import type { AppContext } from '../app.js'
import { HttpError } from '../http-error.js'
import { api, errors, json, jsonValue, page, pageQuery, pathParams, route, timestamp } from '../openapi/index.js'
import { webhookEndpointRoutes } from './webhook-endpoints.js'

const tags = ['Webhooks']

const deliverySchema = z.object({
  id: z.string(),
  type: z.enum(WEBHOOK_EVENTS),
  url: z.string(),
  status: z.enum(DELIVERY_STATUSES),
  attempts: z.number().int(),
  createdAt: timestamp,
  nextAttemptAt: timestamp.nullable(),
  lastAttemptAt: timestamp.nullable(),
  lastStatus: z.number().int().nullable().meta({ description: 'The HTTP status the endpoint last answered' }),
  lastError: z.string().nullable(),
  deliveredAt: timestamp.nullable(),
  redeliveryOf: z.string().nullable().meta({ description: 'The delivery this one sends again' }),
  payload: jsonValue.meta({ description: 'The body sent: `{ type, data, createdAt }`' }),
}).meta({ id: 'WebhookDelivery' })

const time = (ms: number | null) => (ms === null ? null : formatTimestamp(ms))

export function deliveryJson(d: WebhookDelivery) {
  return {
    id: d.id,
    type: d.type,
    url: d.url,
    status: d.status,
    attempts: d.attempts,
    createdAt: formatTimestamp(d.createdAtMs),
    nextAttemptAt: time(d.nextAttemptAtMs),
    lastAttemptAt: time(d.lastAttemptAtMs),
    lastStatus: d.lastStatus,
    lastError: d.lastError,
    deliveredAt: time(d.deliveredAtMs),
    redeliveryOf: d.redeliveryOf,
    payload: d.payload,
  }
}

export function webhookRoutes(ctx: AppContext) {
  const app = api()

  route(app, {
    method: 'get', path: '/deliveries', tags, summary: 'List webhook deliveries',
    description: 'What was sent where, how often, and what the endpoint answered; newest first.',
    request: {
      query: pageQuery.extend({
        status: z.enum(DELIVERY_STATUSES, { error: `must be one of ${DELIVERY_STATUSES.join(', ')}` }).optional(),
      }),
    },
    responses: { 200: json(page(deliverySchema), 'A page of deliveries') },
  }, async (c) => {
    const q = c.req.valid('query')
    let list
    try {
      list = await ctx.store.webhooks.list(c.get('principal').tenantId, { status: q.status, cursor: q.cursor, limit: q.limit })
    } catch (err) {
      if (err instanceof RangeError) throw new HttpError('invalid_request', err.message)
      throw err
    }
    return c.json({ data: list.data.map(deliveryJson), nextCursor: list.nextCursor })
  })

  route(app, {
    method: 'post', path: '/deliveries/{id}/redeliver', tags, summary: 'Redeliver a webhook delivery',
    description: 'A new delivery of the same payload (a new `webhook-id`), for a delivered or failed one.',
    request: { params: pathParams('id') },
    responses: { 201: json(deliverySchema, 'The new delivery'), ...errors('conflict') },
  }, async (c) => {
    const result = await ctx.store.webhooks.redeliver(c.get('principal').tenantId, c.req.valid('param').id, ctx.clock.now())
    if (!result.ok) {
      if (result.code === 'not_found') throw new HttpError('not_found', 'no webhook delivery with this id')
      throw new HttpError('conflict', 'status: this delivery is still pending and is retried on its own; redeliver a delivered or failed one')
    }
    return c.json(deliveryJson(result.delivery), 201)
  })

  app.route('/endpoints', webhookEndpointRoutes(ctx))

  return app
}

// Webhook deliveries, for inspection: what was sent where, how often, and what the endpoint said;
// a finished one can be sent again. Endpoints: webhook-endpoints.ts.
import { DELIVERY_STATUSES, type DeliveryStatus, type WebhookDelivery } from '@meterkit/engine'
import { formatTimestamp } from '@meterkit/protocol'
import { Hono } from 'hono'
import type { AppContext } from '../app.js'
import { HttpError } from '../http-error.js'
import type { AuthEnv } from '../middleware/auth.js'
import { limitParam } from './events.js'
import { webhookEndpointRoutes } from './webhook-endpoints.js'

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
  const app = new Hono<AuthEnv>()

  app.get('/deliveries', async (c) => {
    const q = c.req.query()
    if (q.status !== undefined && !DELIVERY_STATUSES.includes(q.status as DeliveryStatus)) {
      throw new HttpError('invalid_request', `status: must be one of ${DELIVERY_STATUSES.join(', ')}`)
    }
    let page
    try {
      page = await ctx.store.webhooks.list(c.get('principal').tenantId, { status: q.status as DeliveryStatus | undefined, cursor: q.cursor, limit: limitParam(q.limit) })
    } catch (err) {
      if (err instanceof RangeError) throw new HttpError('invalid_request', err.message)
      throw err
    }
    return c.json({ data: page.data.map(deliveryJson), nextCursor: page.nextCursor })
  })

  app.post('/deliveries/:id/redeliver', async (c) => {
    const result = await ctx.store.webhooks.redeliver(c.get('principal').tenantId, c.req.param('id'), ctx.clock.now())
    if (!result.ok) {
      if (result.code === 'not_found') throw new HttpError('not_found', 'no webhook delivery with this id')
      throw new HttpError('conflict', 'status: this delivery is still pending and is retried on its own; redeliver a delivered or failed one')
    }
    return c.json(deliveryJson(result.delivery), 201)
  })

  app.route('/endpoints', webhookEndpointRoutes(ctx))

  return app
}

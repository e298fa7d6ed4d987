// Webhook endpoints kept over the API, beside those of the configuration: deliveries go to both.
// A URL is judged when registered (webhook-url-policy.ts) and again at each delivery.
import { randomBytes } from 'node:crypto'
import type { StoredWebhookEndpoint } from '@meterkit/engine'
import { WEBHOOK_EVENTS, formatTimestamp } from '@meterkit/protocol'
import { Hono } from 'hono'
import { z } from 'zod'
import type { AppContext } from '../app.js'
import { HttpError } from '../http-error.js'
import type { AuthEnv } from '../middleware/auth.js'
import { readJsonBody } from './json.js'

/** Endpoints per tenant at most: each event is written once per subscribed endpoint. */
export const MAX_WEBHOOK_ENDPOINTS = 50

export const endpointSchema = z.object({
  url: z.url({ protocol: /^https?$/, error: 'must be an http or https URL' }).max(2048),
  events: z.array(z.enum(WEBHOOK_EVENTS)).min(1, 'must list at least one event type'),
  secret: z.string().min(16, 'must be at least 16 characters').max(256).optional(),
}).strict()

/** An endpoint as listed: never its secret. */
export function endpointJson(e: StoredWebhookEndpoint) {
  return { id: e.id, url: e.url, events: e.events, createdAt: formatTimestamp(e.createdAtMs) }
}

/** A Standard Webhooks secret: `whsec_` and 32 random bytes in base64. */
function newEndpointSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`
}

export function webhookEndpointRoutes(ctx: AppContext) {
  const app = new Hono<AuthEnv>()

  app.post('/', async (c) => {
    const tenantId = c.get('principal').tenantId
    const input = await readJsonBody(c.req.raw, endpointSchema)
    const judged = await ctx.webhookUrls.judge(input.url)
    if (!judged.ok) throw new HttpError('invalid_body', `url: ${judged.reason}`, [{ path: ['url'], message: judged.reason }])
    if ((await ctx.store.webhooks.listEndpoints(tenantId)).length >= MAX_WEBHOOK_ENDPOINTS) {
      throw new HttpError('conflict', `a tenant has at most ${MAX_WEBHOOK_ENDPOINTS} webhook endpoints; delete one first`)
    }
    const secret = input.secret ?? newEndpointSecret()
    const endpoint = await ctx.store.webhooks.createEndpoint(tenantId, { url: input.url, events: [...new Set(input.events)], secret }, ctx.clock.now())
    // A generated secret is shown this once; a given one is not sent back.
    return c.json({ ...endpointJson(endpoint), ...(input.secret === undefined ? { secret } : {}) }, 201)
  })

  app.get('/', async (c) => {
    const endpoints = await ctx.store.webhooks.listEndpoints(c.get('principal').tenantId)
    return c.json({ data: endpoints.map(endpointJson), nextCursor: null })
  })

  app.delete('/:id', async (c) => {
    const id = c.req.param('id')
    if (!(await ctx.store.webhooks.deleteEndpoint(c.get('principal').tenantId, id))) throw new HttpError('not_found', 'no webhook endpoint with this id')
    return c.json({ id, deleted: true })
  })

  return app
}

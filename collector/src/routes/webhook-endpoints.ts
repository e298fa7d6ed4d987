// Webhook endpoints kept over the API, beside those of the configuration: deliveries go to both.
// A URL is judged when registered (webhook-url-policy.ts) and again at each delivery.
import { randomBytes } from 'node:crypto'
import type { StoredWebhookEndpoint } from '@meterkit/engine'
import { WEBHOOK_EVENTS, formatTimestamp } from '@meterkit/protocol'
import { z } from '@hono/zod-openapi'
import type { AppContext } from '../app.js'
import { HttpError } from '../http-error.js'
import { api, body, errors, json, page, pathParams, route, timestamp } from '../openapi/index.js'

const tags = ['Webhooks']

/** Endpoints per tenant at most: each event is written once per subscribed endpoint. */
export const MAX_WEBHOOK_ENDPOINTS = 50

export const endpointSchema = z.object({
  url: z.url({ protocol: /^https?$/, error: 'must be an http or https URL' }).max(2048),
  events: z.array(z.enum(WEBHOOK_EVENTS)).min(1, 'must list at least one event type'),
  secret: z.string().min(16, 'must be at least 16 characters').max(256).optional()
    .meta({ description: 'The signing secret; default a new `whsec_…` one, answered this once' }),
}).strict()

const endpointView = z.object({ id: z.string(), url: z.string(), events: z.array(z.enum(WEBHOOK_EVENTS)), createdAt: timestamp }).meta({ id: 'WebhookEndpoint' })

/** An endpoint as listed: never its secret. */
export function endpointJson(e: StoredWebhookEndpoint) {
  return { id: e.id, url: e.url, events: e.events, createdAt: formatTimestamp(e.createdAtMs) }
}

/** A Standard Webhooks secret: `whsec_` and 32 random bytes in base64. */
function newEndpointSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`
}

export function webhookEndpointRoutes(ctx: AppContext) {
  const app = api()

  route(app, {
    method: 'post', path: '/', tags, summary: 'Register a webhook endpoint',
    description: `Deliveries of the listed event types go to the URL, signed the Standard Webhooks way. A URL that is or resolves to a loopback, link-local or private address is refused, here and at each connection. At most ${MAX_WEBHOOK_ENDPOINTS} endpoints a tenant.`,
    request: { body: body(endpointSchema) },
    responses: {
      201: json(endpointView.extend({ secret: z.string().optional().meta({ description: 'The generated secret, when none was given' }) }), 'The endpoint'),
      ...errors('conflict'),
    },
  }, async (c) => {
    const tenantId = c.get('principal').tenantId
    const input = c.req.valid('json')
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

  route(app, {
    method: 'get', path: '/', tags, summary: 'List webhook endpoints',
    description: 'The endpoints registered over the API (those of the configuration are in GET /v1/config); never their secrets.',
    responses: { 200: json(page(endpointView), 'The endpoints, on one page') },
  }, async (c) => {
    const endpoints = await ctx.store.webhooks.listEndpoints(c.get('principal').tenantId)
    return c.json({ data: endpoints.map(endpointJson), nextCursor: null })
  })

  route(app, {
    method: 'delete', path: '/{id}', tags, summary: 'Delete a webhook endpoint',
    request: { params: pathParams('id') },
    responses: { 200: json(z.object({ id: z.string(), deleted: z.literal(true) }), 'Deleted') },
  }, async (c) => {
    const id = c.req.valid('param').id
    if (!(await ctx.store.webhooks.deleteEndpoint(c.get('principal').tenantId, id))) throw new HttpError('not_found', 'no webhook endpoint with this id')
    return c.json({ id, deleted: true })
  })

  return app
}

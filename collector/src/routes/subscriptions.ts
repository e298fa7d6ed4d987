// Subscriptions: subscribe (a start in the past is allowed), change plan and cancel, prorated.
import { z } from '@hono/zod-openapi'
import { MAX_CUSTOMER_ID_LENGTH, parseRfc3339 } from '@meterkit/protocol'
import type { AppContext } from '../app.js'
import { HttpError } from '../http-error.js'
import { api, body, errors, idPattern, instant, json, optionalBody, pathParams, route } from '../openapi/index.js'
import { billingError, subscriptionJson, subscriptionSchema } from './billing-views.js'

/** An RFC 3339 instant in a body (kept under this name for the routes that import it). */
export const instantSchema = instant

const tags = ['Billing']

const subscribeSchema = z.object({
  id: idPattern.optional().meta({ description: 'Your id; subscribing again with it answers the subscription (200)' }),
  customerId: z.string().min(1).max(MAX_CUSTOMER_ID_LENGTH),
  plan: z.string().min(1),
  startAt: instant.optional().meta({ description: 'Default now; may be in the past' }),
}).strict()
const changeSchema = z.object({ plan: z.string().min(1), at: instant.optional().meta({ description: 'Default now' }) }).strict()
const cancelSchema = z.object({ at: instant.optional().meta({ description: 'Default now' }) }).strict()
const idParams = pathParams('id')

export function subscriptionRoutes(ctx: AppContext) {
  const app = api()
  const at = (text: string | undefined) => (text === undefined ? ctx.clock.now() : parseRfc3339(text)!)

  route(app, {
    method: 'post', path: '/', tags, summary: 'Subscribe a customer to a plan',
    request: { body: body(subscribeSchema) },
    responses: {
      201: json(subscriptionSchema, 'The new subscription'),
      200: json(subscriptionSchema, 'The subscription this id already names'),
      ...errors('not_found', 'conflict'),
    },
  }, async (c) => {
    const input = c.req.valid('json')
    const result = await ctx.store.billing.subscribe(c.get('principal').tenantId, {
      id: input.id, customerId: input.customerId, plan: input.plan, startMs: at(input.startAt),
    }, ctx.clock.now())
    if (!result.ok) throw billingError(result)
    return c.json(subscriptionJson(result.value.subscription), result.value.created ? 201 : 200)
  })

  route(app, {
    method: 'get', path: '/{id}', tags, summary: 'Read a subscription',
    request: { params: idParams },
    responses: { 200: json(subscriptionSchema, 'The subscription') },
  }, async (c) => {
    const s = await ctx.store.billing.getSubscription(c.get('principal').tenantId, c.req.valid('param').id, ctx.clock.now())
    if (s === undefined) throw new HttpError('not_found', 'no subscription with this id')
    return c.json(subscriptionJson(s))
  })

  route(app, {
    method: 'post', path: '/{id}/change', tags, summary: 'Change a subscription\'s plan',
    description: 'From `at` on, the new plan; flat charges prorate by the second.',
    request: { params: idParams, body: body(changeSchema) },
    responses: { 200: json(subscriptionSchema, 'The subscription with its new phase'), ...errors('conflict') },
  }, async (c) => {
    const input = c.req.valid('json')
    const result = await ctx.store.billing.changePlan(c.get('principal').tenantId, c.req.valid('param').id, input.plan, at(input.at), ctx.clock.now())
    if (!result.ok) throw billingError(result)
    return c.json(subscriptionJson(result.value))
  })

  route(app, {
    method: 'post', path: '/{id}/cancel', tags, summary: 'Cancel a subscription',
    description: 'Ends the subscription at `at`; flat charges prorate by the second.',
    request: { params: idParams, body: optionalBody(cancelSchema) },
    responses: { 200: json(subscriptionSchema, 'The canceled subscription'), ...errors('conflict') },
  }, async (c) => {
    const input = c.req.valid('json')
    const result = await ctx.store.billing.cancel(c.get('principal').tenantId, c.req.valid('param').id, at(input.at), ctx.clock.now())
    if (!result.ok) throw billingError(result)
    return c.json(subscriptionJson(result.value))
  })

  return app
}

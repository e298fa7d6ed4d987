// Subscriptions: subscribe (a start in the past is allowed), change plan and cancel, prorated.
import { MAX_CUSTOMER_ID_LENGTH, parseRfc3339 } from '@meterkit/protocol'
import { Hono } from 'hono'
import { z } from 'zod'
import type { AppContext } from '../app.js'
import { HttpError } from '../http-error.js'
import type { AuthEnv } from '../middleware/auth.js'
import { billingError, subscriptionJson } from './billing-views.js'
import { readJsonBody } from './json.js'

export const instantSchema = z.string().refine((s) => parseRfc3339(s) !== undefined, 'must be an RFC 3339 date-time')
const idSchema = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, 'must be 1–128 characters of A-Za-z0-9._:-')

const subscribeSchema = z.object({
  id: idSchema.optional(),
  customerId: z.string().min(1).max(MAX_CUSTOMER_ID_LENGTH),
  plan: z.string().min(1),
  startAt: instantSchema.optional(),
}).strict()
const changeSchema = z.object({ plan: z.string().min(1), at: instantSchema.optional() }).strict()
const cancelSchema = z.object({ at: instantSchema.optional() }).strict()

export function subscriptionRoutes(ctx: AppContext) {
  const app = new Hono<AuthEnv>()
  const at = (text: string | undefined) => (text === undefined ? ctx.clock.now() : parseRfc3339(text)!)

  app.post('/', async (c) => {
    const input = await readJsonBody(c.req.raw, subscribeSchema)
    const result = await ctx.store.billing.subscribe(c.get('principal').tenantId, {
      id: input.id, customerId: input.customerId, plan: input.plan, startMs: at(input.startAt),
    }, ctx.clock.now())
    if (!result.ok) throw billingError(result)
    return c.json(subscriptionJson(result.value.subscription), result.value.created ? 201 : 200)
  })

  app.get('/:id', async (c) => {
    const s = await ctx.store.billing.getSubscription(c.get('principal').tenantId, c.req.param('id'), ctx.clock.now())
    if (s === undefined) throw new HttpError('not_found', 'no subscription with this id')
    return c.json(subscriptionJson(s))
  })

  app.post('/:id/change', async (c) => {
    const input = await readJsonBody(c.req.raw, changeSchema)
    const result = await ctx.store.billing.changePlan(c.get('principal').tenantId, c.req.param('id'), input.plan, at(input.at), ctx.clock.now())
    if (!result.ok) throw billingError(result)
    return c.json(subscriptionJson(result.value))
  })

  app.post('/:id/cancel', async (c) => {
    const input = await readJsonBody(c.req.raw, cancelSchema, { allowEmpty: true })
    const result = await ctx.store.billing.cancel(c.get('principal').tenantId, c.req.param('id'), at(input.at), ctx.clock.now())
    if (!result.ok) throw billingError(result)
    return c.json(subscriptionJson(result.value))
  })

  return app
}

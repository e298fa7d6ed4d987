// Credits: balance and ledger, grants, top-ups, auto top-up, reservations for jobs, and
// entitlements (whether a customer may use a feature now).
import type { CreditFailure } from '@meterkit/engine'
import { MAX_CUSTOMER_ID_LENGTH, decimalString, formatTimestamp, parseDuration, parseRfc3339 } from '@meterkit/protocol'
import { Hono } from 'hono'
import { z } from 'zod'
import type { AppContext } from '../app.js'
import { HttpError } from '../http-error.js'
import { type AuthEnv, requireCustomerAccess } from '../middleware/auth.js'
import { CREDITS_CHANGED } from '../live/balance-source.js'
import { billingError } from './billing-views.js'
import { limitParam } from './events.js'
import { idempotent } from '../idempotency.js'
import { readJsonBody } from './json.js'
import { instantSchema } from './subscriptions.js'

const idSchema = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, 'must be 1–128 characters of A-Za-z0-9._:-')
const positive = decimalString.refine((s) => /[1-9]/.test(s), 'must be greater than 0')
const duration = z.string().refine((s) => parseDuration(s) !== undefined, 'must be an ISO 8601 duration such as P30D')

const grantSchema = z.object({
  id: idSchema.optional(),
  credits: positive,
  priority: z.number().int().min(0).max(1_000_000).optional(),
  effectiveAt: instantSchema.optional(),
  expiresAt: instantSchema.optional(),
  expiresAfter: duration.optional(),
  recurring: duration.optional(),
  rollover: z.object({ max: decimalString }).strict().optional(),
  source: z.string().max(200).optional(),
}).strict().refine((g) => g.expiresAt === undefined || g.expiresAfter === undefined, { path: ['expiresAt'], message: 'give expiresAt or expiresAfter, not both' })
const topUpSchema = z.object({ id: idSchema.optional(), credits: positive, amount: decimalString.optional(), expiresAfter: duration.optional() }).strict()
const autoTopUpSchema = z.object({ threshold: decimalString, credits: positive, amount: decimalString.optional() }).strict()
const reservationSchema = z.object({
  id: idSchema.optional(),
  customerId: z.string().min(1).max(MAX_CUSTOMER_ID_LENGTH),
  credits: decimalString,
  ttlMs: z.number().int().min(1000).max(7 * 86_400_000).optional(),
}).strict()

const quoteSchema = z.object({
  customerId: z.string().min(1).max(MAX_CUSTOMER_ID_LENGTH),
  event: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, 'must be 1–128 characters of A-Za-z0-9._:-'),
  properties: z.record(z.string(), z.json()).default({}),
}).strict()

function creditError(f: CreditFailure): HttpError {
  return billingError(f)
}

export function creditRoutes(ctx: AppContext) {
  const app = new Hono<AuthEnv>()
  /** Live streams of the customer show the new balance. */
  const changed = (tenantId: number, customerId: string) => ctx.live.committed(tenantId, [{ customerId, event: CREDITS_CHANGED }])

  async function customer(tenantId: number, id: string) {
    if ((await ctx.store.getCustomer(tenantId, id)) === undefined) throw new HttpError('not_found', 'no customer with this id')
  }

  app.get('/customers/:id/balance', async (c) => {
    const tenantId = c.get('principal').tenantId
    await customer(tenantId, c.req.param('id'))
    return c.json(await ctx.store.credits.balance(tenantId, c.req.param('id'), ctx.clock.now()))
  })

  app.get('/customers/:id/ledger', async (c) => {
    const tenantId = c.get('principal').tenantId
    await customer(tenantId, c.req.param('id'))
    const q = c.req.query()
    try {
      return c.json(await ctx.store.credits.ledger(tenantId, c.req.param('id'), { cursor: q.cursor, limit: limitParam(q.limit) }))
    } catch (err) {
      if (err instanceof RangeError) throw new HttpError('invalid_request', err.message)
      throw err
    }
  })

  app.post('/customers/:id/grants', async (c) => {
    const input = await readJsonBody(c.req.raw, grantSchema)
    const result = await ctx.store.credits.grant(c.get('principal').tenantId, c.req.param('id'), {
      ...input,
      effectiveAtMs: input.effectiveAt === undefined ? undefined : parseRfc3339(input.effectiveAt),
      expiresAtMs: input.expiresAt === undefined ? undefined : parseRfc3339(input.expiresAt),
    }, ctx.clock.now())
    if (!result.ok) throw creditError(result)
    changed(c.get('principal').tenantId, c.req.param('id'))
    return c.json({ grantId: result.value.grantId, ...result.value.view }, result.value.created ? 201 : 200)
  })

  app.post('/customers/:id/grants/:grantId/void', async (c) => {
    const input = await readJsonBody(c.req.raw, z.object({ reason: z.string().max(1000).optional() }).strict(), { allowEmpty: true })
    const tenantId = c.get('principal').tenantId
    await customer(tenantId, c.req.param('id'))
    const result = await ctx.store.credits.voidGrant(tenantId, c.req.param('id'), c.req.param('grantId'), input.reason, ctx.clock.now())
    if (!result.ok) throw creditError(result)
    changed(tenantId, c.req.param('id'))
    return c.json(result.value)
  })

  app.post('/customers/:id/top-ups', idempotent(ctx, 'POST /v1/customers/:id/top-ups'), async (c) => {
    const input = await readJsonBody(c.req.raw, topUpSchema)
    const result = await ctx.store.credits.topUp(c.get('principal').tenantId, c.req.param('id'), input, ctx.clock.now())
    if (!result.ok) throw creditError(result)
    changed(c.get('principal').tenantId, c.req.param('id'))
    const { view, ...rest } = result.value
    return c.json({ ...rest, balance: view }, rest.created ? 201 : 200)
  })

  app.put('/customers/:id/auto-top-up', async (c) => {
    const input = await readJsonBody(c.req.raw, autoTopUpSchema)
    const result = await ctx.store.credits.setAutoTopUp(c.get('principal').tenantId, c.req.param('id'), input, ctx.clock.now())
    const { view, ...rest } = result
    return c.json({ ...rest, balance: view })
  })

  app.post('/reservations', async (c) => {
    const input = await readJsonBody(c.req.raw, reservationSchema)
    const result = await ctx.store.credits.reserve(c.get('principal').tenantId, input, ctx.clock.now())
    if (!result.ok) throw creditError(result)
    const { answer, created } = result.value
    changed(c.get('principal').tenantId, answer.customerId)
    return c.json({ id: answer.id, customerId: answer.customerId, credits: answer.credits, granted: answer.granted, available: answer.available, expiresAt: formatTimestamp(answer.expiresAtMs) }, created ? 201 : 200)
  })

  app.post('/reservations/:id/release', async (c) => {
    const result = await ctx.store.credits.release(c.get('principal').tenantId, c.req.param('id'), ctx.clock.now())
    if (!result.ok) throw creditError(result)
    return c.json(result.value)
  })

  app.post('/quotes', async (c) => {
    const input = await readJsonBody(c.req.raw, quoteSchema)
    requireCustomerAccess(c.get('principal'), input.customerId)
    const tenantId = c.get('principal').tenantId
    await customer(tenantId, input.customerId)
    const result = await ctx.store.billing.quote(tenantId, input as Parameters<typeof ctx.store.billing.quote>[1], ctx.clock.now())
    if (!result.ok) throw billingError(result)
    return c.json(result.value)
  })

  app.get('/customers/:id/entitlements/:feature', async (c) => {
    const tenantId = c.get('principal').tenantId
    await customer(tenantId, c.req.param('id'))
    const result = await ctx.store.billing.entitlement(tenantId, c.req.param('id'), c.req.param('feature'), ctx.clock.now())
    if (!result.ok) throw billingError(result)
    return c.json(result.value)
  })

  return app
}

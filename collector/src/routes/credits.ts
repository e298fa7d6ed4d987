// Credits: balance and ledger, grants, top-ups, auto top-up, reservations for jobs, and
// entitlements (whether a customer may use a feature now).
import { z } from '@hono/zod-openapi'
import type { CreditFailure } from '@meterkit/engine'
import { MAX_CUSTOMER_ID_LENGTH, MAX_RESERVATION_TTL_MS, decimalString, formatTimestamp, parseDuration, parseRfc3339 } from '@meterkit/protocol'
import type { AppContext } from '../app.js'
import { HttpError } from '../http-error.js'
import { requireCustomerAccess } from '../middleware/auth.js'
import { CREDITS_CHANGED } from '../live/balance-source.js'
import { billingError } from './billing-views.js'
import { idempotent } from '../idempotency.js'
import { api, body, decimal, errors, idPattern, instant, json, jsonObject, optionalBody, page, pageQuery, pathParams, route, timestamp } from '../openapi/index.js'

const tags = ['Credits']

const idSchema = idPattern
const positive = decimalString.refine((s) => /[1-9]/.test(s), 'must be greater than 0')
const duration = z.string().refine((s) => parseDuration(s) !== undefined, 'must be an ISO 8601 duration such as P30D')

const grantSchema = z.object({
  id: idSchema.optional(),
  credits: positive,
  priority: z.number().int().min(0).max(1_000_000).optional(),
  effectiveAt: instant.optional(),
  expiresAt: instant.optional(),
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
  // No minimum: a render step may be shorter than a second.
  ttlMs: z.number().int('must be a whole number of milliseconds').min(1, 'must be at least 1 (milliseconds)')
    .max(MAX_RESERVATION_TTL_MS, `must be at most ${MAX_RESERVATION_TTL_MS} (7 days, in milliseconds)`)
    .optional().meta({ description: 'How long the hold lasts unless an event settles it or it is released, in milliseconds: 1 up to 7 days; default 1 hour' }),
}).strict()

const quoteSchema = z.object({
  customerId: z.string().min(1).max(MAX_CUSTOMER_ID_LENGTH),
  event: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, 'must be 1–128 characters of A-Za-z0-9._:-'),
  properties: jsonObject.default({}),
}).strict()

const grantView = z.object({
  id: z.string(),
  credits: decimal,
  remaining: decimal,
  priority: z.number().int(),
  effectiveAt: timestamp,
  expiresAt: timestamp.nullable(),
})
const balanceSchema = z.object({
  balance: decimal,
  available: decimal.meta({ description: '`balance` minus `reserved`' }),
  reserved: decimal,
  grants: z.array(grantView).meta({ description: 'In burn order: lower priority first, then earliest expiry, then oldest' }),
}).meta({ id: 'Balance' })
const ledgerEntry = z.object({
  id: z.string(),
  type: z.enum(['grant', 'deduction', 'expiry', 'void', 'adjustment', 'top_up', 'overage_settled', 'hold', 'release']),
  credits: z.string().meta({ description: 'Signed exact decimal: negative for deductions and expiries' }),
  balanceAfter: z.string(),
  at: timestamp,
  grantId: z.string().optional(),
  eventIds: z.array(z.string()).optional().meta({ description: 'The source events of a deduction' }),
  invoiceId: z.string().optional(),
  reservationId: z.string().optional(),
  held: z.string().optional().meta({ description: 'Hold (+) and release (−) entries: credits moved into or out of `reserved`' }),
  reason: z.string().optional(),
})
const reservationAnswer = z.object({
  id: z.string(),
  customerId: z.string(),
  credits: decimal,
  granted: z.boolean().meta({ description: 'False when the customer cannot cover it (a hard limit or `overage: block`): nothing is held' }),
  available: z.string(),
  expiresAt: timestamp,
})
const entitlementSchema = z.object({
  allowed: z.boolean(),
  limit: decimal.optional(),
  used: decimal.optional(),
  remaining: decimal.optional(),
  overLimit: z.boolean().optional().meta({ description: 'Soft limits: true past the limit, while still allowed' }),
})
const quoteAnswer = z.object({
  customerId: z.string(),
  plan: z.string(),
  credits: decimal,
  amount: decimal.meta({ description: 'Money: charges in money plus credits at the plan\'s creditPrice, rounded once' }),
  currency: z.string(),
  lines: z.array(z.object({ chargeKey: z.string(), description: z.string(), quantity: decimal, credits: decimal.optional(), amount: decimal })),
})
const grantAnswer = balanceSchema.extend({ id: z.string().meta({ description: 'The grant\'s id: the one given, or a new `grant_…`' }) })
const topUpAnswer = z.object({
  id: z.string().meta({ description: 'The top-up\'s id, which is also the id of its grant: the one given, or a new `topup_…`' }),
  credits: decimal, amount: decimal, created: z.boolean(), balance: balanceSchema,
})
const customerParams = pathParams('id')

function creditError(f: CreditFailure): HttpError {
  return billingError(f)
}

export function creditRoutes(ctx: AppContext) {
  const app = api()
  /** Live streams of the customer show the new balance. */
  const changed = (tenantId: number, customerId: string) => ctx.live.committed(tenantId, [{ customerId, event: CREDITS_CHANGED }])

  async function customer(tenantId: number, id: string) {
    if ((await ctx.store.getCustomer(tenantId, id)) === undefined) throw new HttpError('not_found', 'no customer with this id')
  }

  route(app, {
    method: 'get', path: '/customers/{id}/balance', tags, summary: 'Read a credit balance',
    request: { params: customerParams },
    responses: { 200: json(balanceSchema, 'The balance now') },
  }, async (c) => {
    const tenantId = c.get('principal').tenantId
    const { id } = c.req.valid('param')
    await customer(tenantId, id)
    return c.json(await ctx.store.credits.balance(tenantId, id, ctx.clock.now()))
  })

  route(app, {
    method: 'get', path: '/customers/{id}/ledger', tags, summary: 'List credit ledger entries',
    description: 'Every entry with its source: the grant, the events, the invoice or the reservation.',
    request: { params: customerParams, query: pageQuery },
    responses: { 200: json(page(ledgerEntry), 'A page of entries, oldest first') },
  }, async (c) => {
    const tenantId = c.get('principal').tenantId
    const { id } = c.req.valid('param')
    await customer(tenantId, id)
    const q = c.req.valid('query')
    try {
      return c.json(await ctx.store.credits.ledger(tenantId, id, { cursor: q.cursor, limit: q.limit }))
    } catch (err) {
      if (err instanceof RangeError) throw new HttpError('invalid_request', err.message)
      throw err
    }
  })

  route(app, {
    method: 'post', path: '/customers/{id}/grants', tags, summary: 'Grant credits',
    request: { params: customerParams, body: body(grantSchema) },
    responses: {
      201: json(grantAnswer, 'The new grant\'s id and the balance'),
      200: json(grantAnswer, 'The grant this id already names, and the balance'),
      ...errors('conflict'),
    },
  }, async (c) => {
    const input = c.req.valid('json')
    const { id } = c.req.valid('param')
    const result = await ctx.store.credits.grant(c.get('principal').tenantId, id, {
      ...input,
      effectiveAtMs: input.effectiveAt === undefined ? undefined : parseRfc3339(input.effectiveAt),
      expiresAtMs: input.expiresAt === undefined ? undefined : parseRfc3339(input.expiresAt),
    }, ctx.clock.now())
    if (!result.ok) throw creditError(result)
    changed(c.get('principal').tenantId, id)
    return c.json({ id: result.value.grantId, ...result.value.view }, result.value.created ? 201 : 200)
  })

  route(app, {
    method: 'post', path: '/customers/{id}/grants/{grantId}/void', tags, summary: 'Void a grant',
    description: 'Its remaining credits leave the balance; what was already used stays used.',
    request: { params: pathParams('id', 'grantId'), body: optionalBody(z.object({ reason: z.string().max(1000).optional() }).strict()) },
    responses: { 200: json(balanceSchema, 'The balance'), ...errors('conflict') },
  }, async (c) => {
    const input = c.req.valid('json')
    const { id, grantId } = c.req.valid('param')
    const tenantId = c.get('principal').tenantId
    await customer(tenantId, id)
    const result = await ctx.store.credits.voidGrant(tenantId, id, grantId, input.reason, ctx.clock.now())
    if (!result.ok) throw creditError(result)
    changed(tenantId, id)
    return c.json(result.value)
  })

  route(app, {
    method: 'post', path: '/customers/{id}/top-ups', tags, summary: 'Top up credits',
    description: 'Purchased credits: a grant, and an invoice line for `amount`.',
    middleware: [idempotent(ctx, 'POST /v1/customers/:id/top-ups')],
    request: { params: customerParams, body: body(topUpSchema) },
    responses: {
      201: json(topUpAnswer, 'The top-up and the balance'),
      200: json(topUpAnswer, 'The top-up this id already names, and the balance'),
      ...errors('conflict', 'idempotency_conflict'),
    },
  }, async (c) => {
    const input = c.req.valid('json')
    const { id } = c.req.valid('param')
    const result = await ctx.store.credits.topUp(c.get('principal').tenantId, id, input, ctx.clock.now())
    if (!result.ok) throw creditError(result)
    changed(c.get('principal').tenantId, id)
    const { grantId, credits, amount, created, view } = result.value
    return c.json({ id: grantId, credits, amount, created, balance: view }, created ? 201 : 200)
  })

  route(app, {
    method: 'put', path: '/customers/{id}/auto-top-up', tags, summary: 'Set automatic top-ups',
    description: 'When the balance falls below `threshold`, `credits` are topped up (invoiced at `amount`).',
    request: { params: customerParams, body: body(autoTopUpSchema) },
    responses: { 200: json(z.object({ threshold: decimal, credits: decimal, amount: decimal.optional(), balance: balanceSchema }), 'The rule and the balance') },
  }, async (c) => {
    const input = c.req.valid('json')
    const result = await ctx.store.credits.setAutoTopUp(c.get('principal').tenantId, c.req.valid('param').id, input, ctx.clock.now())
    const { view, ...rest } = result
    return c.json({ ...rest, balance: view })
  })

  route(app, {
    method: 'post', path: '/reservations', tags, summary: 'Reserve credits for a job',
    description: 'Holds credits until an event names the reservation (the rated cost is deducted, the hold released), it is released, or it expires.',
    request: { body: body(reservationSchema) },
    responses: {
      201: json(reservationAnswer, 'The reservation'),
      200: json(reservationAnswer, 'The reservation this id already names'),
      ...errors('not_found', 'conflict'),
    },
  }, async (c) => {
    const input = c.req.valid('json')
    const result = await ctx.store.credits.reserve(c.get('principal').tenantId, input, ctx.clock.now())
    if (!result.ok) throw creditError(result)
    const { answer, created } = result.value
    changed(c.get('principal').tenantId, answer.customerId)
    return c.json({ id: answer.id, customerId: answer.customerId, credits: answer.credits, granted: answer.granted, available: answer.available, expiresAt: formatTimestamp(answer.expiresAtMs) }, created ? 201 : 200)
  })

  route(app, {
    method: 'post', path: '/reservations/{id}/release', tags, summary: 'Release a reservation',
    request: { params: pathParams('id') },
    responses: { 200: json(z.object({ id: z.string(), released: z.boolean().meta({ description: 'False when it was already settled, released or expired' }), available: z.string() }), 'Released') },
  }, async (c) => {
    const result = await ctx.store.credits.release(c.get('principal').tenantId, c.req.valid('param').id, ctx.clock.now())
    if (!result.ok) throw creditError(result)
    return c.json(result.value)
  })

  route(app, {
    method: 'post', path: '/quotes', tags, summary: 'Quote an event',
    description: 'What this event would cost the customer now, in credits and in money; nothing is written.',
    request: { body: body(quoteSchema) },
    responses: { 200: json(quoteAnswer, 'The quote') },
  }, async (c) => {
    const input = c.req.valid('json')
    requireCustomerAccess(c.get('principal'), input.customerId)
    const tenantId = c.get('principal').tenantId
    await customer(tenantId, input.customerId)
    const result = await ctx.store.billing.quote(tenantId, input as Parameters<typeof ctx.store.billing.quote>[1], ctx.clock.now())
    if (!result.ok) throw billingError(result)
    return c.json(result.value)
  })

  route(app, {
    method: 'get', path: '/customers/{id}/entitlements/{feature}', tags, summary: 'Check an entitlement',
    description: 'Whether the customer may use the feature now; for metered features, the limit, the use so far and what remains.',
    request: { params: pathParams('id', 'feature') },
    responses: { 200: json(entitlementSchema, 'The entitlement') },
  }, async (c) => {
    const tenantId = c.get('principal').tenantId
    const { id, feature } = c.req.valid('param')
    await customer(tenantId, id)
    const result = await ctx.store.billing.entitlement(tenantId, id, feature, ctx.clock.now())
    if (!result.ok) throw billingError(result)
    return c.json(result.value)
  })

  return app
}

// Invoices: list, read (JSON or HTML), the exact events behind a line, offline payments, void;
// the upcoming invoice of a customer's open period; billing runs and simulations.
import { z } from '@hono/zod-openapi'
import { decimalString, formatTimestamp, parseRfc3339, planSchema } from '@meterkit/protocol'
import type { Context } from 'hono'
import type { AppContext } from '../app.js'
import { HttpError } from '../http-error.js'
import { billingError, invoiceJson, invoiceSchema } from './billing-views.js'
import { invoiceHtml } from './invoice-html.js'
import { idempotent } from '../idempotency.js'
import { api, body, decimal, errors, instant, json, optionalBody, page, pageQuery, pathParams, route, timestamp } from '../openapi/index.js'

const tags = ['Billing']

const paymentSchema = z.object({
  amount: decimalString,
  method: z.string().min(1).max(64).meta({ description: 'How it was paid: `bank_transfer`, `card`, …' }),
  reference: z.string().max(256).optional(),
}).strict()
const voidSchema = z.object({ reason: z.string().max(1000).optional() }).strict()
const runSchema = z.object({ until: instant.optional().meta({ description: 'Bill periods ended by then (default now)' }) }).strict()
const simulationSchema = z.object({
  plan: z.union([z.string().min(1), planSchema]).meta({ description: 'The key of a plan of the configuration, or a whole plan' }),
  from: instant,
  to: instant,
  customerIds: z.array(z.string().min(1)).max(10_000).optional().meta({ description: 'Default: every customer with events in the range' }),
}).strict()

const idempotencyKey = z.object({
  'idempotency-key': z.string().optional().meta({ description: 'Retries with the same key and body answer the first answer again (`Idempotent-Replayed: true`); 24 h' }),
})

function wantsHtml(c: Context): boolean {
  const accept = c.req.header('accept') ?? ''
  return /\btext\/html\b/.test(accept) && !/\bapplication\/json\b/.test(accept.split(',')[0] ?? '')
}

/** A cursor the store does not know is the caller's mistake. */
function badCursor(err: unknown): never {
  if (err instanceof RangeError) throw new HttpError('invalid_request', err.message)
  throw err
}

export function invoiceRoutes(ctx: AppContext) {
  const app = api()

  route(app, {
    method: 'get', path: '/invoices', tags, summary: 'List invoices',
    request: { query: pageQuery.extend({ customerId: z.string().optional() }) },
    responses: { 200: json(page(invoiceSchema), 'A page of invoices, newest first') },
  }, async (c) => {
    const q = c.req.valid('query')
    const list = await ctx.store.billing.listInvoices(c.get('principal').tenantId, { customerId: q.customerId, cursor: q.cursor, limit: q.limit }).catch(badCursor)
    return c.json({ data: list.data.map(invoiceJson), nextCursor: list.nextCursor })
  })

  route(app, {
    method: 'get', path: '/invoices/{id}', tags, summary: 'Read an invoice',
    description: 'JSON, or a self-contained HTML page when the id ends in `.html` or `Accept` prefers `text/html`.',
    request: { params: pathParams('id') },
    responses: {
      200: {
        description: 'The invoice',
        content: { 'application/json': { schema: invoiceSchema }, 'text/html': { schema: z.string() } },
      },
    },
  }, async (c) => {
    const raw = c.req.valid('param').id
    const html = raw.endsWith('.html')
    const id = html ? raw.slice(0, -5) : raw
    const invoice = await ctx.store.billing.getInvoice(c.get('principal').tenantId, id)
    if (invoice === undefined) throw new HttpError('not_found', 'no invoice with this id')
    if (html || wantsHtml(c)) return c.html(invoiceHtml(invoiceJson(invoice)))
    return c.json(invoiceJson(invoice))
  })

  route(app, {
    method: 'get', path: '/invoices/{id}/lines/{lineId}/events', tags, summary: 'List the events behind an invoice line',
    request: { params: pathParams('id', 'lineId'), query: pageQuery },
    responses: { 200: json(page(z.object({ id: z.string(), timestamp })), 'A page of the line\'s source events') },
  }, async (c) => {
    const { id, lineId } = c.req.valid('param')
    const q = c.req.valid('query')
    const list = await ctx.store.billing.lineEvents(c.get('principal').tenantId, id, lineId, { cursor: q.cursor, limit: q.limit }).catch(badCursor)
    if (list === undefined) throw new HttpError('not_found', 'no such invoice line')
    return c.json({ data: list.data.map((e) => ({ id: e.id, timestamp: formatTimestamp(e.timestampMs) })), nextCursor: list.nextCursor })
  })

  route(app, {
    method: 'post', path: '/invoices/{id}/payments', tags, summary: 'Record an offline payment',
    middleware: [idempotent(ctx, 'POST /v1/invoices/:id/payments')],
    request: { params: pathParams('id'), headers: idempotencyKey, body: body(paymentSchema) },
    responses: { 201: json(invoiceSchema, 'The invoice with the payment'), ...errors('conflict', 'idempotency_conflict') },
  }, async (c) => {
    const input = c.req.valid('json')
    const result = await ctx.store.billing.pay(c.get('principal').tenantId, c.req.valid('param').id, input, ctx.clock.now())
    if (!result.ok) throw billingError(result)
    return c.json(invoiceJson(result.value), 201)
  })

  route(app, {
    method: 'post', path: '/invoices/{id}/void', tags, summary: 'Void an invoice',
    description: 'A finalized invoice gets a credit note for what it charged.',
    request: { params: pathParams('id'), body: optionalBody(voidSchema) },
    responses: { 200: json(invoiceSchema, 'The voided invoice'), ...errors('conflict') },
  }, async (c) => {
    const input = c.req.valid('json')
    const result = await ctx.store.billing.voidInvoice(c.get('principal').tenantId, c.req.valid('param').id, input.reason ?? null, ctx.clock.now())
    if (!result.ok) throw billingError(result)
    return c.json(invoiceJson(result.value))
  })

  route(app, {
    method: 'get', path: '/customers/{id}/invoices/upcoming', tags, summary: 'Preview the upcoming invoice',
    description: 'The invoice the customer\'s open period would get if it closed now.',
    request: { params: pathParams('id') },
    responses: { 200: json(invoiceSchema, 'A draft invoice, id `upcoming`') },
  }, async (c) => {
    const tenantId = c.get('principal').tenantId
    const customerId = c.req.valid('param').id
    if ((await ctx.store.getCustomer(tenantId, customerId)) === undefined) throw new HttpError('not_found', 'no customer with this id')
    const invoice = await ctx.store.billing.upcoming(tenantId, customerId, ctx.clock.now())
    if (invoice === undefined) throw new HttpError('not_found', 'the customer has no subscription with an invoice to come')
    return c.json(invoiceJson(invoice))
  })

  route(app, {
    method: 'post', path: '/billing/run', tags, summary: 'Run billing',
    description: 'Finalizes every period that ended by `until` past its grace period and drafts those inside it. Idempotent; the collector also runs it on a schedule.',
    request: { body: optionalBody(runSchema) },
    responses: {
      200: json(z.object({ until: timestamp, finalized: z.array(z.string()), drafts: z.array(z.string()), adjustments: z.number().int() }), 'Invoice ids finalized and drafted, and adjustment lines written'),
    },
  }, async (c) => {
    const input = c.req.valid('json')
    const untilMs = input.until === undefined ? ctx.clock.now() : parseRfc3339(input.until)!
    const result = await ctx.store.billing.run(c.get('principal').tenantId, untilMs, ctx.clock.now())
    return c.json({ until: formatTimestamp(untilMs), finalized: result.finalized, drafts: result.drafts, adjustments: result.adjustments })
  })

  route(app, {
    method: 'post', path: '/simulations', tags, summary: 'Simulate a plan over past usage',
    description: 'What customers would have paid on another plan, from the stored events; nothing is written.',
    request: { body: body(simulationSchema) },
    responses: {
      200: json(z.object({
        from: timestamp,
        to: timestamp,
        plan: z.string(),
        data: z.array(z.object({ customerId: z.string(), currency: z.string(), actual: decimal, simulated: decimal, difference: decimal })),
      }), 'Actual and simulated totals per customer'),
    },
  }, async (c) => {
    const input = c.req.valid('json')
    const tenantId = c.get('principal').tenantId
    const fromMs = parseRfc3339(input.from)!
    const toMs = parseRfc3339(input.to)!
    if (fromMs >= toMs) throw new HttpError('invalid_request', 'from: must be before to')
    let plan = typeof input.plan === 'string' ? undefined : input.plan
    if (plan === undefined) {
      const { config, version } = await ctx.store.getConfig(tenantId)
      plan = config.plans.find((p) => p.key === input.plan)
      if (plan === undefined) throw new HttpError('invalid_request', `plan: no plan "${String(input.plan)}" in configuration version ${version}`)
    }
    const result = await ctx.store.billing.simulate(tenantId, { plan, fromMs, toMs, customerIds: input.customerIds })
    if (!result.ok) throw billingError(result)
    return c.json({ from: formatTimestamp(fromMs), to: formatTimestamp(toMs), plan: plan.key, data: result.value })
  })

  return app
}

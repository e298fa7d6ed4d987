// Invoices: list, read (JSON or HTML), the exact events behind a line, offline payments, void;
// the upcoming invoice of a customer's open period; billing runs and simulations.
import { decimalString, formatTimestamp, parseRfc3339, planSchema } from '@meterkit/protocol'
import { type Context, Hono } from 'hono'
import { z } from 'zod'
import type { AppContext } from '../app.js'
import { HttpError } from '../http-error.js'
import type { AuthEnv } from '../middleware/auth.js'
import { billingError, invoiceJson } from './billing-views.js'
import { limitParam } from './events.js'
import { invoiceHtml } from './invoice-html.js'
import { idempotent } from '../idempotency.js'
import { readJsonBody } from './json.js'
import { instantSchema } from './subscriptions.js'

const paymentSchema = z.object({
  amount: decimalString,
  method: z.string().min(1).max(64),
  reference: z.string().max(256).optional(),
}).strict()
const voidSchema = z.object({ reason: z.string().max(1000).optional() }).strict()
const runSchema = z.object({ until: instantSchema.optional() }).strict()
const simulationSchema = z.object({
  plan: z.union([z.string().min(1), planSchema]),
  from: instantSchema,
  to: instantSchema,
  customerIds: z.array(z.string().min(1)).max(10_000).optional(),
}).strict()

function wantsHtml(c: Context): boolean {
  const accept = c.req.header('accept') ?? ''
  return /\btext\/html\b/.test(accept) && !/\bapplication\/json\b/.test(accept.split(',')[0] ?? '')
}

export function invoiceRoutes(ctx: AppContext) {
  const app = new Hono<AuthEnv>()

  app.get('/invoices', async (c) => {
    const q = c.req.query()
    let page
    try {
      page = await ctx.store.billing.listInvoices(c.get('principal').tenantId, { customerId: q.customerId, cursor: q.cursor, limit: limitParam(q.limit) })
    } catch (err) {
      if (err instanceof RangeError) throw new HttpError('invalid_request', err.message)
      throw err
    }
    return c.json({ data: page.data.map(invoiceJson), nextCursor: page.nextCursor })
  })

  app.get('/invoices/:id', async (c) => {
    const raw = c.req.param('id')
    const html = raw.endsWith('.html')
    const id = html ? raw.slice(0, -5) : raw
    const invoice = await ctx.store.billing.getInvoice(c.get('principal').tenantId, id)
    if (invoice === undefined) throw new HttpError('not_found', 'no invoice with this id')
    if (html || wantsHtml(c)) return c.html(invoiceHtml(invoiceJson(invoice)))
    return c.json(invoiceJson(invoice))
  })

  app.get('/invoices/:id/lines/:lineId/events', async (c) => {
    const q = c.req.query()
    let page
    try {
      page = await ctx.store.billing.lineEvents(c.get('principal').tenantId, c.req.param('id'), c.req.param('lineId'), { cursor: q.cursor, limit: limitParam(q.limit) })
    } catch (err) {
      if (err instanceof RangeError) throw new HttpError('invalid_request', err.message)
      throw err
    }
    if (page === undefined) throw new HttpError('not_found', 'no such invoice line')
    return c.json({ data: page.data.map((e) => ({ id: e.id, timestamp: formatTimestamp(e.timestampMs) })), nextCursor: page.nextCursor })
  })

  app.post('/invoices/:id/payments', idempotent(ctx, 'POST /v1/invoices/:id/payments'), async (c) => {
    const input = await readJsonBody(c.req.raw, paymentSchema)
    const result = await ctx.store.billing.pay(c.get('principal').tenantId, c.req.param('id'), input, ctx.clock.now())
    if (!result.ok) throw billingError(result)
    return c.json(invoiceJson(result.value), 201)
  })

  app.post('/invoices/:id/void', async (c) => {
    const input = await readJsonBody(c.req.raw, voidSchema, { allowEmpty: true })
    const result = await ctx.store.billing.voidInvoice(c.get('principal').tenantId, c.req.param('id'), input.reason ?? null, ctx.clock.now())
    if (!result.ok) throw billingError(result)
    return c.json(invoiceJson(result.value))
  })

  app.get('/customers/:id/invoices/upcoming', async (c) => {
    const tenantId = c.get('principal').tenantId
    if ((await ctx.store.getCustomer(tenantId, c.req.param('id'))) === undefined) throw new HttpError('not_found', 'no customer with this id')
    const invoice = await ctx.store.billing.upcoming(tenantId, c.req.param('id'), ctx.clock.now())
    if (invoice === undefined) throw new HttpError('not_found', 'the customer has no subscription with an invoice to come')
    return c.json(invoiceJson(invoice))
  })

  app.post('/billing/run', async (c) => {
    const input = await readJsonBody(c.req.raw, runSchema, { allowEmpty: true })
    const untilMs = input.until === undefined ? ctx.clock.now() : parseRfc3339(input.until)!
    const result = await ctx.store.billing.run(c.get('principal').tenantId, untilMs, ctx.clock.now())
    return c.json({ until: formatTimestamp(untilMs), finalized: result.finalized, drafts: result.drafts, adjustments: result.adjustments })
  })

  app.post('/simulations', async (c) => {
    const input = await readJsonBody(c.req.raw, simulationSchema)
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

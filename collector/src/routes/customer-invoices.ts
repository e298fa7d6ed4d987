// A customer's subscriptions and own invoices, for the console and the customer portal: the
// invoices listed, and one as JSON or as the page a person reads. Invoices take a secret key or
// that customer's token; another customer's invoice is 404.
import { z } from '@hono/zod-openapi'
import type { AppContext } from '../app.js'
import { HttpError } from '../http-error.js'
import { requireCustomerAccess } from '../middleware/auth.js'
import { api, json, page, pageQuery, pathParams, route, timestamp } from '../openapi/index.js'
import { invoiceJson, subscriptionJson } from './billing-views.js'
import { invoiceHtml } from './invoice-html.js'
import { rangeErrors } from './report-query.js'

// The invoice and subscription shapes of GET /v1/invoices/{id} and GET /v1/subscriptions/{id},
// named here by their leading fields; every field of those shapes is answered.
const invoiceSummary = z.looseObject({
  id: z.string(), number: z.number().int().nullable(), customerId: z.string(), subscriptionId: z.string(),
  status: z.enum(['draft', 'finalized', 'paid', 'void']), periodStart: timestamp, periodEnd: timestamp, currency: z.string(),
  total: z.string(), amountDue: z.string(),
}).meta({ description: 'An invoice, in the shape of GET /v1/invoices/{id}' })
const subscriptionSummary = z.looseObject({
  id: z.string(), customerId: z.string(), status: z.enum(['active', 'canceled', 'scheduled']), plan: z.string(),
  currentPeriodStart: timestamp.nullable(), currentPeriodEnd: timestamp.nullable(),
}).meta({ description: 'A subscription, in the shape of GET /v1/subscriptions/{id}' })

export function customerInvoiceRoutes(ctx: AppContext) {
  const app = api()

  const requireCustomer = async (tenantId: number, id: string) => {
    if ((await ctx.store.getCustomer(tenantId, id)) === undefined) throw new HttpError('not_found', 'no customer with this id')
  }

  route(app, {
    method: 'get', path: '/{id}/subscriptions', tags: ['Billing'], summary: 'List a customer’s subscriptions',
    description: 'The customer’s subscriptions, by start.',
    request: { params: pathParams('id') },
    responses: { 200: json(page(subscriptionSummary), 'The subscriptions (one page: nextCursor is null)') },
  }, async (c) => {
    const tenantId = c.get('principal').tenantId
    const { id } = c.req.valid('param')
    await requireCustomer(tenantId, id)
    const subscriptions = await ctx.store.billing.listSubscriptions(tenantId, id, ctx.clock.now())
    return c.json({ data: subscriptions.map(subscriptionJson), nextCursor: null })
  })

  route(app, {
    method: 'get', path: '/{id}/invoices', tags: ['Billing'], summary: 'List a customer’s invoices',
    description: 'The customer’s invoices, newest first; with that customer’s token too (the customer portal).',
    request: { params: pathParams('id'), query: pageQuery },
    responses: { 200: json(page(invoiceSummary), 'A page of invoices') },
  }, async (c) => {
    const principal = c.get('principal')
    const { id } = c.req.valid('param')
    requireCustomerAccess(principal, id)
    await requireCustomer(principal.tenantId, id)
    const q = c.req.valid('query')
    const list = await rangeErrors(() => ctx.store.billing.listInvoices(principal.tenantId, { customerId: id, cursor: q.cursor, limit: q.limit }))
    return c.json({ data: list.data.map(invoiceJson), nextCursor: list.nextCursor })
  })

  route(app, {
    method: 'get', path: '/{id}/invoices/{invoiceId}', tags: ['Billing'], summary: 'Read a customer’s invoice',
    description: 'One of the customer’s invoices; `{invoiceId}.html` answers the page a person reads. With that customer’s token too.',
    request: { params: pathParams('id', 'invoiceId') },
    responses: {
      200: { description: 'The invoice (HTML for an id ending in `.html`)', content: { 'application/json': { schema: invoiceSummary }, 'text/html': { schema: z.string() } } },
    },
  }, async (c) => {
    const principal = c.get('principal')
    const { id, invoiceId } = c.req.valid('param')
    requireCustomerAccess(principal, id)
    const html = invoiceId.endsWith('.html')
    const invoice = await ctx.store.billing.getInvoice(principal.tenantId, html ? invoiceId.slice(0, -5) : invoiceId)
    if (invoice === undefined || invoice.customerId !== id) throw new HttpError('not_found', 'no invoice with this id')
    return html ? c.html(invoiceHtml(invoiceJson(invoice))) : c.json(invoiceJson(invoice))
  })

  return app
}

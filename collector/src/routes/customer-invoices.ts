// A customer's subscriptions and own invoices, for the console and the customer portal: the
// invoices listed, and one as JSON or as the page a person reads. Invoices take a secret key or
// that customer's token; another customer's invoice is 404.
import { Hono } from 'hono'
import type { AppContext } from '../app.js'
import { HttpError } from '../http-error.js'
import { type AuthEnv, requireCustomerAccess } from '../middleware/auth.js'
import { invoiceJson, subscriptionJson } from './billing-views.js'
import { limitParam } from './events.js'
import { invoiceHtml } from './invoice-html.js'
import { rangeErrors } from './report-query.js'

export function customerInvoiceRoutes(ctx: AppContext) {
  const app = new Hono<AuthEnv>()

  app.get('/:id/subscriptions', async (c) => {
    const tenantId = c.get('principal').tenantId
    const customerId = c.req.param('id')
    if ((await ctx.store.getCustomer(tenantId, customerId)) === undefined) throw new HttpError('not_found', 'no customer with this id')
    const subscriptions = await ctx.store.billing.listSubscriptions(tenantId, customerId, ctx.clock.now())
    return c.json({ data: subscriptions.map(subscriptionJson), nextCursor: null })
  })

  app.get('/:id/invoices', async (c) => {
    const principal = c.get('principal')
    const customerId = c.req.param('id')
    requireCustomerAccess(principal, customerId)
    if ((await ctx.store.getCustomer(principal.tenantId, customerId)) === undefined) throw new HttpError('not_found', 'no customer with this id')
    const q = c.req.query()
    const page = await rangeErrors(() => ctx.store.billing.listInvoices(principal.tenantId, { customerId, cursor: q.cursor, limit: limitParam(q.limit) }))
    return c.json({ data: page.data.map(invoiceJson), nextCursor: page.nextCursor })
  })

  app.get('/:id/invoices/:invoiceId', async (c) => {
    const principal = c.get('principal')
    const customerId = c.req.param('id')
    requireCustomerAccess(principal, customerId)
    const raw = c.req.param('invoiceId')
    const html = raw.endsWith('.html')
    const invoice = await ctx.store.billing.getInvoice(principal.tenantId, html ? raw.slice(0, -5) : raw)
    if (invoice === undefined || invoice.customerId !== customerId) throw new HttpError('not_found', 'no invoice with this id')
    return html ? c.html(invoiceHtml(invoiceJson(invoice))) : c.json(invoiceJson(invoice))
  })

  return app
}

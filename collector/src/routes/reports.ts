// Reporting endpoints of the console: revenue, usage revenue, credit flows and active customers
// by month, the ingest rate, the customer list with search, and the configuration's versions. Computed in the engine from
// invoices, the ledger, subscriptions and indexes (packages/engine/src/reporting).
import { z } from '@hono/zod-openapi'
import { INGEST_BUCKETS, type ReportPeriod, USAGE_REVENUE_DIMENSIONS, type UsageRevenueDimension } from '@meterkit/engine'
import { formatTimestamp, parseRfc3339 } from '@meterkit/protocol'
import type { AppContext } from '../app.js'
import { HttpError } from '../http-error.js'
import { api, decimal, instant, json, page, pageQuery, route, timestamp } from '../openapi/index.js'
import { rangeErrors, rangeQuerySchema, reportRange } from './report-query.js'

const tags = ['Reports']

const usageRevenueQuery = rangeQuerySchema.extend({
  groupBy: z.string().refine(
    (s) => s.split(',').every((d) => (USAGE_REVENUE_DIMENSIONS as readonly string[]).includes(d.trim())),
    `must list some of ${USAGE_REVENUE_DIMENSIONS.join(', ')}, separated by commas`,
  ).optional().meta({ description: `Any of ${USAGE_REVENUE_DIMENSIONS.join(', ')}, comma-separated (default plan,meter)`, example: 'plan,meter' }),
})
const ingestQuery = z.object({
  from: instant.optional().meta({ description: 'Default: 24 hours (or, by minute, 1 hour) before `to`' }),
  to: instant.optional().meta({ description: 'Default: now' }),
  bucket: z.enum(['minute', 'hour']).optional().meta({ description: 'Bucket size (default hour); at most 1440 buckets' }),
})
const customerListQuery = pageQuery.extend({
  search: z.string().max(256).optional().meta({ description: 'Part of the id, name or email, any case' }),
})

const month = {
  month: z.string().meta({ example: '2026-11' }),
  start: timestamp.meta({ description: 'The month’s start, or the range’s when it starts later' }),
  end: timestamp.meta({ description: 'The month’s end, or the range’s when it ends sooner' }),
}
const range = { from: timestamp, to: timestamp }
const revenueSchema = z.object({
  ...range,
  data: z.array(z.object({
    ...month,
    totals: z.array(z.object({ currency: z.string(), invoiced: decimal, paid: decimal, due: decimal, invoices: z.number().int() })),
  })),
}).meta({ id: 'RevenueReport' })
const usageRevenueSchema = z.object({
  ...range,
  groupBy: z.array(z.enum(USAGE_REVENUE_DIMENSIONS)),
  data: z.array(z.object({
    month: z.string().optional(),
    plan: z.string().optional(),
    meter: z.string().nullable().optional().meta({ description: 'null: credit overage (credits beyond the grants, billed in money)' }),
    customerId: z.string().optional(),
    currency: z.string(),
    amount: decimal,
    credits: decimal.meta({ description: 'Credits the usage cost, for charges priced in credits' }),
    lines: z.number().int(),
  })),
}).meta({ id: 'UsageRevenueReport' })
const creditsSchema = z.object({
  ...range,
  data: z.array(z.object({ ...month, granted: decimal, burned: decimal, expired: decimal, voided: decimal })),
}).meta({ id: 'CreditsReport' })
const activeSchema = z.object({ ...range, data: z.array(z.object({ ...month, customers: z.number().int() })) }).meta({ id: 'ActiveCustomersReport' })
const ingestSchema = z.object({
  ...range,
  bucket: z.enum(['minute', 'hour']),
  data: z.array(z.object({ start: timestamp, end: timestamp, events: z.number().int() })),
}).meta({ id: 'IngestReport' })
const customerSchema = z.object({ id: z.string(), name: z.string().nullable(), email: z.string().nullable(), timezone: z.string(), createdAt: timestamp }).meta({ id: 'CustomerSummary' })

const configVersionSchema = z.object({
  version: z.number().int(),
  appliedAt: timestamp,
  keyId: z.string().nullable().meta({ description: 'The key that applied it' }),
  config: z.record(z.string(), z.unknown()).meta({ description: 'The configuration as applied (meters, features, plans, …)' }),
}).meta({ id: 'ConfigVersion' })

const period = (p: ReportPeriod) => ({ month: p.month, start: formatTimestamp(p.startMs), end: formatTimestamp(p.endMs) })

export function reportRoutes(ctx: AppContext) {
  const app = api()
  const reporting = () => {
    if (ctx.reporting === undefined) throw new HttpError('unavailable', 'this store does not answer reports')
    return ctx.reporting
  }
  const rangeOf = (q: { from?: string; to?: string }) => {
    const r = reportRange(q, ctx.clock.now())
    return { ...r, view: { from: formatTimestamp(r.fromMs), to: formatTimestamp(r.toMs) } }
  }
  const MONTHS = 'Months are UTC calendar months, the first and last clipped to the range (at most 120).'

  route(app, {
    method: 'get', path: '/reports/revenue', tags, summary: 'Revenue by month',
    description: `Invoiced, paid and due per month and currency. An invoice counts in the month it is issued (the boundary where its period closes); drafts (in their grace period) and void invoices do not count. ${MONTHS}`,
    request: { query: rangeQuerySchema },
    responses: { 200: json(revenueSchema, 'Revenue by month') },
  }, async (c) => {
    const r = rangeOf(c.req.valid('query'))
    const months = await rangeErrors(() => reporting().revenue(c.get('principal').tenantId, r))
    return c.json({ ...r.view, data: months.map((m) => ({ ...period(m), totals: m.totals })) })
  })

  route(app, {
    method: 'get', path: '/reports/usage-revenue', tags, summary: 'Usage revenue',
    description: `What usage charges, their adjustments and credit overage earned on final invoices issued in the range, grouped by month, plan, meter and customer as asked. ${MONTHS}`,
    request: { query: usageRevenueQuery },
    responses: { 200: json(usageRevenueSchema, 'Usage revenue by group') },
  }, async (c) => {
    const q = c.req.valid('query')
    const r = rangeOf(q)
    const groupBy = (q.groupBy?.split(',').map((d) => d.trim()) ?? ['plan', 'meter']) as UsageRevenueDimension[]
    const rows = await rangeErrors(() => reporting().usageRevenue(c.get('principal').tenantId, r, groupBy))
    return c.json({ ...r.view, groupBy, data: rows })
  })

  route(app, {
    method: 'get', path: '/reports/credits', tags, summary: 'Credits by month',
    description: `Credits granted (grants and top-ups), burned (deductions net of refunds), expired and voided, from the ledger. ${MONTHS}`,
    request: { query: rangeQuerySchema },
    responses: { 200: json(creditsSchema, 'Credit flows by month') },
  }, async (c) => {
    const r = rangeOf(c.req.valid('query'))
    const months = await rangeErrors(() => reporting().credits(c.get('principal').tenantId, r))
    return c.json({ ...r.view, data: months.map((m) => ({ ...period(m), granted: m.granted, burned: m.burned, expired: m.expired, voided: m.voided })) })
  })

  route(app, {
    method: 'get', path: '/reports/active-customers', tags, summary: 'Active customers by month',
    description: `Customers with a subscription in effect at some time in each month. ${MONTHS}`,
    request: { query: rangeQuerySchema },
    responses: { 200: json(activeSchema, 'Active customers by month') },
  }, async (c) => {
    const r = rangeOf(c.req.valid('query'))
    const months = await rangeErrors(() => reporting().activeCustomers(c.get('principal').tenantId, r))
    return c.json({ ...r.view, data: months.map((m) => ({ ...period(m), customers: m.customers })) })
  })

  route(app, {
    method: 'get', path: '/reports/ingest', tags, summary: 'Ingest rate',
    description: 'Events per minute or hour by event time, every bucket listed, counted over the events-by-time index. By default the last 24 hours by hour.',
    request: { query: ingestQuery },
    responses: { 200: json(ingestSchema, 'Events per bucket') },
  }, async (c) => {
    const q = c.req.valid('query')
    const bucket = q.bucket ?? 'hour'
    const toMs = q.to === undefined ? ctx.clock.now() : parseRfc3339(q.to)!
    const fromMs = q.from === undefined ? toMs - (bucket === 'hour' ? 24 : 1) * INGEST_BUCKETS.hour : parseRfc3339(q.from)!
    const points = await rangeErrors(() => reporting().ingest(c.get('principal').tenantId, { fromMs, toMs }, bucket))
    return c.json({
      from: formatTimestamp(fromMs), to: formatTimestamp(toMs), bucket,
      data: points.map((p) => ({ start: formatTimestamp(p.startMs), end: formatTimestamp(p.endMs), events: p.events })),
    })
  })

  route(app, {
    method: 'get', path: '/customers', tags: ['Customers'], summary: 'List customers',
    description: 'Customers by id, cursor-paged; `search` keeps those whose id, name or email holds it.',
    request: { query: customerListQuery },
    responses: { 200: json(page(customerSchema), 'A page of customers') },
  }, async (c) => {
    const q = c.req.valid('query')
    const list = await rangeErrors(() => reporting().customers(c.get('principal').tenantId, { search: q.search, cursor: q.cursor, limit: q.limit }))
    return c.json({
      data: list.data.map((r) => ({ id: r.id, name: r.name, email: r.email, timezone: r.timezone, createdAt: formatTimestamp(r.createdAtMs) })),
      nextCursor: list.nextCursor,
    })
  })

  route(app, {
    method: 'get', path: '/config/versions', tags: ['Configuration'], summary: 'List configuration versions',
    description: 'Every configuration applied, newest first: each version is kept, and subscriptions keep the plans of the version they started under.',
    request: { query: pageQuery },
    responses: { 200: json(page(configVersionSchema), 'A page of configuration versions') },
  }, async (c) => {
    const q = c.req.valid('query')
    const list = await rangeErrors(() => reporting().configVersions(c.get('principal').tenantId, { cursor: q.cursor, limit: q.limit }))
    return c.json({
      data: list.data.map((v) => ({ version: v.version, appliedAt: formatTimestamp(v.appliedAtMs), keyId: v.keyId, config: v.config as unknown as Record<string, unknown> })),
      nextCursor: list.nextCursor,
    })
  })

  return app
}

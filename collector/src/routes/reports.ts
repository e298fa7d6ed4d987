// Reporting endpoints of the console: revenue, usage revenue, credit flows and active customers
// by month, the ingest rate, and the customer list with search. Computed in the engine from
// invoices, the ledger, subscriptions and indexes (packages/engine/src/reporting).
import { INGEST_BUCKETS, type ReportPeriod, USAGE_REVENUE_DIMENSIONS, type UsageRevenueDimension } from '@meterkit/engine'
import { formatTimestamp } from '@meterkit/protocol'
import { Hono } from 'hono'
import { z } from 'zod'
import type { AppContext } from '../app.js'
import { HttpError } from '../http-error.js'
import type { AuthEnv } from '../middleware/auth.js'
import { limitParam } from './events.js'
import { parseQuery, queryInstant, rangeErrors, rangeQuerySchema, reportRange } from './report-query.js'

export const usageRevenueQuerySchema = rangeQuerySchema.extend({
  groupBy: z.string().refine(
    (s) => s.split(',').every((d) => (USAGE_REVENUE_DIMENSIONS as readonly string[]).includes(d.trim())),
    `must list some of ${USAGE_REVENUE_DIMENSIONS.join(', ')}, separated by commas`,
  ).optional(),
})
export const ingestQuerySchema = z.object({
  from: queryInstant.optional(),
  to: queryInstant.optional(),
  bucket: z.enum(['minute', 'hour']).optional(),
})
export const customerListQuerySchema = z.object({
  search: z.string().max(256).optional(),
  cursor: z.string().optional(),
  limit: z.string().optional(),
})

const period = (p: ReportPeriod) => ({ month: p.month, start: formatTimestamp(p.startMs), end: formatTimestamp(p.endMs) })

export function reportRoutes(ctx: AppContext) {
  const app = new Hono<AuthEnv>()
  const reporting = () => {
    if (ctx.reporting === undefined) throw new HttpError('unavailable', 'this store does not answer reports')
    return ctx.reporting
  }
  const range = (q: { from?: string; to?: string }) => {
    const r = reportRange(q, ctx.clock.now())
    return { ...r, view: { from: formatTimestamp(r.fromMs), to: formatTimestamp(r.toMs) } }
  }

  app.get('/reports/revenue', async (c) => {
    const r = range(parseQuery(rangeQuerySchema, c.req.query()))
    const months = await rangeErrors(() => reporting().revenue(c.get('principal').tenantId, r))
    return c.json({ ...r.view, data: months.map((m) => ({ ...period(m), totals: m.totals })) })
  })

  app.get('/reports/usage-revenue', async (c) => {
    const q = parseQuery(usageRevenueQuerySchema, c.req.query())
    const r = range(q)
    const groupBy = (q.groupBy?.split(',').map((d) => d.trim()) ?? ['plan', 'meter']) as UsageRevenueDimension[]
    const rows = await rangeErrors(() => reporting().usageRevenue(c.get('principal').tenantId, r, groupBy))
    return c.json({ ...r.view, groupBy, data: rows })
  })

  app.get('/reports/credits', async (c) => {
    const r = range(parseQuery(rangeQuerySchema, c.req.query()))
    const months = await rangeErrors(() => reporting().credits(c.get('principal').tenantId, r))
    return c.json({ ...r.view, data: months.map((m) => ({ ...period(m), granted: m.granted, burned: m.burned, expired: m.expired, voided: m.voided })) })
  })

  app.get('/reports/active-customers', async (c) => {
    const r = range(parseQuery(rangeQuerySchema, c.req.query()))
    const months = await rangeErrors(() => reporting().activeCustomers(c.get('principal').tenantId, r))
    return c.json({ ...r.view, data: months.map((m) => ({ ...period(m), customers: m.customers })) })
  })

  // Events per minute or hour by event time, by default the last 24 hours by hour.
  app.get('/reports/ingest', async (c) => {
    const q = parseQuery(ingestQuerySchema, c.req.query())
    const bucket = q.bucket ?? 'hour'
    const toMs = q.to === undefined ? ctx.clock.now() : Date.parse(q.to)
    const fromMs = q.from === undefined ? toMs - (bucket === 'hour' ? 24 : 1) * INGEST_BUCKETS.hour : Date.parse(q.from)
    const points = await rangeErrors(() => reporting().ingest(c.get('principal').tenantId, { fromMs, toMs }, bucket))
    return c.json({
      from: formatTimestamp(fromMs), to: formatTimestamp(toMs), bucket,
      data: points.map((p) => ({ start: formatTimestamp(p.startMs), end: formatTimestamp(p.endMs), events: p.events })),
    })
  })

  app.get('/customers', async (c) => {
    const q = parseQuery(customerListQuerySchema, c.req.query())
    const page = await rangeErrors(() => reporting().customers(c.get('principal').tenantId, { search: q.search, cursor: q.cursor, limit: limitParam(q.limit) }))
    return c.json({
      data: page.data.map((r) => ({ id: r.id, name: r.name, email: r.email, timezone: r.timezone, createdAt: formatTimestamp(r.createdAtMs) })),
      nextCursor: page.nextCursor,
    })
  })

  return app
}

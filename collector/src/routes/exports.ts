// CSV exports for finance: invoices, invoice lines, ledger entries, and usage by customer and
// meter over a range. Streamed page by page (each page one read transaction), any size, with
// RFC 4180 quoting (csv.ts). Amounts are the API's exact decimal strings.
import { z } from '@hono/zod-openapi'
import type { Invoice } from '@meterkit/engine'
import { formatTimestamp, MAX_LIST_LIMIT, parseRfc3339 } from '@meterkit/protocol'
import type { Context } from 'hono'
import type { AppContext } from '../app.js'
import { HttpError } from '../http-error.js'
import { api, instant, route } from '../openapi/index.js'
import { invoiceJson } from './billing-views.js'
import { type CsvField, csvStream } from './csv.js'
import { rangeErrors, reportRange } from './report-query.js'

const tags = ['Reports']
const customerQuery = z.string().min(1).optional().meta({ description: 'Only this customer (default: every customer)' })

const invoiceExportQuery = z.object({
  customerId: customerQuery,
  from: instant.optional().meta({ description: 'Invoices whose period ends at or after this instant' }),
  to: instant.optional().meta({ description: 'Invoices whose period ends before this instant' }),
})
const ledgerExportQuery = z.object({ customerId: customerQuery })
const usageExportQuery = z.object({
  from: instant.optional().meta({ description: 'Default: the start of the UTC month eleven months before `to`' }),
  to: instant.optional().meta({ description: 'Default: now' }),
  meter: z.string().min(1).optional().meta({ description: 'Only this meter (default: every meter of the configuration)' }),
  customerId: customerQuery,
  window: z.enum(['none', 'day', 'month']).optional().meta({ description: 'One record per customer, meter and bucket (default none: the whole range)' }),
})

/** A CSV answer with its columns, for the document. */
function csvAnswer(columns: readonly string[], what: string) {
  return {
    200: {
      description: `${what}: RFC 4180 CSV (CRLF records, quoted where a field holds a comma, quote or line break), streamed. Columns: ${columns.map((c) => `\`${c}\``).join(', ')}.`,
      content: { 'text/csv': { schema: z.string() } },
    },
  }
}

export const INVOICE_COLUMNS = ['id', 'number', 'customerId', 'subscriptionId', 'status', 'periodStart', 'periodEnd', 'currency',
  'subtotal', 'creditsApplied', 'total', 'amountPaid', 'amountDue', 'createdAt', 'finalizedAt'] as const
export const LINE_COLUMNS = ['invoiceId', 'invoiceNumber', 'customerId', 'invoiceStatus', 'currency', 'lineId', 'chargeKey', 'kind',
  'description', 'quantity', 'amount', 'credits', 'dimension', 'periodStart', 'periodEnd', 'eventCount'] as const
export const LEDGER_COLUMNS = ['customerId', 'id', 'type', 'credits', 'balanceAfter', 'at', 'grantId', 'eventIds', 'invoiceId', 'reservationId', 'held', 'reason'] as const
export const USAGE_COLUMNS = ['customerId', 'meter', 'start', 'end', 'value'] as const

const PAGE = MAX_LIST_LIMIT

function csvResponse(c: Context, name: string, header: readonly string[], rows: AsyncIterable<CsvField[][]>) {
  return c.body(csvStream(header, rows), 200, {
    'content-type': 'text/csv; charset=utf-8; header=present',
    'content-disposition': `attachment; filename="${name}"`,
    'cache-control': 'no-store',
  })
}

export function exportRoutes(ctx: AppContext) {
  const app = api()

  /** Every invoice (of a customer), newest first; with a range, those whose period ends in it. */
  async function* invoicePages(tenantId: number, q: z.infer<typeof invoiceExportQuery>): AsyncGenerator<Invoice[]> {
    const fromMs = q.from === undefined ? Number.NEGATIVE_INFINITY : parseRfc3339(q.from)!
    const toMs = q.to === undefined ? Number.POSITIVE_INFINITY : parseRfc3339(q.to)!
    let cursor: string | undefined
    do {
      const page = await ctx.store.billing.listInvoices(tenantId, { customerId: q.customerId, cursor, limit: PAGE })
      yield page.data.filter((i) => i.periodEndMs >= fromMs && i.periodEndMs < toMs)
      cursor = page.nextCursor ?? undefined
    } while (cursor !== undefined)
  }

  /** Customers by id: the one asked for, or every customer of the tenant. */
  async function* customerIds(tenantId: number, only: string | undefined): AsyncGenerator<string> {
    if (only !== undefined) {
      if ((await ctx.store.getCustomer(tenantId, only)) === undefined) return
      yield only
      return
    }
    let cursor: string | undefined
    do {
      const page = await ctx.reporting!.customers(tenantId, { cursor, limit: PAGE })
      for (const r of page.data) yield r.id
      cursor = page.nextCursor ?? undefined
    } while (cursor !== undefined)
  }

  const requireCustomer = async (tenantId: number, id: string | undefined) => {
    if (id !== undefined && (await ctx.store.getCustomer(tenantId, id)) === undefined) throw new HttpError('not_found', 'no customer with this id')
  }

  route(app, {
    method: 'get', path: '/invoices.csv', tags, summary: 'Export invoices (CSV)',
    description: 'Every invoice, newest first, as the API shows them.',
    request: { query: invoiceExportQuery },
    responses: csvAnswer(INVOICE_COLUMNS, 'Invoices'),
  }, async (c) => {
    const q = c.req.valid('query')
    const tenantId = c.get('principal').tenantId
    await requireCustomer(tenantId, q.customerId)
    async function* rows() {
      for await (const page of invoicePages(tenantId, q)) {
        yield page.map((i): CsvField[] => {
          const v = invoiceJson(i)
          return [v.id, v.number, v.customerId, v.subscriptionId, v.status, v.periodStart, v.periodEnd, v.currency, v.subtotal,
            v.creditsApplied, v.total, v.amountPaid, v.amountDue, v.createdAt, i.finalizedAtMs === null ? null : formatTimestamp(i.finalizedAtMs)]
        })
      }
    }
    return csvResponse(c, 'invoices.csv', INVOICE_COLUMNS, rows())
  })

  route(app, {
    method: 'get', path: '/invoice-lines.csv', tags, summary: 'Export invoice lines (CSV)',
    description: 'Every line of every invoice, invoices newest first, lines in order.',
    request: { query: invoiceExportQuery },
    responses: csvAnswer(LINE_COLUMNS, 'Invoice lines'),
  }, async (c) => {
    const q = c.req.valid('query')
    const tenantId = c.get('principal').tenantId
    await requireCustomer(tenantId, q.customerId)
    async function* rows() {
      for await (const page of invoicePages(tenantId, q)) {
        yield page.flatMap((i) => {
          const v = invoiceJson(i)
          return v.lines.map((l): CsvField[] => [v.id, v.number, v.customerId, v.status, v.currency, l.id, l.chargeKey, l.kind, l.description,
            l.quantity, l.amount, l.credits, l.dimension === undefined ? null : JSON.stringify(l.dimension), l.periodStart, l.periodEnd, l.eventCount])
        })
      }
    }
    return csvResponse(c, 'invoice-lines.csv', LINE_COLUMNS, rows())
  })

  route(app, {
    method: 'get', path: '/ledger.csv', tags, summary: 'Export ledger entries (CSV)',
    description: 'Every credit ledger entry, customer by customer (by id), oldest first; `eventIds` separated by spaces.',
    request: { query: ledgerExportQuery },
    responses: csvAnswer(LEDGER_COLUMNS, 'Ledger entries'),
  }, async (c) => {
    const q = c.req.valid('query')
    const tenantId = c.get('principal').tenantId
    await requireCustomer(tenantId, q.customerId)
    async function* rows() {
      for await (const customerId of customerIds(tenantId, q.customerId)) {
        let cursor: string | undefined
        do {
          const page = await ctx.store.credits.ledger(tenantId, customerId, { cursor, limit: PAGE })
          yield page.data.map((e): CsvField[] => [customerId, e.id, e.type, e.credits, e.balanceAfter, e.at, e.grantId, e.eventIds?.join(' '),
            e.invoiceId, e.reservationId, e.held, e.reason])
          cursor = page.nextCursor ?? undefined
        } while (cursor !== undefined)
      }
    }
    return csvResponse(c, 'ledger.csv', LEDGER_COLUMNS, rows())
  })

  // Usage from the rollups: one record per customer, meter and bucket (`window`, default none:
  // the whole range), by default every meter of the configuration and the twelve months to now.
  route(app, {
    method: 'get', path: '/usage.csv', tags, summary: 'Export usage by customer and meter (CSV)',
    description: 'Usage from the rollups, customer by customer (by id), meter by meter, exact decimals.',
    request: { query: usageExportQuery },
    responses: csvAnswer(USAGE_COLUMNS, 'Usage'),
  }, async (c) => {
    const q = c.req.valid('query')
    const tenantId = c.get('principal').tenantId
    await requireCustomer(tenantId, q.customerId)
    const { fromMs, toMs } = reportRange(q, ctx.clock.now())
    const { config } = await ctx.store.getConfig(tenantId)
    const meters = config.meters.map((m) => m.key).filter((k) => q.meter === undefined || k === q.meter)
    if (q.meter !== undefined && meters.length === 0) throw new HttpError('invalid_request', `meter: no meter ${q.meter} in the configuration`)
    const window = q.window ?? 'none'
    async function* rows() {
      for await (const customerId of customerIds(tenantId, q.customerId)) {
        const records: CsvField[][] = []
        for (const meter of meters) {
          const usage = await rangeErrors(() => ctx.store.usage(tenantId, { customerId, meter, fromMs, toMs, window, groupBy: [] }))
          if ('error' in usage) throw new Error(usage.error)
          if (window === 'none') records.push([customerId, meter, usage.from, usage.to, usage.value])
          else for (const b of usage.buckets ?? []) records.push([customerId, meter, b.start, b.end, b.value])
        }
        yield records
      }
    }
    return csvResponse(c, 'usage.csv', USAGE_COLUMNS, rows())
  })

  return app
}

// Customers, and their metered usage with the exact events behind it.
import { isValidTimeZone } from '@meterkit/engine'
import { type JsonValue, MAX_CUSTOMER_ID_LENGTH, formatTimestamp, parseRfc3339 } from '@meterkit/protocol'
import { type Context, Hono } from 'hono'
import { z } from 'zod'
import type { AppContext } from '../app.js'
import { HttpError } from '../http-error.js'
import type { AuthEnv } from '../middleware/auth.js'
import { limitParam } from './events.js'
import { readJsonBody } from './json.js'

const customerSchema = z.object({
  id: z.string().min(1).max(MAX_CUSTOMER_ID_LENGTH),
  name: z.string().max(500).nullable().optional(),
  email: z.string().max(320).nullable().optional(),
  timezone: z.string().refine(isValidTimeZone, 'must be an IANA time zone such as Europe/Paris').optional(),
  metadata: z.record(z.string(), z.json()).nullable().optional(),
}).strict()

const DAY_MS = 86_400_000
const WINDOWS = ['hour', 'day', 'month', 'none'] as const

function instant(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback
  const ms = parseRfc3339(value)
  if (ms === undefined) throw new HttpError('invalid_request', `${name}: must be an RFC 3339 date-time`)
  return ms
}

/** The range asked for; by default the customer's current billing period so far, or the last 30 days. */
function range(q: Record<string, string>, nowMs: number, periodStartMs?: number): { fromMs: number; toMs: number } {
  const toMs = instant('to', q.to, nowMs)
  const fromMs = instant('from', q.from, q.to === undefined && periodStartMs !== undefined ? periodStartMs : toMs - 30 * DAY_MS)
  if (fromMs >= toMs) throw new HttpError('invalid_request', 'from: must be before to')
  if (toMs - fromMs > 5 * 366 * DAY_MS) throw new HttpError('invalid_request', 'to: a range is at most 5 years')
  return { fromMs, toMs }
}

export function customerRoutes(ctx: AppContext) {
  const app = new Hono<AuthEnv>()

  const customerView = (c: Awaited<ReturnType<typeof ctx.store.getCustomer>> & object) => ({
    id: c.id, name: c.name, email: c.email, timezone: c.timezone, metadata: c.metadata, createdAt: formatTimestamp(c.createdAtMs),
  })

  async function requireCustomer(tenantId: number, id: string) {
    const customer = await ctx.store.getCustomer(tenantId, id)
    if (customer === undefined) throw new HttpError('not_found', 'no customer with this id')
    return customer
  }

  app.post('/', async (c) => {
    const input = await readJsonBody(c.req.raw, customerSchema)
    const { customer, created } = await ctx.store.putCustomer(c.get('principal').tenantId, input as Parameters<typeof ctx.store.putCustomer>[1], ctx.clock.now())
    return c.json(customerView(customer), created ? 201 : 200)
  })

  app.get('/:id', async (c) => c.json(customerView(await requireCustomer(c.get('principal').tenantId, c.req.param('id')))))

  async function currentPeriodStart(tenantId: number, customerId: string): Promise<number | undefined> {
    const now = ctx.clock.now()
    const active = (await ctx.store.billing.listSubscriptions(tenantId, customerId, now)).find((s) => s.status === 'active' && s.currentPeriod !== null)
    return active?.currentPeriod?.startMs
  }

  /** The customer (404 when not this tenant's) and the meter of a usage request. */
  async function usageTarget(c: Context<AuthEnv>) {
    const tenantId = c.get('principal').tenantId
    const customerId = c.req.param('id')!
    await requireCustomer(tenantId, customerId)
    const q = c.req.query()
    if (!q.meter) throw new HttpError('invalid_request', 'meter: is required')
    return { tenantId, customerId, meter: q.meter, q }
  }

  app.get('/:id/usage', async (c) => {
    const { tenantId, customerId, meter, q } = await usageTarget(c)
    const window = (q.window ?? 'none') as (typeof WINDOWS)[number]
    if (!WINDOWS.includes(window)) throw new HttpError('invalid_request', 'window: must be hour, day, month or none')
    const result = await ctx.store.usage(tenantId, {
      customerId,
      meter,
      ...range(q, ctx.clock.now(), await currentPeriodStart(tenantId, customerId)),
      window,
      groupBy: q.groupBy ? q.groupBy.split(',').map((s) => s.trim()).filter(Boolean) : [],
    })
    if ('error' in result) throw new HttpError('invalid_request', result.error)
    return c.json(result)
  })

  // The exact source events behind a usage figure: ?meter&from&to&group.<dim>=<value JSON or text>
  app.get('/:id/usage/events', async (c) => {
    const { tenantId, customerId, meter, q } = await usageTarget(c)
    const group: Record<string, JsonValue> = {}
    for (const [k, v] of Object.entries(q)) {
      if (!k.startsWith('group.')) continue
      try {
        group[k.slice(6)] = JSON.parse(v) as JsonValue
      } catch {
        group[k.slice(6)] = v
      }
    }
    const page = await ctx.store.usageEvents(tenantId, {
      customerId, meter, ...range(q, ctx.clock.now(), await currentPeriodStart(tenantId, customerId)), group, cursor: q.cursor, limit: limitParam(q.limit),
    })
    if ('error' in page) throw new HttpError('invalid_request', page.error)
    return c.json({
      data: page.data.map((e) => ({ id: e.id, timestamp: formatTimestamp(e.timestampMs), value: e.value, group: e.group })),
      nextCursor: page.nextCursor,
    })
  })

  return app
}

// GET /v1/customers/:id/stream: the customer's figures as server-sent events named `usage` (and
// `balance`, once balances publish), each in the shape of its route, sent as they change; a
// secret key or that customer's token (also as ?token=, since EventSource cannot set headers).
// `?meters=a,b` narrows the stream; Last-Event-ID (or ?lastEventId=) resumes it.
import type { Context } from 'hono'
import type { AppContext } from '../app.js'
import { HttpError } from '../http-error.js'
import { type AuthEnv, requireCustomerAccess } from '../middleware/auth.js'
import { sseStream } from '../live/index.js'

/** How long EventSource waits before reconnecting, in ms (sent once per stream). */
const RECONNECT_MS = 2000

export function streamRoute(ctx: AppContext) {
  return async (c: Context<AuthEnv>) => {
    const principal = c.get('principal')
    const customerId = c.req.param('id')!
    requireCustomerAccess(principal, customerId)
    if ((await ctx.store.getCustomer(principal.tenantId, customerId)) === undefined) throw new HttpError('not_found', 'no customer with this id')
    const meters = c.req.query('meters')?.split(',').map((m) => m.trim()).filter(Boolean)
    const wanted = meters === undefined || meters.length === 0 ? undefined : new Set(meters)
    let unsubscribe = () => {}
    const { response, subscriber } = sseStream({
      accepts: (key) => wanted === undefined || !key.startsWith('usage:') || wanted.has(key.slice('usage:'.length)),
      expiresAtMs: principal.kind === 'customer' ? principal.expiresAtMs : undefined,
      signal: c.req.raw.signal,
      onClose: () => unsubscribe(),
    })
    // The first bytes go out at once, so that the client's `open` fires before any figure.
    subscriber.write(`retry: ${RECONNECT_MS}\n: connected\n\n`)
    const lastEventId = c.req.header('last-event-id') ?? c.req.query('lastEventId')
    unsubscribe = ctx.live.subscribe(principal.tenantId, customerId, subscriber, lastEventId)
    return response
  }
}

// GET /v1/customers/:id/stream: the customer's figures as server-sent events named `usage` (and
// `balance`, once balances publish), each in the shape of its route, sent as they change; a
// secret key or that customer's token (also as ?token=, since EventSource cannot set headers).
// `?meters=a,b` narrows the stream; Last-Event-ID (or ?lastEventId=) resumes it.
import { z } from '@hono/zod-openapi'
import type { AppContext } from '../app.js'
import { HttpError } from '../http-error.js'
import { requireCustomerAccess } from '../middleware/auth.js'
import { sseStream } from '../live/index.js'
import { api, pathParams, route } from '../openapi/index.js'

/** How long EventSource waits before reconnecting, in ms (sent once per stream). */
const RECONNECT_MS = 2000

/** The router of GET /{id}/stream, mounted at /v1/customers. */
export function streamRoutes(ctx: AppContext) {
  const app = api()
  route(app, {
    method: 'get', path: '/{id}/stream', tags: ['Customers'], summary: 'Stream a customer\'s figures live',
    description: 'Server-sent events named `usage` (each in the shape of GET /v1/customers/{id}/usage) and `balance` (the shape of GET /v1/customers/{id}/balance), sent as they change. Resume with `Last-Event-ID` (or `?lastEventId=`). A customer token\'s stream ends when the token expires.',
    request: {
      params: pathParams('id'),
      query: z.object({
        meters: z.string().optional().meta({ description: 'Comma-separated meter keys: only their usage is sent' }),
        lastEventId: z.string().optional().meta({ description: 'Resume after this event (for clients that cannot set Last-Event-ID)' }),
      }),
    },
    responses: { 200: { description: 'A stream of server-sent events', content: { 'text/event-stream': { schema: z.string() } } } },
  }, async (c) => {
    const principal = c.get('principal')
    const customerId = c.req.valid('param').id
    requireCustomerAccess(principal, customerId)
    if ((await ctx.store.getCustomer(principal.tenantId, customerId)) === undefined) throw new HttpError('not_found', 'no customer with this id')
    const query = c.req.valid('query')
    const meters = query.meters?.split(',').map((m) => m.trim()).filter(Boolean)
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
    const lastEventId = c.req.header('last-event-id') ?? query.lastEventId
    unsubscribe = ctx.live.subscribe(principal.tenantId, customerId, subscriber, lastEventId)
    return response
  })
  return app
}

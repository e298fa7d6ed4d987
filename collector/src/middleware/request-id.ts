// `x-request-id` on every request and response: a sane incoming one (1–128 characters of
// A-Za-z0-9_-=) is kept so a proxy's id follows the request through; any other is replaced.
import { requestId as honoRequestId } from 'hono/request-id'
import { createMiddleware } from 'hono/factory'

export const REQUEST_ID_HEADER = 'x-request-id'

export function requestId() {
  const assign = honoRequestId({ headerName: REQUEST_ID_HEADER, limitLength: 128 })
  return createMiddleware<{ Variables: { requestId: string } }>(async (c, next) => {
    await assign(c, next)
    // Answers built as a whole Response (streams, errors) carry it too.
    if (!c.res.headers.has(REQUEST_ID_HEADER)) {
      try {
        c.res.headers.set(REQUEST_ID_HEADER, c.get('requestId'))
      } catch {
        c.res = new Response(c.res.body, c.res)
        c.res.headers.set(REQUEST_ID_HEADER, c.get('requestId'))
      }
    }
  })
}

/** The request's id, from any handler's context (whatever variables its app declares). */
export function requestIdOf(c: { var: object }): string | undefined {
  return (c.var as { requestId?: string }).requestId
}

// A server span per request, continuing the caller's trace when it sends `traceparent`.
import { SpanKind, SpanStatusCode, type Tracer, context, propagation } from '@opentelemetry/api'
import { createMiddleware } from 'hono/factory'

const headerGetter = {
  keys: (carrier: Headers) => [...carrier.keys()],
  get: (carrier: Headers, key: string) => carrier.get(key) ?? undefined,
}

export function tracing(tracer: Tracer) {
  return createMiddleware<{ Variables: { requestId: string } }>(async (c, next) => {
    const parent = propagation.extract(context.active(), c.req.raw.headers, headerGetter)
    const path = new URL(c.req.url).pathname
    await tracer.startActiveSpan(
      c.req.method,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': c.req.method, 'url.path': path, 'meterkit.request_id': c.get('requestId') } },
      parent,
      async (span) => {
        try {
          await next()
          // The route is known once matched: the span is named after it, not the raw path.
          span.updateName(`${c.req.method} ${c.req.routePath}`)
          span.setAttribute('http.route', c.req.routePath)
          span.setAttribute('http.response.status_code', c.res.status)
          if (c.res.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR })
        } finally {
          span.end()
        }
      },
    )
  })
}

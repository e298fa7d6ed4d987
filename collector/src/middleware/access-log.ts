// One log line per request: method, path, route, status, duration and the request id. The query
// string is left out (customer tokens may travel in it); probes and scrapes log at debug only.
import type { Logger } from 'pino'
import { createMiddleware } from 'hono/factory'

const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics'])

export function accessLog(logger: Logger) {
  return createMiddleware<{ Variables: { requestId: string; principal?: { tenantId: number } } }>(async (c, next) => {
    const started = performance.now()
    await next()
    const path = new URL(c.req.url).pathname
    const status = c.res.status
    const level = status >= 500 ? 'error' : QUIET_PATHS.has(path) ? 'debug' : 'info'
    if (!logger.isLevelEnabled(level)) return
    logger[level](
      {
        requestId: c.get('requestId'),
        method: c.req.method,
        path,
        route: c.req.routePath,
        status,
        durationMs: Math.round((performance.now() - started) * 1000) / 1000,
        tenantId: c.get('principal')?.tenantId,
      },
      'request',
    )
  })
}

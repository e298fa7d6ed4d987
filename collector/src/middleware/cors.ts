// CORS for the routes a customer token may use: a customer's pages call them from the tenant's
// own origins. Preflights carry no credentials, so the tenant (and its `browser.origins`) is
// known only when the token is in the URL; otherwise the preflight is allowed and the request
// itself is refused (403, before it does anything) when its Origin is not listed.
import { createMiddleware } from 'hono/factory'
import type { TenantConfigs } from '../tenant-configs.js'
import type { CustomerTokens } from '../tokens.js'
import { tokenRoute, tokenRouteAt } from './token-routes.js'

const ALLOW_HEADERS = 'Authorization, Content-Type, Last-Event-ID'
/** How long a browser may reuse a preflight answer, in seconds. */
const PREFLIGHT_MAX_AGE = '600'

export class OriginPolicy {
  constructor(private readonly configs: TenantConfigs) {}

  /** No `browser.origins` in the configuration: any origin; otherwise only those listed (or "*"). */
  async allows(tenantId: number, origin: string): Promise<boolean> {
    const origins = (await this.configs.get(tenantId)).config.browser?.origins
    return origins === undefined || origins.includes('*') || origins.includes(origin)
  }
}

export function cors(deps: { origins: OriginPolicy; tokens: CustomerTokens; now: () => number }) {
  return createMiddleware(async (c, next) => {
    const url = new URL(c.req.url)
    const route = tokenRouteAt(url.pathname)
    const origin = c.req.header('origin')
    if (route === undefined || origin === undefined) return next()

    if (c.req.method === 'OPTIONS') {
      const headers: Record<string, string> = { vary: 'Origin' }
      const method = c.req.header('access-control-request-method')
      let allowed = method === route.method || (method === 'HEAD' && route.method === 'GET')
      const token = url.searchParams.get('token')
      if (allowed && token !== null) {
        const checked = await deps.tokens.verify(token, deps.now())
        // A bad token is refused by the request itself, with an answer the page can read.
        if (checked.ok) allowed = await deps.origins.allows(checked.principal.tenantId, origin)
      }
      if (allowed) {
        headers['access-control-allow-origin'] = origin
        headers['access-control-allow-methods'] = `${route.method}, OPTIONS`
        headers['access-control-allow-headers'] = ALLOW_HEADERS
        headers['access-control-max-age'] = PREFLIGHT_MAX_AGE
      }
      return c.body(null, 204, headers)
    }

    if (tokenRoute(c.req.method, url.pathname) === undefined) return next()
    await next()
    // Every answer is readable, errors included, so that a page can tell an expired token.
    c.res.headers.set('access-control-allow-origin', origin)
    c.res.headers.set('access-control-expose-headers', 'Retry-After')
    c.res.headers.append('vary', 'Origin')
  })
}

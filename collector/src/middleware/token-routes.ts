// The routes a customer token may use (CONTRACT §4), and nothing else: a route added later stays
// closed to tokens until it is listed here. Matched on the raw path, the customer id decoded.

export interface TokenRoute {
  method: 'GET' | 'POST'
  /** The customer named in the path; undefined where the body names it (quotes, events). */
  customerId: string | undefined
  /** Whether the token may come as `?token=`: unload beacons and EventSource cannot set headers. */
  queryToken: boolean
  /** Whether the route sends events (needs a token minted with `ingest`). */
  ingest: boolean
}

const CUSTOMER_ROUTES: Record<string, { segments: readonly number[]; queryToken: boolean }> = {
  usage: { segments: [5], queryToken: false },
  balance: { segments: [5], queryToken: false },
  stream: { segments: [5], queryToken: true },
  entitlements: { segments: [6], queryToken: false },
  // The customer portal: what each charge cost (the ledger), the invoices, the upcoming one.
  ledger: { segments: [5], queryToken: false },
  invoices: { segments: [5, 6], queryToken: false },
}

function decode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment)
  } catch {
    return undefined
  }
}

/** The token route at `path` whatever the method (preflights ask before the method is known). */
export function tokenRouteAt(path: string): TokenRoute | undefined {
  if (path === '/v1/events') return { method: 'POST', customerId: undefined, queryToken: true, ingest: true }
  if (path === '/v1/quotes') return { method: 'POST', customerId: undefined, queryToken: false, ingest: false }
  const parts = path.split('/') // ['', 'v1', 'customers', id, route, feature?]
  if (parts[1] !== 'v1' || parts[2] !== 'customers') return undefined
  const route = CUSTOMER_ROUTES[parts[4] ?? '']
  if (route === undefined || !route.segments.includes(parts.length) || parts.slice(3).some((p) => p === '')) return undefined
  const customerId = decode(parts[3]!)
  if (customerId === undefined) return undefined
  return { method: 'GET', customerId, queryToken: route.queryToken, ingest: false }
}

export function tokenRoute(method: string, path: string): TokenRoute | undefined {
  const route = tokenRouteAt(path)
  return route !== undefined && (route.method === method || (method === 'HEAD' && route.method === 'GET')) ? route : undefined
}

// Which key scope each route needs (docs/decisions/0008-key-scopes-and-test-mode.md). Default
// deny: a route not named here needs `admin`, so a route added later is closed to narrower keys
// until it is listed. Matched on the raw path.
import type { KeyScope } from '@meterkit/engine'

/** What workers do: send events, hold credits for a job and release them. */
function isIngest(method: string, path: string): boolean {
  if (method !== 'POST') return false
  if (path === '/v1/events' || path === '/v1/reservations') return true
  return /^\/v1\/reservations\/[^/]+\/release$/.test(path)
}

/** Reads of tenant data, and the POSTs that only compute (quotes, simulations) or mint a customer token. */
function isRead(method: string, path: string): boolean {
  if (method === 'GET' || method === 'HEAD') return !(path === '/v1/keys' || path.startsWith('/v1/keys/'))
  // A token minted with `ingest` also needs the ingest scope (routes/customer-tokens.ts).
  return method === 'POST' && (path === '/v1/quotes' || path === '/v1/simulations' || path === '/v1/customer-tokens')
}

export function requiredScope(method: string, path: string): KeyScope {
  if (isIngest(method, path)) return 'ingest'
  if (isRead(method, path)) return 'read'
  return 'admin'
}

// Authentication: secret keys (`mk_sec_…`, looked up by SHA-256 hash, answers cached briefly so
// the hot path does not hit the database per request) and customer tokens (`mk_ct_…`, checked by
// signature), each resolved to a principal. A token reaches only the routes of token-routes.ts,
// for its own customer.
import { CUSTOMER_TOKEN_PREFIX, type Clock, hashKey, type Store } from '@meterkit/engine'
import { createMiddleware } from 'hono/factory'
import { HttpError } from '../http-error.js'
import type { CustomerTokens } from '../tokens.js'
import type { OriginPolicy } from './cors.js'
import { tokenRoute } from './token-routes.js'

export interface SecretPrincipal {
  kind: 'secret'
  tenantId: number
  keyId: string
}

/** A customer token's holder: one customer's browser. */
export interface CustomerPrincipal {
  kind: 'customer'
  tenantId: number
  /** The secret key that minted the token. */
  keyId: string
  customerId: string
  /** Event names the token may send; undefined: the token is read-only. */
  ingestEvents: ReadonlySet<string> | undefined
  expiresAtMs: number
}

export type Principal = SecretPrincipal | CustomerPrincipal

export type AuthEnv = { Variables: { principal: Principal } }

export interface KeyCacheOptions {
  /** How long a key's lookup is reused, in ms (a key revoked by another process stops working within it). */
  ttlMs: number
  now: () => number
}

/** Resolves bearer keys to principals, caching hits for `ttlMs`. */
export class KeyResolver {
  private readonly cache = new Map<string, { principal: SecretPrincipal | null; until: number }>()
  private readonly active = new Map<string, { active: boolean; until: number }>()

  constructor(private readonly store: Store, private readonly options: KeyCacheOptions) {}

  async resolve(key: string): Promise<SecretPrincipal | null> {
    const now = this.options.now()
    const hit = this.cache.get(key)
    if (hit !== undefined && hit.until > now) return hit.principal
    const record = await this.store.findApiKeyByHash(hashKey(key))
    const principal: SecretPrincipal | null = record !== undefined && record.revokedAtMs === null
      ? { kind: 'secret', tenantId: record.tenantId, keyId: record.id }
      : null
    if (this.cache.size > 10_000) this.cache.clear()
    // Misses are cached too, but only for a moment: a key created elsewhere works almost at once.
    this.cache.set(key, { principal, until: now + (principal ? this.options.ttlMs : Math.min(this.options.ttlMs, 1000)) })
    return principal
  }

  /** Whether the tenant's key `keyId` exists and is not revoked (tokens die with their key). */
  async isActive(tenantId: number, keyId: string): Promise<boolean> {
    const now = this.options.now()
    const id = `${tenantId}:${keyId}`
    const hit = this.active.get(id)
    if (hit !== undefined && hit.until > now) return hit.active
    const record = await this.store.getApiKey(tenantId, keyId)
    const active = record !== undefined && record.revokedAtMs === null
    if (this.active.size > 10_000) this.active.clear()
    this.active.set(id, { active, until: now + this.options.ttlMs })
    return active
  }

  /** Forgets cached answers for a key id (after a revoke in this process). */
  forgetKeyId(keyId: string): void {
    for (const [key, entry] of this.cache) if (entry.principal?.keyId === keyId) this.cache.delete(key)
    for (const id of this.active.keys()) if (id.endsWith(`:${keyId}`)) this.active.delete(id)
  }
}

export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
  return match?.[1]
}

export interface AuthDeps {
  keys: KeyResolver
  tokens: CustomerTokens
  origins: OriginPolicy
  clock: Clock
}

/** Resolves the request's credential to a principal, or answers 401/403/404 (see the file's head). */
export function authenticate(deps: AuthDeps) {
  return createMiddleware<AuthEnv>(async (c, next) => {
    const url = new URL(c.req.url)
    const route = tokenRoute(c.req.method, url.pathname)
    const header = c.req.header('authorization')
    const fromQuery = header === undefined && route?.queryToken === true ? url.searchParams.get('token') ?? undefined : undefined
    const credential = fromQuery ?? bearerToken(header)
    if (credential === undefined) throw new HttpError('unauthorized', 'missing credentials: send Authorization: Bearer <key>')

    if (credential.startsWith(CUSTOMER_TOKEN_PREFIX)) {
      const checked = await deps.tokens.verify(credential, deps.clock.now())
      if (!checked.ok) throw new HttpError('unauthorized', checked.message)
      const principal = checked.principal
      if (route === undefined) {
        throw new HttpError('forbidden', 'a customer token may only read its customer\'s usage, balance, entitlements, stream and quotes, and send the events it allows')
      }
      if (route.customerId !== undefined && route.customerId !== principal.customerId) throw new HttpError('not_found', 'no customer with this id')
      if (route.ingest && principal.ingestEvents === undefined) {
        throw new HttpError('forbidden', 'this customer token is read-only: mint it with ingest.events to send events')
      }
      const origin = c.req.header('origin')
      if (origin !== undefined && !(await deps.origins.allows(principal.tenantId, origin))) {
        throw new HttpError('forbidden', `origin ${origin} is not in the configuration's browser.origins`)
      }
      c.set('principal', principal)
      return next()
    }

    // Secret keys never travel in URLs (they would end up in logs).
    if (fromQuery !== undefined) throw new HttpError('unauthorized', 'only a customer token may be sent as ?token=; send secret keys as Authorization: Bearer <key>')
    const principal = await deps.keys.resolve(credential)
    if (principal === null) throw new HttpError('unauthorized', 'the key is unknown or revoked')
    c.set('principal', principal)
    await next()
  })
}

/** For routes a token may reach: a customer other than the token's is answered as unknown. */
export function requireCustomerAccess(principal: Principal, customerId: string): void {
  if (principal.kind === 'customer' && principal.customerId !== customerId) throw new HttpError('not_found', 'no customer with this id')
}

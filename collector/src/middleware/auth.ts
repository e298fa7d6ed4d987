// Authentication: secret keys (`mk_sec_…`, looked up by SHA-256 hash, answers cached briefly so
// the hot path does not hit the database per request) and customer tokens (`mk_ct_…`, checked by
// signature), each resolved to a principal. A token reaches only the routes of token-routes.ts,
// for its own customer.
import { type ApiKeyRecord, CUSTOMER_TOKEN_PREFIX, type Clock, type KeyMode, type KeyScope, hasScope, hashKey, isStoreUnavailable, type Store } from '@meterkit/engine'
import { formatTimestamp } from '@meterkit/protocol'
import { createMiddleware } from 'hono/factory'
import { HttpError } from '../http-error.js'
import type { CustomerTokens } from '../tokens.js'
import type { OriginPolicy } from './cors.js'
import { requiredScope } from './scopes.js'
import { tokenRoute } from './token-routes.js'

export interface SecretPrincipal {
  kind: 'secret'
  tenantId: number
  keyId: string
  scopes: readonly KeyScope[]
  /** `test`: a `mk_test_` key on the tenant's paired test tenant. */
  mode: KeyMode
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

/** How often a key's `lastUsedAt` is written, at most, per process: a write per request would show. */
const LAST_USED_EVERY_MS = 60_000

export type KeyResolution = { ok: true; principal: SecretPrincipal } | { ok: false; message: string }

/** Why a stored key is refused now, or undefined when it is usable. */
function refusal(record: ApiKeyRecord | undefined, nowMs: number): string | undefined {
  if (record === undefined) return 'the key is unknown or revoked'
  if (record.revokedAtMs !== null) return 'the key is unknown or revoked'
  if (record.expiresAtMs !== null && nowMs >= record.expiresAtMs) return `the key expired at ${formatTimestamp(record.expiresAtMs)}`
  return undefined
}

/** Resolves bearer keys to principals, caching lookups for `ttlMs` (expiry is checked on every request). */
export class KeyResolver {
  private readonly cache = new Map<string, { record: ApiKeyRecord | undefined; until: number }>()
  private readonly active = new Map<string, { record: ApiKeyRecord | undefined; until: number }>()
  private readonly touched = new Map<string, number>()

  constructor(private readonly store: Store, private readonly options: KeyCacheOptions) {}

  async resolve(key: string): Promise<KeyResolution> {
    const now = this.options.now()
    const hit = this.cache.get(key)
    let record: ApiKeyRecord | undefined
    if (hit !== undefined && hit.until > now) {
      record = hit.record
    } else {
      try {
        record = await this.store.findApiKeyByHash(hashKey(key))
      } catch (err) {
        // The store cannot be read (PostgreSQL away for maintenance): a key that was usable at its
        // last lookup stays so meanwhile, asked again each second, so that ingest in queue mode
        // goes on. Nothing newer than that lookup could have been learnt anyway.
        if (!isStoreUnavailable(err) || hit?.record === undefined || hit.record.revokedAtMs !== null) throw err
        hit.until = now + Math.min(this.options.ttlMs, 1000)
        return this.principal(hit.record, now)
      }
      if (this.cache.size > 10_000) this.cache.clear()
      // Misses are cached too, but only for a moment: a key created elsewhere works almost at once.
      const usable = record !== undefined && record.revokedAtMs === null
      this.cache.set(key, { record, until: now + (usable ? this.options.ttlMs : Math.min(this.options.ttlMs, 1000)) })
    }
    const resolution = this.principal(record, now)
    if (resolution.ok) await this.touch(record!.id, now)
    return resolution
  }

  private principal(record: ApiKeyRecord | undefined, now: number): KeyResolution {
    const refused = refusal(record, now)
    if (refused !== undefined) return { ok: false, message: refused }
    return { ok: true, principal: { kind: 'secret', tenantId: record!.tenantId, keyId: record!.id, scopes: record!.scopes, mode: record!.mode } }
  }

  /**
   * Records the key's use, at most once a minute (so the request that records it waits for one
   * small write, on any store, and the next read of the key sees it); a failure only costs the figure.
   */
  private async touch(keyId: string, now: number): Promise<void> {
    const last = this.touched.get(keyId)
    if (last !== undefined && now - last < LAST_USED_EVERY_MS) return
    if (this.touched.size > 10_000) this.touched.clear()
    this.touched.set(keyId, now)
    await this.store.touchApiKey(keyId, now).catch(() => undefined)
  }

  /** Whether the tenant's key `keyId` exists, is not revoked and has not expired (tokens die with their key). */
  async isActive(tenantId: number, keyId: string): Promise<boolean> {
    const now = this.options.now()
    const id = `${tenantId}:${keyId}`
    const hit = this.active.get(id)
    let record: ApiKeyRecord | undefined
    if (hit !== undefined && hit.until > now) {
      record = hit.record
    } else {
      record = await this.store.getApiKey(tenantId, keyId)
      if (this.active.size > 10_000) this.active.clear()
      this.active.set(id, { record, until: now + this.options.ttlMs })
    }
    return refusal(record, now) === undefined
  }

  /** Forgets cached answers for a key id (after a revoke in this process). */
  forgetKeyId(keyId: string): void {
    for (const [key, entry] of this.cache) if (entry.record?.id === keyId) this.cache.delete(key)
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
        throw new HttpError('forbidden', 'a customer token may only read its customer\'s usage, balance, entitlements, stream, quotes, ledger and invoices, and send the events it allows')
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
    const resolved = await deps.keys.resolve(credential)
    if (!resolved.ok) throw new HttpError('unauthorized', resolved.message)
    const needed = requiredScope(c.req.method, url.pathname)
    if (!hasScope(resolved.principal.scopes, needed)) {
      throw new HttpError('forbidden', `this request needs a key with the ${needed} scope; this key has ${resolved.principal.scopes.join(', ')}`, { scope: needed })
    }
    c.set('principal', resolved.principal)
    await next()
  })
}

/** For routes a token may reach: a customer other than the token's is answered as unknown. */
export function requireCustomerAccess(principal: Principal, customerId: string): void {
  if (principal.kind === 'customer' && principal.customerId !== customerId) throw new HttpError('not_found', 'no customer with this id')
}

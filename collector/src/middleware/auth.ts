// Bearer-key authentication. Keys are looked up by their SHA-256 hash; answers are cached
// briefly so the hot path does not hit the database per request.
import { hashKey, type Store } from '@meterkit/engine'
import { createMiddleware } from 'hono/factory'
import { HttpError } from '../http-error.js'

export interface SecretPrincipal {
  kind: 'secret'
  tenantId: number
  keyId: string
}

export type Principal = SecretPrincipal

export type AuthEnv = { Variables: { principal: Principal } }

export interface KeyCacheOptions {
  /** How long a key's lookup is reused, in ms (a key revoked by another process stops working within it). */
  ttlMs: number
  now: () => number
}

/** Resolves bearer keys to principals, caching hits for `ttlMs`. */
export class KeyResolver {
  private readonly cache = new Map<string, { principal: Principal | null; until: number }>()

  constructor(private readonly store: Store, private readonly options: KeyCacheOptions) {}

  async resolve(key: string): Promise<Principal | null> {
    const now = this.options.now()
    const hit = this.cache.get(key)
    if (hit !== undefined && hit.until > now) return hit.principal
    const record = await this.store.findApiKeyByHash(hashKey(key))
    const principal: Principal | null = record !== undefined && record.revokedAtMs === null
      ? { kind: 'secret', tenantId: record.tenantId, keyId: record.id }
      : null
    if (this.cache.size > 10_000) this.cache.clear()
    // Misses are cached too, but only for a moment: a key created elsewhere works almost at once.
    this.cache.set(key, { principal, until: now + (principal ? this.options.ttlMs : Math.min(this.options.ttlMs, 1000)) })
    return principal
  }

  /** Forgets cached answers for a key id (after a revoke in this process). */
  forgetKeyId(keyId: string): void {
    for (const [key, entry] of this.cache) if (entry.principal?.keyId === keyId) this.cache.delete(key)
  }
}

export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
  return match?.[1]
}

export function requireSecretKey(resolver: KeyResolver) {
  return createMiddleware<AuthEnv>(async (c, next) => {
    const token = bearerToken(c.req.header('authorization'))
    if (token === undefined) throw new HttpError('unauthorized', 'missing credentials: send Authorization: Bearer <key>')
    const principal = await resolver.resolve(token)
    if (principal === null) throw new HttpError('unauthorized', 'the key is unknown or revoked')
    c.set('principal', principal)
    await next()
  })
}

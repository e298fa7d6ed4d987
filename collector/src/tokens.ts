// Minting and checking customer tokens for the collector: the signing secret of each tenant is
// created on first use and kept in memory (it never changes), and a token stops working when
// the secret key that minted it is revoked.
import { randomBytes } from 'node:crypto'
import { type CustomerTokenClaims, type Store, decodeCustomerToken, signCustomerToken, verifyCustomerToken } from '@meterkit/engine'
import { formatTimestamp } from '@meterkit/protocol'
import type { CustomerPrincipal, KeyResolver } from './middleware/auth.js'

export type TokenVerdict = { ok: true; principal: CustomerPrincipal } | { ok: false; message: string }

export class CustomerTokens {
  private readonly secrets = new Map<number, Buffer>()

  constructor(private readonly store: Store, private readonly keys: KeyResolver) {}

  async mint(claims: CustomerTokenClaims, nowMs: number): Promise<string> {
    let secret = this.secrets.get(claims.tenantId)
    if (secret === undefined) {
      secret = await this.store.tenantSecret(claims.tenantId, 'customer_tokens', randomBytes(32), nowMs)
      this.secrets.set(claims.tenantId, secret)
    }
    return signCustomerToken(secret, claims)
  }

  async verify(token: string, nowMs: number): Promise<TokenVerdict> {
    const invalid: TokenVerdict = { ok: false, message: 'the customer token is not valid' }
    const decoded = decodeCustomerToken(token)
    if (decoded === undefined) return invalid
    const tenantId = decoded.claims.tenantId
    let secret = this.secrets.get(tenantId)
    if (secret === undefined) {
      // Not cached: a tenant that never minted a token has no secret, and a lookup creates none.
      secret = await this.store.findTenantSecret(tenantId, 'customer_tokens')
      if (secret === undefined) return invalid
      this.secrets.set(tenantId, secret)
    }
    const check = verifyCustomerToken(secret, decoded, nowMs)
    if (!check.ok) {
      return check.code === 'expired'
        ? { ok: false, message: `the customer token expired at ${formatTimestamp(check.expiresAtMs!)}; mint a new one` }
        : invalid
    }
    const c = check.claims
    if (!(await this.keys.isActive(tenantId, c.keyId))) return { ok: false, message: 'the key that minted this customer token was revoked' }
    return {
      ok: true,
      principal: {
        kind: 'customer',
        tenantId,
        keyId: c.keyId,
        customerId: c.customerId,
        ingestEvents: c.ingestEvents === undefined ? undefined : new Set(c.ingestEvents),
        expiresAtMs: c.expiresAtMs,
      },
    }
  }
}

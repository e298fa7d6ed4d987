// Customer tokens (`mk_ct_…`): what one customer's browser may do, for at most an hour. The
// claims travel in the token, signed with the tenant's secret (HMAC-SHA256), so the collector
// keeps no row per token and checks one with a hash, compared in constant time.
//
// Format: `mk_ct_` + base64url(JSON claims) + `.` + base64url(HMAC-SHA256(secret, everything
// before the dot)). Claims: v (format version, 1), t (tenant id), c (customer id), k (id of the
// secret key that minted it), x (expiry, epoch seconds), e (event names it may send, optional).
import { createHmac, timingSafeEqual } from 'node:crypto'

export const CUSTOMER_TOKEN_PREFIX = 'mk_ct_'
/** Longer strings are refused before any decoding (a token with 50 long event names is ~9 KiB). */
export const MAX_CUSTOMER_TOKEN_LENGTH = 16_384
/** Event names one token may be allowed to send. */
export const MAX_TOKEN_INGEST_EVENTS = 50

export interface CustomerTokenClaims {
  tenantId: number
  customerId: string
  /** The secret key that minted the token: revoking it revokes the token. */
  keyId: string
  /** Whole seconds: the token carries epoch seconds. */
  expiresAtMs: number
  /** Event names the token may send; undefined = read-only. */
  ingestEvents: string[] | undefined
}

/** A token split and decoded, not yet verified. */
export interface DecodedToken {
  claims: CustomerTokenClaims
  signed: string
  mac: Buffer
}

export type TokenCheck =
  | { ok: true; claims: CustomerTokenClaims }
  | { ok: false; code: 'malformed' | 'bad_signature' | 'expired'; expiresAtMs?: number }

function mac(secret: Buffer, signed: string): Buffer {
  return createHmac('sha256', secret).update(signed).digest()
}

export function signCustomerToken(secret: Buffer, claims: CustomerTokenClaims): string {
  const payload: Record<string, unknown> = { v: 1, t: claims.tenantId, c: claims.customerId, k: claims.keyId, x: Math.floor(claims.expiresAtMs / 1000) }
  if (claims.ingestEvents !== undefined) payload.e = claims.ingestEvents
  const signed = CUSTOMER_TOKEN_PREFIX + Buffer.from(JSON.stringify(payload)).toString('base64url')
  return `${signed}.${mac(secret, signed).toString('base64url')}`
}

const isString = (v: unknown): v is string => typeof v === 'string' && v.length > 0

/** Splits and decodes a token without checking it (the tenant id says which secret checks it). */
export function decodeCustomerToken(token: string): DecodedToken | undefined {
  if (!token.startsWith(CUSTOMER_TOKEN_PREFIX) || token.length > MAX_CUSTOMER_TOKEN_LENGTH) return undefined
  const dot = token.indexOf('.')
  if (dot < 0 || token.indexOf('.', dot + 1) >= 0) return undefined
  const signed = token.slice(0, dot)
  const macText = token.slice(dot + 1)
  if (!/^[A-Za-z0-9_-]{43}$/.test(macText) || !/^[A-Za-z0-9_-]+$/.test(signed.slice(CUSTOMER_TOKEN_PREFIX.length))) return undefined
  let p: Record<string, unknown>
  try {
    p = JSON.parse(Buffer.from(signed.slice(CUSTOMER_TOKEN_PREFIX.length), 'base64url').toString('utf8')) as Record<string, unknown>
  } catch {
    return undefined
  }
  if (typeof p !== 'object' || p === null || p.v !== 1 || !Number.isSafeInteger(p.t) || !isString(p.c) || !isString(p.k)
    || !Number.isSafeInteger(p.x)) return undefined
  if (p.e !== undefined && !(Array.isArray(p.e) && p.e.every(isString))) return undefined
  const macBytes = Buffer.from(macText, 'base64url')
  // One spelling per MAC: base64url's last character has spare bits that decoding ignores.
  if (macBytes.toString('base64url') !== macText) return undefined
  return {
    claims: { tenantId: p.t as number, customerId: p.c, keyId: p.k, expiresAtMs: (p.x as number) * 1000, ingestEvents: p.e as string[] | undefined },
    signed,
    mac: macBytes,
  }
}

/** Checks the signature (constant time) and then the expiry. */
export function verifyCustomerToken(secret: Buffer, token: DecodedToken, nowMs: number): TokenCheck {
  const expected = mac(secret, token.signed)
  if (token.mac.length !== expected.length || !timingSafeEqual(token.mac, expected)) return { ok: false, code: 'bad_signature' }
  if (nowMs >= token.claims.expiresAtMs) return { ok: false, code: 'expired', expiresAtMs: token.claims.expiresAtMs }
  return { ok: true, claims: token.claims }
}

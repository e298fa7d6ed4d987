// Standard Webhooks signatures (https://www.standardwebhooks.com): `v1,` + base64 HMAC-SHA256 of
// `${id}.${timestamp}.${body}`. The collector signs each attempt; receivers verify with the same
// code. Synchronous and free of Node built-ins (HMAC from @noble/hashes), so it runs on edge runtimes.
import { hmac } from '@noble/hashes/hmac.js'
import { sha256 } from '@noble/hashes/sha2.js'
import type { WebhookPayload } from './payloads.js'

const SECRET_PREFIX = 'whsec_'
const utf8 = new TextEncoder()

function fromBase64(text: string): Uint8Array | undefined {
  try {
    const binary = atob(text)
    const out = new Uint8Array(binary.length)
    for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i)
    return out
  } catch {
    return undefined
  }
}

function toBase64(bytes: Uint8Array): string {
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary)
}

/**
 * The HMAC key of an endpoint secret. A secret that starts with `whsec_` is the Standard Webhooks
 * serialization: the key is the base64-decoded rest. Any other secret is used as its UTF-8 bytes,
 * so a configured passphrase works as written. (The reference libraries base64-decode an
 * unprefixed secret too; give them the `whsec_` form, or the UTF-8 secret base64-encoded.)
 */
export function webhookKey(secret: string): Uint8Array {
  if (secret.startsWith(SECRET_PREFIX)) {
    const key = fromBase64(secret.slice(SECRET_PREFIX.length))
    if (key === undefined) throw new RangeError('secret: the part after whsec_ is not base64')
    return key
  }
  return utf8.encode(secret)
}

export interface SignInput {
  /** The `webhook-id`: the same on every attempt of a delivery. */
  id: string
  /** The `webhook-timestamp`: seconds since the epoch, the time of this attempt. */
  timestampSeconds: number
  /** The body exactly as sent: a string is signed as its UTF-8 bytes. */
  body: string | Uint8Array
  secret: string
}

function digest(key: Uint8Array, id: string, timestampSeconds: number, body: string | Uint8Array): Uint8Array {
  const mac = hmac.create(sha256, key)
  mac.update(utf8.encode(`${id}.${timestampSeconds}.`))
  mac.update(typeof body === 'string' ? utf8.encode(body) : body)
  return mac.digest()
}

/** Compares two byte strings in time that depends on their length only. */
function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!
  return diff === 0
}

/** The `webhook-signature` header value for one attempt: `v1,<base64 HMAC-SHA256>`. */
export function signWebhook({ id, timestampSeconds, body, secret }: SignInput): string {
  return `v1,${toBase64(digest(webhookKey(secret), id, timestampSeconds, body))}`
}

/** Request headers as a `Headers` object (fetch, Hono) or a plain record (node:http, Express). */
export type WebhookHeaders = { get(name: string): string | null } | Record<string, string | string[] | undefined>

export interface VerifyInput {
  headers: WebhookHeaders
  /** The raw request body, byte for byte: parsing and re-serializing JSON breaks the signature. */
  body: string | Uint8Array
  secret: string
  /** How far `webhook-timestamp` may be from now, either way (default 300 s): replays fail. */
  toleranceSeconds?: number
  /** Now, in seconds since the epoch (default: the system clock). */
  nowSeconds?: number
}

export type VerifyFailure = 'missing_headers' | 'bad_signature' | 'timestamp_out_of_tolerance'
export type VerifyResult = { ok: true; payload: WebhookPayload } | { ok: false; code: VerifyFailure }

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof headers.get === 'function') return (headers as { get(name: string): string | null }).get(name) ?? undefined
  for (const [key, value] of Object.entries(headers as Record<string, string | string[] | undefined>)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? value.join(' ') : value
  }
  return undefined
}

/**
 * Verifies a delivery: the three `webhook-*` headers are present (`missing_headers` also covers
 * a timestamp that is not whole seconds), the timestamp is within the tolerance, and one of the
 * space-separated signatures is a `v1` signature of this body with this secret (constant-time
 * comparison; other versions are skipped, so several secrets can be valid during a rotation).
 * Answers the parsed body; only a correctly signed body that is not JSON throws (a sender bug).
 */
export function verifyWebhook({ headers, body, secret, toleranceSeconds = 300, nowSeconds }: VerifyInput): VerifyResult {
  const id = header(headers, 'webhook-id')
  const timestamp = header(headers, 'webhook-timestamp')
  const signatures = header(headers, 'webhook-signature')
  if (!id || !timestamp || !signatures || !/^\d{1,15}$/.test(timestamp)) return { ok: false, code: 'missing_headers' }
  const timestampSeconds = Number(timestamp)
  const now = nowSeconds ?? Math.floor(Date.now() / 1000)
  if (Math.abs(now - timestampSeconds) > toleranceSeconds) return { ok: false, code: 'timestamp_out_of_tolerance' }
  const expected = digest(webhookKey(secret), id, timestampSeconds, body)
  const matches = signatures.split(' ').some((entry) => {
    const comma = entry.indexOf(',')
    if (comma < 0 || entry.slice(0, comma) !== 'v1') return false
    const given = fromBase64(entry.slice(comma + 1))
    return given !== undefined && equalBytes(given, expected)
  })
  if (!matches) return { ok: false, code: 'bad_signature' }
  const text = typeof body === 'string' ? body : new TextDecoder('utf-8').decode(body)
  return { ok: true, payload: JSON.parse(text) as WebhookPayload }
}

import { createHmac } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { signWebhook, verifyWebhook, webhookKey } from './signing.js'

// The signing vector of the Standard Webhooks reference library:
// standard-webhooks/standard-webhooks, libraries/javascript/src/webhook.test.ts, "sign function works".
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestampSeconds: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
}

const SECRET = 'a-long-endpoint-secret-for-tests'
const NOW = 1_795_000_000
const BODY = JSON.stringify({ type: 'invoice.finalized', data: { id: 'in_1', total: '12.50' }, createdAt: '2026-11-25T10:00:00.000Z' })

function signed(overrides: { body?: string; secret?: string; timestampSeconds?: number } = {}) {
  const timestampSeconds = overrides.timestampSeconds ?? NOW
  const signature = signWebhook({ id: 'msg_1', timestampSeconds, body: overrides.body ?? BODY, secret: overrides.secret ?? SECRET })
  return { 'webhook-id': 'msg_1', 'webhook-timestamp': String(timestampSeconds), 'webhook-signature': signature }
}

describe('signWebhook', () => {
  it('signs exactly as node:crypto does, for any body and secret', () => {
    fc.assert(fc.property(fc.string(), fc.uint8Array({ maxLength: 300 }), fc.string({ minLength: 1 }), fc.integer({ min: 0, max: 2 ** 40 }), (id, body, secret, ts) => {
      fc.pre(!secret.startsWith('whsec_'))
      const expected = createHmac('sha256', Buffer.from(secret, 'utf8')).update(`${id}.${ts}.`).update(body).digest('base64')
      expect(signWebhook({ id, timestampSeconds: ts, body, secret })).toBe(`v1,${expected}`)
    }))
  })

  it('matches the Standard Webhooks reference vector', () => {
    expect(signWebhook(VECTOR)).toBe(VECTOR.signature)
    expect(signWebhook({ ...VECTOR, body: Buffer.from(VECTOR.body) })).toBe(VECTOR.signature)
  })

  it('keys a whsec_ secret by its base64 rest, any other secret by its UTF-8 bytes', () => {
    expect(Buffer.from(webhookKey('whsec_aGVsbG8='))).toEqual(Buffer.from('hello'))
    expect(Buffer.from(webhookKey('plain sécret'))).toEqual(Buffer.from('plain sécret', 'utf8'))
    expect(() => webhookKey('whsec_not base64!')).toThrow(/not base64/)
    const expected = createHmac('sha256', Buffer.from(SECRET, 'utf8')).update(`msg_1.${NOW}.${BODY}`).digest('base64')
    expect(signWebhook({ id: 'msg_1', timestampSeconds: NOW, body: BODY, secret: SECRET })).toBe(`v1,${expected}`)
  })
})

describe('verifyWebhook', () => {
  it('accepts a delivery signed with the secret and answers the parsed body', () => {
    const result = verifyWebhook({ headers: signed(), body: BODY, secret: SECRET, nowSeconds: NOW })
    expect(result).toEqual({ ok: true, payload: JSON.parse(BODY) })
    // Raw bytes and a fetch Headers object work the same.
    expect(verifyWebhook({ headers: new Headers(signed()), body: Buffer.from(BODY), secret: SECRET, nowSeconds: NOW }).ok).toBe(true)
  })

  it('narrows the payload by its type', () => {
    const result = verifyWebhook({ headers: signed(), body: BODY, secret: SECRET, nowSeconds: NOW })
    if (!result.ok || result.payload.type !== 'invoice.finalized') throw new Error('expected an invoice.finalized payload')
    const total: string = result.payload.data.total
    expect(total).toBe('12.50')
  })

  it('verifies the reference vector at its own time', () => {
    const headers = { 'Webhook-Id': VECTOR.id, 'Webhook-Timestamp': String(VECTOR.timestampSeconds), 'Webhook-Signature': VECTOR.signature }
    expect(verifyWebhook({ headers, body: VECTOR.body, secret: VECTOR.secret, nowSeconds: VECTOR.timestampSeconds }))
      .toEqual({ ok: true, payload: { test: 2432232314 } })
  })

  it('refuses a tampered body', () => {
    const tampered = BODY.replace('12.50', '1.25')
    expect(verifyWebhook({ headers: signed(), body: tampered, secret: SECRET, nowSeconds: NOW })).toEqual({ ok: false, code: 'bad_signature' })
  })

  it('refuses the wrong secret, and a signature moved to another id', () => {
    expect(verifyWebhook({ headers: signed({ secret: 'another-secret-of-enough-length' }), body: BODY, secret: SECRET, nowSeconds: NOW }))
      .toEqual({ ok: false, code: 'bad_signature' })
    expect(verifyWebhook({ headers: { ...signed(), 'webhook-id': 'msg_2' }, body: BODY, secret: SECRET, nowSeconds: NOW }))
      .toEqual({ ok: false, code: 'bad_signature' })
  })

  it('refuses a timestamp outside the tolerance, either way', () => {
    const old = signed({ timestampSeconds: NOW - 301 })
    expect(verifyWebhook({ headers: old, body: BODY, secret: SECRET, nowSeconds: NOW })).toEqual({ ok: false, code: 'timestamp_out_of_tolerance' })
    expect(verifyWebhook({ headers: signed({ timestampSeconds: NOW + 301 }), body: BODY, secret: SECRET, nowSeconds: NOW }).ok).toBe(false)
    expect(verifyWebhook({ headers: signed({ timestampSeconds: NOW - 300 }), body: BODY, secret: SECRET, nowSeconds: NOW }).ok).toBe(true)
    expect(verifyWebhook({ headers: old, body: BODY, secret: SECRET, nowSeconds: NOW, toleranceSeconds: 600 }).ok).toBe(true)
  })

  it('accepts any one valid v1 signature among several (secret rotation), skipping other versions', () => {
    const valid = signed()['webhook-signature']
    const other = signWebhook({ id: 'msg_1', timestampSeconds: NOW, body: BODY, secret: 'the-previous-secret-1234' })
    const list = ['v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg==', other, valid.replace('v1,', 'v2,'), valid]
    expect(verifyWebhook({ headers: { ...signed(), 'webhook-signature': list.join(' ') }, body: BODY, secret: SECRET, nowSeconds: NOW }).ok).toBe(true)
    const withoutValid = list.slice(0, 3).join(' ')
    expect(verifyWebhook({ headers: { ...signed(), 'webhook-signature': withoutValid }, body: BODY, secret: SECRET, nowSeconds: NOW }))
      .toEqual({ ok: false, code: 'bad_signature' })
  })

  it('refuses truncated signatures', () => {
    const valid = signed()['webhook-signature']
    for (const signature of [valid.slice(0, 8), 'v1,', 'v1', valid.slice(3)]) {
      expect(verifyWebhook({ headers: { ...signed(), 'webhook-signature': signature }, body: BODY, secret: SECRET, nowSeconds: NOW }).ok).toBe(false)
    }
  })

  it('reports missing or malformed headers', () => {
    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const) {
      const headers: Record<string, string> = signed()
      delete headers[name]
      expect(verifyWebhook({ headers, body: BODY, secret: SECRET, nowSeconds: NOW })).toEqual({ ok: false, code: 'missing_headers' })
    }
    expect(verifyWebhook({ headers: { ...signed(), 'webhook-timestamp': 'hello' }, body: BODY, secret: SECRET, nowSeconds: NOW }))
      .toEqual({ ok: false, code: 'missing_headers' })
  })
})

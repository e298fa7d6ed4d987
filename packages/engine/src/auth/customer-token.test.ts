import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type CustomerTokenClaims, decodeCustomerToken, signCustomerToken, verifyCustomerToken } from './customer-token.js'

const secret = randomBytes(32)
const T0 = Date.parse('2026-11-25T10:00:00.000Z')
const claims: CustomerTokenClaims = { tenantId: 7, customerId: 'cus_42', keyId: 'key_abc', expiresAtMs: T0 + 900_000, ingestEvents: ['page.view'] }

function check(token: string, nowMs = T0, key = secret) {
  const decoded = decodeCustomerToken(token)
  return decoded === undefined ? { ok: false, code: 'malformed' } : verifyCustomerToken(key, decoded, nowMs)
}

describe('customer tokens', () => {
  it('round-trip their claims and are refused from their expiry on', () => {
    const token = signCustomerToken(secret, claims)
    expect(token).toMatch(/^mk_ct_[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/)
    expect(check(token)).toEqual({ ok: true, claims })
    expect(check(token, claims.expiresAtMs - 1).ok).toBe(true)
    expect(check(token, claims.expiresAtMs)).toEqual({ ok: false, code: 'expired', expiresAtMs: claims.expiresAtMs })
    const readOnly = signCustomerToken(secret, { ...claims, ingestEvents: undefined })
    expect(check(readOnly)).toMatchObject({ ok: true, claims: { ingestEvents: undefined } })
  })

  it('any claims survive the trip, customer ids with any characters included', () => {
    fc.assert(fc.property(
      fc.record({
        tenantId: fc.integer({ min: 1, max: 2 ** 40 }),
        customerId: fc.string({ minLength: 1, maxLength: 256, unit: 'grapheme' }),
        keyId: fc.string({ minLength: 1, maxLength: 40 }),
        expiresAtMs: fc.integer({ min: 1, max: 2 ** 40 }).map((s) => s * 1000),
        ingestEvents: fc.option(fc.array(fc.stringMatching(/^[A-Za-z0-9._:-]{1,20}$/), { maxLength: 5 }), { nil: undefined }),
      }),
      (c) => {
        expect(check(signCustomerToken(secret, c), c.expiresAtMs - 1)).toEqual({ ok: true, claims: c })
      },
    ))
  })

  it('are refused when any character changes, with another secret, or when not tokens at all', () => {
    const token = signCustomerToken(secret, claims)
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.'
    for (let i = 0; i < token.length; i++) {
      const other = alphabet[(alphabet.indexOf(token[i]!) + 1) % alphabet.length]
      const tampered = token.slice(0, i) + other + token.slice(i + 1)
      expect(check(tampered).ok, `changed at ${i}`).toBe(false)
    }
    expect(check(token, T0, randomBytes(32))).toEqual({ ok: false, code: 'bad_signature' })
    for (const junk of ['', 'mk_ct_', 'mk_ct_.', `${token}.x`, 'mk_sec_abc', `mk_ct_${Buffer.from('{"v":1}').toString('base64url')}.${'A'.repeat(43)}`,
      `mk_ct_${Buffer.from('[1]').toString('base64url')}.${'A'.repeat(43)}`, `mk_ct_%%%.${'A'.repeat(43)}`, 'mk_ct_' + 'A'.repeat(20_000)]) {
      expect(decodeCustomerToken(junk), junk.slice(0, 40)).toBeUndefined()
    }
  })
})

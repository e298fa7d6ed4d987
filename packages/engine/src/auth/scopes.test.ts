import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { KEY_SCOPES, type KeyScope, canMint, hasScope, normalizeScopes, parseScopes } from './scopes.js'

describe('key scopes', () => {
  it('reads a key without stored scopes as admin, and stored ones as given', () => {
    expect(parseScopes(null)).toEqual(['admin'])
    expect(parseScopes('')).toEqual(['admin'])
    expect(parseScopes('read ingest')).toEqual(['ingest', 'read'])
  })

  it('lets admin do everything and the others only their own', () => {
    for (const s of KEY_SCOPES) expect(hasScope(['admin'], s)).toBe(true)
    expect(hasScope(['ingest'], 'read')).toBe(false)
    expect(hasScope(['read'], 'ingest')).toBe(false)
    expect(hasScope(['ingest', 'read'], 'admin')).toBe(false)
  })

  it('never lets a key mint more than it holds', () => {
    const scopes = fc.subarray([...KEY_SCOPES] as KeyScope[])
    fc.assert(fc.property(scopes, scopes, (held, wanted) => {
      const allowed = canMint(held, wanted)
      // Allowed exactly when every wanted scope is held, or admin is.
      expect(allowed).toBe(held.includes('admin') || wanted.every((w) => held.includes(w)))
      if (allowed) for (const w of wanted) expect(hasScope(held, w)).toBe(true)
    }))
    expect(normalizeScopes(['read', 'read', 'ingest'])).toEqual(['ingest', 'read'])
  })
})

import { describe, expect, it } from 'vitest'
import { addGrant, deduct, emptyCredits, hold, release, serializeCredits, deserializeCredits, verifyCredits } from './index.js'

const T = Date.parse('2026-11-01T00:00:00Z')

describe('serialized credit state', () => {
  it('round-trips grants, holds, overage and closed reservations exactly', () => {
    let s = emptyCredits()
    const steps = [
      (st: typeof s) => addGrant(st, { id: 'trial', credits: '100.123456789012345678', priority: 5, expiresAtMs: T + 86_400_000, rollover: { max: '10' } }, T),
      (st: typeof s) => deduct(st, { credits: '150', eventIds: ['e1', 'e2'] }, T + 1),
      (st: typeof s) => addGrant(st, { id: 'pack', credits: '500' }, T + 2),
      (st: typeof s) => hold(st, { reservationId: 'r1', credits: '20', block: true }, T + 3),
      (st: typeof s) => hold(st, { reservationId: 'r2', credits: '5', block: false }, T + 4),
      (st: typeof s) => release(st, 'r2', T + 5),
    ]
    for (const step of steps) {
      const out = step(s)
      if (!out.ok) throw new Error(out.message)
      s = out.state
    }
    const copy = deserializeCredits(serializeCredits(s))
    expect(serializeCredits(copy)).toBe(serializeCredits(s))
    expect(copy.owed.toString()).toBe('49.876543210987654322')
    expect(copy.reserved.toString()).toBe('20')
    expect(verifyCredits(copy)).toEqual([])
    // Closed reservations older than the cut are dropped; held ones stay.
    const trimmed = deserializeCredits(serializeCredits(s, T + 6))
    expect([...trimmed.closedReservations.keys()]).toEqual([])
    expect([...trimmed.holds.keys()]).toEqual(['r1'])
  })
})

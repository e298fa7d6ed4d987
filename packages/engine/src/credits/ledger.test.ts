// Hand-worked examples of the credit ledger: every figure below was worked out on paper first.
import { describe, expect, it } from 'vitest'
import { decimal } from '../decimal.js'
import type { Change, CustomerCredits, LedgerEntry, Outcome } from './index.js'
import {
  addGrant, advance, balanceView, deduct, emptyCredits, entryView, hold, overageDue, refund, release, renew, settle,
  settleOverage, verifyCredits, voidGrant,
} from './index.js'

const T0 = Date.parse('2026-11-01T00:00:00.000Z')
const HOUR = 3_600_000
const DAY = 24 * HOUR

/** Runs operations in order, keeping the whole ledger and checking the invariants after each. */
class Book {
  state: CustomerCredits = emptyCredits()
  entries: LedgerEntry[] = []
  apply<T extends Outcome<object, string> | Change>(result: T): Extract<T, { state: CustomerCredits }> {
    if ('ok' in result && !result.ok) throw new Error(`${result.code}: ${result.message}`)
    const change = result as Change
    this.state = change.state
    this.entries.push(...change.entries)
    expect(verifyCredits(this.state, this.entries)).toEqual([])
    return result as Extract<T, { state: CustomerCredits }>
  }
  balance(): string {
    return this.state.balance.toString()
  }
  remaining(id: string): string {
    const g = this.state.grants.get(id) ?? this.state.retiredGrants.get(id)
    return g!.remaining.toString()
  }
  last(n: number) {
    return this.entries.slice(-n).map((e) => ({ type: e.type, credits: e.credits.toString(), grantId: e.grantId, atMs: e.atMs }))
  }
}

describe('a trial grant and a purchased pack', () => {
  function start(): Book {
    const b = new Book()
    b.apply(addGrant(b.state, { id: 'trial', credits: '100', priority: 10, expiresAtMs: T0 + 14 * DAY, source: 'trial' }, T0))
    b.apply(addGrant(b.state, { id: 'pack', credits: '500', kind: 'top_up' }, T0 + HOUR))
    return b
  }

  it('burns the trial first (lower priority), then the pack, one entry per grant', () => {
    const b = start()
    expect(b.balance()).toBe('600')
    b.apply(deduct(b.state, { credits: '30', eventIds: ['e1'] }, T0 + 2 * HOUR))
    expect(b.remaining('trial')).toBe('70')
    expect(b.remaining('pack')).toBe('500')
    const r = b.apply(deduct(b.state, { credits: '100.25', eventIds: ['e2', 'e3'] }, T0 + 3 * HOUR))
    expect(r.entries.map((e) => [e.grantId, e.credits.toString(), e.balanceAfter.toString(), e.eventIds])).toEqual([
      ['trial', '-70', '500', ['e2', 'e3']],
      ['pack', '-30.25', '469.75', ['e2', 'e3']],
    ])
    expect(b.remaining('trial')).toBe('0')
    expect(b.remaining('pack')).toBe('469.75')
    expect(b.entries.map((e) => e.type)).toEqual(['grant', 'top_up', 'deduction', 'deduction', 'deduction'])
  })

  it('a lower priority burns first even when it expires later; equal priorities go by expiry, then age', () => {
    const b = new Book()
    b.apply(addGrant(b.state, { id: 'late-low', credits: '5', priority: 1, expiresAtMs: T0 + 30 * DAY }, T0))
    b.apply(addGrant(b.state, { id: 'never', credits: '5', priority: 2 }, T0))
    b.apply(addGrant(b.state, { id: 'soon', credits: '5', priority: 2, expiresAtMs: T0 + 2 * DAY }, T0))
    b.apply(addGrant(b.state, { id: 'soon-younger', credits: '5', priority: 2, expiresAtMs: T0 + 2 * DAY }, T0))
    const r = b.apply(deduct(b.state, { credits: '20', eventIds: ['e'] }, T0))
    expect(r.entries.map((e) => e.grantId)).toEqual(['late-low', 'soon', 'soon-younger', 'never'])
  })

  it('lists both grants in the balance shape, used-up ones with remaining "0"', () => {
    const b = start()
    b.apply(deduct(b.state, { credits: '100', eventIds: ['e1'] }, T0 + 2 * HOUR))
    expect(balanceView(b.state, T0 + 2 * HOUR)).toEqual({
      balance: '500', available: '500', reserved: '0',
      grants: [
        { id: 'trial', credits: '100', remaining: '0', priority: 10, effectiveAt: '2026-11-01T00:00:00.000Z', expiresAt: '2026-11-15T00:00:00.000Z' },
        { id: 'pack', credits: '500', remaining: '500', priority: 100, effectiveAt: '2026-11-01T01:00:00.000Z', expiresAt: null },
      ],
    })
    // After its expiry the trial is no longer listed.
    expect(balanceView(b.state, T0 + 14 * DAY).grants.map((g) => g.id)).toEqual(['pack'])
  })
})

describe('expiry', () => {
  const EXPIRES = T0 + 10 * DAY

  it('a deduction 1 ms before expiresAt still uses the grant; at expiresAt it may not', () => {
    const b = new Book()
    b.apply(addGrant(b.state, { id: 'g', credits: '10', expiresAtMs: EXPIRES }, T0))
    b.apply(deduct(b.state, { credits: '4', eventIds: ['a'] }, EXPIRES - 1))
    expect(b.last(1)).toEqual([{ type: 'deduction', credits: '-4', grantId: 'g', atMs: EXPIRES - 1 }])
    b.apply(deduct(b.state, { credits: '1', eventIds: ['b'] }, EXPIRES))
    // The expiry comes first, at expiresAt exactly; the deduction then finds no grant: overage.
    expect(b.last(2)).toEqual([
      { type: 'expiry', credits: '-6', grantId: 'g', atMs: EXPIRES },
      { type: 'deduction', credits: '-1', grantId: undefined, atMs: EXPIRES },
    ])
    expect(b.balance()).toBe('-1')
    expect(b.state.owed.toString()).toBe('1')
  })

  it('advance writes the expiry at expiresAt even when asked much later, and never early', () => {
    const b = new Book()
    b.apply(addGrant(b.state, { id: 'g', credits: '10', expiresAfter: 'P10D' }, T0))
    expect(b.apply(advance(b.state, EXPIRES - 1)).entries).toEqual([])
    b.apply(advance(b.state, EXPIRES + 5 * DAY))
    expect(b.last(1)).toEqual([{ type: 'expiry', credits: '-10', grantId: 'g', atMs: EXPIRES }])
    expect(b.state.clockMs).toBe(EXPIRES + 5 * DAY)
  })

  it('a grant effective later is listed, not counted, and its grant entry is written at effectiveAt', () => {
    const b = new Book()
    b.apply(addGrant(b.state, { id: 'next-month', credits: '50', effectiveAtMs: T0 + 30 * DAY }, T0))
    expect(b.entries).toEqual([])
    expect(balanceView(b.state, T0)).toMatchObject({ balance: '0', grants: [{ id: 'next-month', remaining: '50' }] })
    b.apply(deduct(b.state, { credits: '5', eventIds: ['x'] }, T0 + DAY))
    expect(b.balance()).toBe('-5')
    b.apply(advance(b.state, T0 + 31 * DAY))
    expect(b.last(1)).toEqual([{ type: 'grant', credits: '50', grantId: 'next-month', atMs: T0 + 30 * DAY }])
    // Later grants do not pay earlier overage: the balance nets them until the period closes.
    expect(b.balance()).toBe('45')
    expect(b.remaining('next-month')).toBe('50')
    b.apply(settleOverage(b.state, { invoiceId: 'inv_1' }, T0 + 31 * DAY))
    expect(b.last(1)).toEqual([{ type: 'overage_settled', credits: '5', grantId: undefined, atMs: T0 + 31 * DAY }])
    expect(b.balance()).toBe('50')
    expect(b.apply(settleOverage(b.state, { invoiceId: 'inv_1' }, T0 + 32 * DAY))).toMatchObject({ duplicate: true, entries: [] })
  })

  it('an invoice settles the overage of its period and earlier ones, by the time of the events, not of the entries', () => {
    const END = T0 + 30 * DAY
    const entry = (credits: string, atMs: number, eventMs: number | null, type: 'deduction' | 'overage_settled' = 'deduction') => ({ type, credits, atMs, eventMs })
    const entries = [
      entry('-4', T0 + DAY, T0 + DAY), // in the period
      entry('-6', END, T0 + 29 * DAY), // charged at the close, for the period's events
      entry('-2', END + HOUR, END - 1), // a late event taken in during the grace period
      entry('1', END + HOUR, T0 + DAY), // a refund of the period's events: less is owed
      entry('-7', END - 1, END + 1), // an event of the next period, a little ahead of its time
      entry('-3', END - 1, null), // its events are gone: counted by the entry's own time
    ]
    expect(overageDue(entries, decimal(21), END).toString()).toBe('14') // 4 + 6 + 2 − 1 + 3
    // An earlier invoice settled 5 of it; at most what is owed.
    expect(overageDue([...entries, entry('5', END - 10 * DAY, null, 'overage_settled')], decimal(16), END).toString()).toBe('9')
    expect(overageDue(entries, decimal(8), END).toString()).toBe('8')
    expect(overageDue([entry('2', T0, T0)], decimal(0), END).toString()).toBe('0')
  })

  it('an operation dated before the ledger clock is applied at the clock', () => {
    const b = new Book()
    b.apply(addGrant(b.state, { id: 'g', credits: '10' }, T0 + DAY))
    b.apply(deduct(b.state, { credits: '1', eventIds: ['late'] }, T0))
    expect(b.last(1)[0]!.atMs).toBe(T0 + DAY)
  })
})

describe('recurring grants and rollover', () => {
  const P1 = Date.parse('2026-11-01T00:00:00.000Z')
  const P2 = Date.parse('2026-12-01T00:00:00.000Z')
  const P3 = Date.parse('2027-01-01T00:00:00.000Z')
  const plan = { series: 'pro', credits: '1000', priority: 10, recurring: 'P1M', rollover: { max: '500' } }

  it('rolls over the leftover capped at rollover.max, counted once', () => {
    const b = new Book()
    b.apply(renew(b.state, { ...plan, periodStartMs: P1, periodEndMs: P2 }, P1))
    b.apply(deduct(b.state, { credits: '300', eventIds: ['e1'] }, P1 + DAY))
    const r = b.apply(renew(b.state, { ...plan, periodStartMs: P2, periodEndMs: P3 }, P2))
    expect(b.last(3)).toEqual([
      { type: 'expiry', credits: '-700', grantId: 'pro@2026-11-01T00:00:00.000Z', atMs: P2 },
      { type: 'grant', credits: '500', grantId: 'pro@2026-12-01T00:00:00.000Z/rollover', atMs: P2 },
      { type: 'grant', credits: '1000', grantId: 'pro@2026-12-01T00:00:00.000Z', atMs: P2 },
    ])
    expect(b.balance()).toBe('1500')
    expect(r.rollover?.expiresAtMs).toBe(P3)
    // The rollover grant burns first: same priority and expiry, created first.
    b.apply(deduct(b.state, { credits: '600', eventIds: ['e2'] }, P2 + DAY))
    expect(b.remaining('pro@2026-12-01T00:00:00.000Z/rollover')).toBe('0')
    expect(b.remaining('pro@2026-12-01T00:00:00.000Z')).toBe('900')
    // Renewing the same period again changes nothing.
    expect(b.apply(renew(b.state, { ...plan, periodStartMs: P2, periodEndMs: P3 }, P2 + DAY))).toMatchObject({ duplicate: true, entries: [] })
  })

  it('rolls over less than max when less is left, and nothing without a rollover setting', () => {
    const b = new Book()
    b.apply(renew(b.state, { ...plan, periodStartMs: P1, periodEndMs: P2 }, P1))
    b.apply(deduct(b.state, { credits: '800', eventIds: ['e1'] }, P1 + DAY))
    b.apply(renew(b.state, { ...plan, rollover: undefined, periodStartMs: P2, periodEndMs: P3 }, P2))
    expect(b.last(2)).toEqual([
      { type: 'expiry', credits: '-200', grantId: 'pro@2026-11-01T00:00:00.000Z', atMs: P2 },
      { type: 'grant', credits: '1000', grantId: 'pro@2026-12-01T00:00:00.000Z', atMs: P2 },
    ])
    const c = new Book()
    c.apply(renew(c.state, { ...plan, periodStartMs: P1, periodEndMs: P2 }, P1))
    c.apply(deduct(c.state, { credits: '800', eventIds: ['e1'] }, P1 + DAY))
    c.apply(renew(c.state, { ...plan, periodStartMs: P2, periodEndMs: P3 }, P2))
    expect(c.balance()).toBe('1200')
  })

  it('renews a grant made with `recurring`, and catches up on a period renewed late', () => {
    const b = new Book()
    b.apply(addGrant(b.state, { id: 'monthly', credits: '100', recurring: 'P1M', rollover: { max: '30' } }, P1))
    expect(b.state.grants.get('monthly')).toMatchObject({ expiresAtMs: P2, series: 'monthly', periodEndMs: P2 })
    b.apply(deduct(b.state, { credits: '50', eventIds: ['e1'] }, P1 + DAY))
    // Renewed 40 days late: the December grant is counted in and expires at once, so that its
    // credits (plus the 30 rolled over from November) can still roll into January, capped at 30.
    b.apply(renew(b.state, { series: 'monthly', credits: '100', rollover: { max: '30' }, periodStartMs: P2, periodEndMs: P3 }, P2 + 40 * DAY))
    b.apply(renew(b.state, { series: 'monthly', credits: '100', rollover: { max: '30' }, periodStartMs: P3, periodEndMs: Date.parse('2027-02-01T00:00:00.000Z') }, P2 + 40 * DAY))
    expect(b.entries.map((e) => `${e.type} ${e.credits} ${e.grantId}`)).toEqual([
      'grant 100 monthly',
      'deduction -50 monthly',
      'expiry -50 monthly',
      'grant 30 monthly@2026-12-01T00:00:00.000Z/rollover',
      'expiry -30 monthly@2026-12-01T00:00:00.000Z/rollover',
      'grant 100 monthly@2026-12-01T00:00:00.000Z',
      'expiry -100 monthly@2026-12-01T00:00:00.000Z',
      'grant 30 monthly@2027-01-01T00:00:00.000Z/rollover',
      'grant 100 monthly@2027-01-01T00:00:00.000Z',
    ])
    expect(b.balance()).toBe('130')
  })

  it('refuses to renew a period that has not started', () => {
    expect(renew(emptyCredits(), { ...plan, periodStartMs: P2, periodEndMs: P3 }, P2 - 1)).toMatchObject({ ok: false, code: 'period_not_started' })
  })
})

describe('holds', () => {
  function funded(): Book {
    const b = new Book()
    b.apply(addGrant(b.state, { id: 'g', credits: '10' }, T0))
    return b
  }

  it('block refuses what available cannot cover, without an entry; the same id gets the same answer', () => {
    const b = funded()
    expect(b.apply(hold(b.state, { reservationId: 'r1', credits: '8', block: true }, T0))).toMatchObject({ granted: true })
    expect(balanceView(b.state, T0)).toMatchObject({ balance: '10', available: '2', reserved: '8' })
    const refused = b.apply(hold(b.state, { reservationId: 'r2', credits: '3', block: true }, T0))
    expect(refused).toMatchObject({ granted: false, entries: [] })
    expect(refused.available.toString()).toBe('2')
    b.apply(release(b.state, 'r1', T0 + 1))
    // r2 was refused once: it stays refused although 10 are now available.
    expect(b.apply(hold(b.state, { reservationId: 'r2', credits: '3', block: true }, T0 + 2))).toMatchObject({ granted: false, duplicate: true })
  })

  it('without block a hold is granted into negative available', () => {
    const b = funded()
    const r = b.apply(hold(b.state, { reservationId: 'r', credits: '25', block: false }, T0))
    expect(r.granted).toBe(true)
    expect(r.available.toString()).toBe('-15')
    expect(r.entries.map(entryView)).toEqual([
      { id: 'le_2', type: 'hold', credits: '0', balanceAfter: '10', at: '2026-11-01T00:00:00.000Z', reservationId: 'r', held: '25' },
    ])
  })

  it('settle releases the hold and deducts the cost; a lapsed hold is released at its expiry', () => {
    const b = funded()
    b.apply(hold(b.state, { reservationId: 'job', credits: '6', ttlMs: 60_000, block: true }, T0))
    b.apply(settle(b.state, { reservationId: 'job', cost: '4.5', eventIds: ['render-1'] }, T0 + 1000))
    expect(b.last(2).map((e) => [e.type, e.credits])).toEqual([['release', '0'], ['deduction', '-4.5']])
    expect(b.entries.at(-1)).toMatchObject({ reservationId: 'job', eventIds: ['render-1'] })
    expect(balanceView(b.state, T0 + 1000)).toMatchObject({ balance: '5.5', available: '5.5', reserved: '0' })
    b.apply(hold(b.state, { reservationId: 'job2', credits: '2', ttlMs: 60_000, block: true }, T0 + 2000))
    b.apply(advance(b.state, T0 + 62_000))
    expect(b.entries.at(-1)).toMatchObject({ type: 'release', reservationId: 'job2', atMs: T0 + 62_000, reason: 'expired' })
    expect(b.state.reserved.toString()).toBe('0')
  })
})

describe('refunds and voids', () => {
  it('gives credits back to the grant they came from, newest burn first', () => {
    const b = new Book()
    b.apply(addGrant(b.state, { id: 'a', credits: '5', priority: 1 }, T0))
    b.apply(addGrant(b.state, { id: 'b', credits: '5', priority: 2 }, T0))
    b.apply(deduct(b.state, { credits: '8', eventIds: ['e1'] }, T0))
    const r = b.apply(refund(b.state, { eventIds: ['e1'], credits: '4', sources: b.entries }, T0 + 1))
    expect(r.entries.map((e) => [e.type, e.grantId, e.credits.toString()])).toEqual([
      ['deduction', 'b', '3'], ['deduction', 'a', '1'],
    ])
    expect(refund(b.state, { eventIds: ['e1'], credits: '4.01', sources: b.entries }, T0 + 2)).toMatchObject({ ok: false, code: 'refund_exceeds_deducted' })
  })

  it('credits from a grant since expired reduce overage owed, then come back as an adjustment grant', () => {
    const b = new Book()
    b.apply(addGrant(b.state, { id: 'g', credits: '5', expiresAtMs: T0 + DAY }, T0))
    b.apply(deduct(b.state, { credits: '5', eventIds: ['e1'] }, T0))
    b.apply(deduct(b.state, { credits: '2', eventIds: ['e2'] }, T0 + 2 * DAY))
    b.apply(refund(b.state, { eventIds: ['e1'], credits: '5', sources: b.entries }, T0 + 3 * DAY))
    expect(b.last(2).map((e) => [e.type, e.grantId, e.credits])).toEqual([
      ['deduction', undefined, '2'], ['adjustment', 'refund_2', '3'],
    ])
    expect(b.state.owed.toString()).toBe('0')
    expect(b.balance()).toBe('3')
  })

  it('a void takes the remaining credits; the same grant id again counts once', () => {
    const b = new Book()
    b.apply(addGrant(b.state, { id: 'g', credits: '10' }, T0))
    b.apply(deduct(b.state, { credits: '3', eventIds: ['e'] }, T0))
    b.apply(voidGrant(b.state, { grantId: 'g', reason: 'granted by mistake' }, T0 + 1))
    expect(b.last(1)).toEqual([{ type: 'void', credits: '-7', grantId: 'g', atMs: T0 + 1 }])
    expect(balanceView(b.state, T0 + 1).grants).toEqual([])
    const again = b.apply(addGrant(b.state, { id: 'g', credits: '10' }, T0 + 2))
    expect(again).toMatchObject({ duplicate: true, entries: [] })
    expect(again.grant.status).toBe('voided')
  })

  it('keeps full precision and answers bad input as values', () => {
    const b = new Book()
    b.apply(addGrant(b.state, { id: 'g', credits: '0.1' }, T0))
    b.apply(deduct(b.state, { credits: decimal('0.00000000000000000001'), eventIds: ['e'] }, T0))
    expect(b.balance()).toBe('0.09999999999999999999')
    expect(deduct(b.state, { credits: '-1', eventIds: ['e'] }, T0)).toMatchObject({ ok: false, code: 'invalid_credits' })
    expect(deduct(b.state, { credits: '1', eventIds: [] }, T0)).toMatchObject({ ok: false, code: 'missing_event_ids' })
    expect(addGrant(b.state, { id: 'x', credits: '1', expiresAtMs: T0 - 1 }, T0)).toMatchObject({ ok: false, code: 'invalid_expiry' })
    expect(addGrant(b.state, { id: 'x', credits: '1', effectiveAtMs: T0 - 10, expiresAtMs: T0 }, T0)).toMatchObject({ ok: false, code: 'grant_expired' })
    expect(addGrant(b.state, { id: 'x', credits: '1', priority: 1.5 }, T0)).toMatchObject({ ok: false, code: 'invalid_priority' })
  })
})

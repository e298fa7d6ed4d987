// Proration worked out by hand on a $49/month plan, and held to summing to exactly one whole.
import Big from 'big.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Period } from './periods.js'
import { prorate, prorationFraction } from './proration.js'

const t = (s: string) => Date.parse(s)
// November 2026 on a UTC calendar anchor: 30 days = 2,592,000 s.
const NOVEMBER: Period = { startMs: t('2026-11-01T00:00:00Z'), endMs: t('2026-12-01T00:00:00Z') }
const END = NOVEMBER.endMs
const PRICE = new Big('49')

describe('prorating a $49/month flat fee', () => {
  it('a start on Nov 10 pays 21/30 of November', () => {
    // [Nov 10, Dec 1) is 21 days of 30: 0.7, and 49 × 0.7 = 34.3.
    expect(prorationFraction(NOVEMBER, t('2026-11-10T00:00:00Z'), END).toString()).toBe('0.7')
    expect(prorate(PRICE, NOVEMBER, t('2026-11-10T00:00:00Z'), END).toString()).toBe('34.3')
  })

  it('a change on Nov 20 at noon splits the rest of November in two halves', () => {
    // [Nov 10, Nov 20 12:00) and [Nov 20 12:00, Dec 1) are 10.5 days each: 10.5/30 = 0.35.
    const change = t('2026-11-20T12:00:00Z')
    expect(prorationFraction(NOVEMBER, t('2026-11-10T00:00:00Z'), change).toString()).toBe('0.35')
    // The old plan's unused part is credited: 49 × 0.35 = 17.15 of the 34.3 paid in advance.
    expect(prorate(PRICE, NOVEMBER, change, END).toString()).toBe('17.15')
    // A $99 plan from the change: 99 × 0.35 = 34.65.
    expect(prorate(new Big('99'), NOVEMBER, change, END).toString()).toBe('34.65')
  })

  it('a cancel one second before the end refunds 1/2,592,000 of the fee', () => {
    const cancel = t('2026-11-30T23:59:59Z')
    // 1/2,592,000 = 0.000000385802469135802469…: 20 places give 0.00000038580246913580 (next
    // digit 2). As a difference of positions: 2,591,999/2,592,000 = 0.99999961419753086419|75…
    // rounds up to …86420, and 1 − 0.99999961419753086420 is the same 0.0000003858024691358.
    expect(prorationFraction(NOVEMBER, cancel, END).toString()).toBe('0.0000003858024691358')
    // 49 × 3,858,024,691,358 = 189,043,209,876,542, at 20 places.
    expect(prorate(PRICE, NOVEMBER, cancel, END).toString()).toBe('0.0000189043209876542')
    // The part kept, from the Nov 10 start: 0.99999961419753086420 − 0.3.
    expect(prorationFraction(NOVEMBER, t('2026-11-10T00:00:00Z'), cancel).toString()).toBe('0.6999996141975308642')
  })

  it('counts milliseconds: 1.5 s is 1.5 s', () => {
    // 1.5/2,592,000 = 1/1,728,000 = 0.00000057870370370370|37…
    expect(prorationFraction(NOVEMBER, END - 1500, END).toString()).toBe('0.0000005787037037037')
  })

  it('a November in Los Angeles has 721 hours', () => {
    // [2026-11-01T07:00Z, 2026-12-01T08:00Z): the fall-back day is 25 h. Half of it, 360.5 h,
    // runs from Nov 16 07:30Z (not from the UTC midpoint): 49 × 0.5 = 24.5.
    const la: Period = { startMs: t('2026-11-01T07:00:00Z'), endMs: t('2026-12-01T08:00:00Z') }
    expect(prorate(PRICE, la, t('2026-11-16T07:30:00Z'), la.endMs).toString()).toBe('24.5')
  })

  it('clips the part to the period', () => {
    // [Oct 15, Nov 10) covers [Nov 1, Nov 10) of November: 9/30 = 0.3.
    expect(prorationFraction(NOVEMBER, t('2026-10-15T00:00:00Z'), t('2026-11-10T00:00:00Z')).toString()).toBe('0.3')
    expect(prorationFraction(NOVEMBER, t('2026-10-01T00:00:00Z'), t('2027-01-01T00:00:00Z')).toString()).toBe('1')
    expect(prorationFraction(NOVEMBER, t('2026-12-01T00:00:00Z'), t('2026-12-05T00:00:00Z')).toString()).toBe('0')
    expect(prorationFraction(NOVEMBER, t('2026-11-20T00:00:00Z'), t('2026-11-10T00:00:00Z')).toString()).toBe('0')
  })

  it('rounds positions, so thirds still sum to one', () => {
    // Positions 1/3 → 0.33333333333333333333 and 2/3 → 0.66666666666666666667: the middle
    // third takes the rounding.
    const period: Period = { startMs: 0, endMs: 3 }
    const thirds = [prorationFraction(period, 0, 1), prorationFraction(period, 1, 2), prorationFraction(period, 2, 3)]
    expect(thirds.map(String)).toEqual(['0.33333333333333333333', '0.33333333333333333334', '0.33333333333333333333'])
    expect(thirds[0]!.plus(thirds[1]!).plus(thirds[2]!).toString()).toBe('1')
  })

  it('refuses an empty period', () => {
    expect(() => prorationFraction({ startMs: 5, endMs: 5 }, 0, 10)).toThrow(RangeError)
  })
})

describe('proration over any split of a period', () => {
  const YEAR_MS = 366 * 86_400_000
  const splitPeriod = fc.tuple(
    fc.integer({ min: t('1990-01-01T00:00:00Z'), max: t('2060-01-01T00:00:00Z') }),
    fc.integer({ min: 1, max: YEAR_MS }),
    fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 }),
  ).map(([startMs, lengthMs, cuts]) => {
    const period = { startMs, endMs: startMs + lengthMs }
    const inner = cuts.map((c) => startMs + Math.floor(c * lengthMs)).sort((a, b) => a - b)
    return { period, edges: [startMs, ...inner, period.endMs] }
  })

  it('fractions sum to exactly 1, each within 1e-20 of the exact ratio', () => {
    fc.assert(fc.property(splitPeriod, fc.integer({ min: 0, max: 1_000_000_000 }), ({ period, edges }, cents) => {
      const lengthMs = period.endMs - period.startMs
      const amount = new Big(cents).div(100)
      let fractions = new Big(0)
      let amounts = new Big(0)
      for (let i = 1; i < edges.length; i++) {
        const [from, to] = [edges[i - 1]!, edges[i]!]
        const f = prorationFraction(period, from, to)
        expect(f.gte(0) && f.lte(1)).toBe(true)
        // |f − (to − from)/length| ≤ 1e-20, multiplied through by length to stay exact.
        expect(f.times(lengthMs).minus(to - from).abs().lte(new Big(lengthMs).times('1e-20'))).toBe(true)
        fractions = fractions.plus(f)
        amounts = amounts.plus(prorate(amount, period, from, to))
      }
      expect(fractions.toString()).toBe('1')
      expect(amounts.eq(amount)).toBe(true)
    }), { numRuns: 300 })
  })
})

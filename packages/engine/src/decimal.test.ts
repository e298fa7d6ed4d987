import Big from 'big.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DecimalSum, compareNumeric, formatDecimal } from './decimal.js'

const value = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer({ min: -1e9, max: 1e9 }).map((n) => n / 1000),
  fc.integer({ min: -1e6, max: 1e6 }).map((n) => n / 10),
  fc.constantFrom(0.1, 0.2, 0.3, 12.5, 1e-7, 2 ** 53, -0, 999_999_999.999999, 1e21),
  fc.stringMatching(/^-?\d{1,30}(\.\d{1,30})?$/).map((s) => new Big(s)),
)

describe('DecimalSum', () => {
  it('equals the plain big.js sum of the values’ decimal forms', () => {
    fc.assert(
      fc.property(fc.array(value, { maxLength: 60 }), fc.nat(60), (values, split) => {
        const expected = values.reduce<Big>((s, v) => s.plus(typeof v === 'number' ? new Big(String(v)) : v), new Big(0))
        const a = new DecimalSum()
        const b = new DecimalSum()
        values.forEach((v, i) => (i < split ? a : b).add(v))
        a.merge(DecimalSum.of(formatDecimal(b.value())))
        expect(formatDecimal(a.value())).toBe(formatDecimal(expected))
        expect(a.text()).toBe(formatDecimal(expected))
        expect(b.text()).toBe(formatDecimal(b.value()))
      }),
      { numRuns: 2000 },
    )
  })

  it('reads stored sums back exactly, short or long', () => {
    fc.assert(
      fc.property(fc.array(value, { maxLength: 30 }), fc.array(value, { maxLength: 30 }), (xs, ys) => {
        const a = new DecimalSum()
        const b = new DecimalSum()
        xs.forEach((v) => a.add(v))
        ys.forEach((v) => b.add(v))
        const restored = DecimalSum.of(a.text())
        restored.merge(DecimalSum.of(b.text()))
        expect(restored.text()).toBe(formatDecimal(a.value().plus(b.value())))
      }),
      { numRuns: 1000 },
    )
  })

  it('0.1 + 0.2 is exactly 0.3', () => {
    const s = new DecimalSum()
    s.add(0.1)
    s.add(0.2)
    expect(formatDecimal(s.value())).toBe('0.3')
  })

  it('compares numbers and decimals by value', () => {
    fc.assert(
      fc.property(value, value, (a, b) => {
        const da = typeof a === 'number' ? new Big(String(a)) : a
        const db = typeof b === 'number' ? new Big(String(b)) : b
        expect(Math.sign(compareNumeric(a, b))).toBe(da.cmp(db))
      }),
    )
  })
})

import Big from 'big.js'
import { describe, expect, it } from 'vitest'
import { formatMoney, minorUnits, roundMoney } from './currency.js'

const round = (amount: string, currency: string) => roundMoney(new Big(amount), currency).toString()

describe('minorUnits', () => {
  it.each([
    ['USD', 2], ['EUR', 2], ['GBP', 2], ['JPY', 0], ['KRW', 0], ['ISK', 0], ['XOF', 0],
    ['KWD', 3], ['BHD', 3], ['TND', 3], ['CLF', 4], ['UYW', 4], ['ZWG', 2], ['XCG', 2],
  ])('%s has %i', (code, units) => expect(minorUnits(code)).toBe(units))

  it('gives 2 to unknown 3-letter codes and to codes without a minor unit', () => {
    expect(minorUnits('QQQ')).toBe(2)
    expect(minorUnits('XAU')).toBe(2)
  })

  it('reads lower-case codes and refuses what is not a code', () => {
    expect(minorUnits('jpy')).toBe(0)
    expect(() => minorUnits('US')).toThrow(RangeError)
    expect(() => minorUnits('USD ')).toThrow(RangeError)
  })
})

describe('roundMoney', () => {
  it('rounds half-up to the minor unit', () => {
    expect(round('0.005', 'USD')).toBe('0.01')
    expect(round('0.004999', 'USD')).toBe('0')
    expect(round('0.5', 'JPY')).toBe('1')
    expect(round('1.4999', 'JPY')).toBe('1')
    expect(round('1.0005', 'KWD')).toBe('1.001')
    expect(round('1.00049', 'KWD')).toBe('1')
    expect(round('0.00005', 'CLF')).toBe('0.0001')
  })

  it('is symmetric for negatives: .5 goes away from zero', () => {
    expect(round('-0.005', 'USD')).toBe('-0.01')
    expect(round('-0.004999', 'USD')).toBe('0')
    expect(round('-0.5', 'JPY')).toBe('-1')
    expect(round('-1.0005', 'KWD')).toBe('-1.001')
  })

  it('keeps every digit of huge amounts', () => {
    expect(round('1000000000000000000000000000000.005', 'USD')).toBe('1000000000000000000000000000000.01')
  })

  it('does not depend on big.js global settings at the call', () => {
    const saved = Big.RM
    try {
      Big.RM = Big.roundDown
      expect(round('0.005', 'USD')).toBe('0.01')
    } finally {
      Big.RM = saved
    }
  })
})

describe('formatMoney', () => {
  it('writes exactly the minor digits', () => {
    expect(formatMoney(new Big('12.5'), 'USD')).toBe('12.50')
    expect(formatMoney(new Big('1000'), 'JPY')).toBe('1000')
    expect(formatMoney(new Big('0.125'), 'KWD')).toBe('0.125')
    expect(formatMoney(new Big('1'), 'CLF')).toBe('1.0000')
    expect(formatMoney(new Big('0.005'), 'USD')).toBe('0.01')
    expect(formatMoney(new Big('1e30'), 'USD')).toBe('1000000000000000000000000000000.00')
  })

  it('never writes a negative zero', () => {
    expect(formatMoney(new Big('-0.001'), 'USD')).toBe('0.00')
    expect(formatMoney(new Big('-0.4'), 'JPY')).toBe('0')
    expect(formatMoney(new Big('-0.005'), 'USD')).toBe('-0.01')
  })
})

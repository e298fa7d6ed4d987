import Big from 'big.js'
import { describe, expect, it } from 'vitest'
import type { SimplePrice } from '@meterkit/protocol'
import { priceAmount } from './price.js'

const amount = (price: SimplePrice, quantity: string) => priceAmount(price, new Big(quantity)).toString()
const HUGE = '1000000000000000000000000000000' // 1e30, written out

// 0.1 up to 100, 0.05 (+2 flat) up to 1000, 0.01 (+1 flat) beyond.
const TIERS = [
  { upTo: '100', unitAmount: '0.1' },
  { upTo: '1000', unitAmount: '0.05', flatAmount: '2' },
  { upTo: null, unitAmount: '0.01', flatAmount: '1' },
]

describe('per_unit', () => {
  const price: SimplePrice = { model: 'per_unit', unitAmount: '0.0004' }
  it.each([
    ['0', '0'],
    ['0.5', '0.0002'],
    ['100.000001', '0.0400000004'],
    [HUGE, '400000000000000000000000000'],
  ])('%s units cost %s', (q, expected) => expect(amount(price, q)).toBe(expected))

  it('prices a negative quantity as zero', () => expect(amount(price, '-5')).toBe('0'))
})

describe('package', () => {
  const up: SimplePrice = { model: 'package', packageSize: '100', amount: '5' }
  const down: SimplePrice = { model: 'package', packageSize: '100', amount: '5', round: 'down' }
  it.each([
    ['0', '0', '0'],
    ['0.5', '5', '0'],
    ['99.999', '5', '0'],
    ['100', '5', '5'],
    ['100.000001', '10', '5'],
    ['200', '10', '10'],
    [HUGE, '50000000000000000000000000000', '50000000000000000000000000000'],
  ])('%s units: %s rounded up, %s rounded down', (q, upAmount, downAmount) => {
    expect(amount(up, q)).toBe(upAmount)
    expect(amount(down, q)).toBe(downAmount)
  })

  it('counts whole packages exactly where a 20-place quotient would round', () => {
    const size1 = (round: 'up' | 'down'): SimplePrice => ({ model: 'package', packageSize: '1', amount: '1', round })
    expect(amount(size1('down'), '2.999999999999999999999')).toBe('2')
    expect(amount(size1('up'), '2.999999999999999999999')).toBe('3')
    expect(amount(size1('up'), '3.000000000000000000001')).toBe('4')
    expect(amount(size1('down'), '3.000000000000000000001')).toBe('3')
  })

  it('takes fractional package sizes', () => {
    const price: SimplePrice = { model: 'package', packageSize: '0.3', amount: '2' }
    expect(amount(price, '0.9')).toBe('6')
    expect(amount(price, '0.90001')).toBe('8')
    expect(amount({ model: 'package', packageSize: '0.0000001', amount: '1' }, HUGE)).toBe(`${HUGE}0000000`)
  })
})

describe('graduated and volume on the same usage', () => {
  const graduated: SimplePrice = { model: 'graduated', tiers: TIERS }
  const volume: SimplePrice = { model: 'volume', tiers: TIERS }
  // graduated: 0.1 × min(q, 100) + 0.05 × (q in 100..1000) + 2 once past 100 + 0.01 × (q − 1000) + 1 once past 1000
  // volume: q × the reached tier's unitAmount + its flatAmount
  it.each([
    ['0', '0', '0'],
    ['0.5', '0.05', '0.05'],
    ['100', '10', '10'], // exactly at upTo: still the first tier, no flat amount of the second
    ['100.000001', '12.00000005', '7.00000005'],
    ['100.5', '12.025', '7.025'],
    ['101', '12.05', '7.05'], // one unit past
    ['1000', '57', '52'],
    ['1001', '58.01', '11.01'],
    [HUGE, '10000000000000000000000000048', '10000000000000000000000000001'],
  ])('%s units: graduated %s, volume %s', (q, g, v) => {
    expect(amount(graduated, q)).toBe(g)
    expect(amount(volume, q)).toBe(v)
  })

  it('charges a flat-only tier once any unit falls in it (graduated) or it is reached (volume)', () => {
    const tiers = [{ upTo: '10', flatAmount: '5' }, { upTo: null, unitAmount: '1' }]
    expect(amount({ model: 'graduated', tiers }, '0')).toBe('0')
    expect(amount({ model: 'graduated', tiers }, '0.5')).toBe('5')
    expect(amount({ model: 'graduated', tiers }, '10')).toBe('5')
    expect(amount({ model: 'graduated', tiers }, '11.5')).toBe('6.5')
    expect(amount({ model: 'volume', tiers }, '0')).toBe('0')
    expect(amount({ model: 'volume', tiers }, '10')).toBe('5')
    expect(amount({ model: 'volume', tiers }, '11.5')).toBe('11.5')
  })

  it('gives a single unbounded tier the per_unit price', () => {
    const tiers = [{ upTo: null, unitAmount: '3' }]
    expect(amount({ model: 'graduated', tiers }, '7.5')).toBe('22.5')
    expect(amount({ model: 'volume', tiers }, '7.5')).toBe('22.5')
  })

  it('prices a negative quantity as zero', () => {
    expect(amount(graduated, '-1')).toBe('0')
    expect(amount(volume, '-1')).toBe('0')
  })
})

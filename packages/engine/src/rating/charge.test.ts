import Big from 'big.js'
import { describe, expect, it } from 'vitest'
import { incrementCost, rateCharge, type RatedLine, type UsageCharge } from './index.js'

const d = (text: string) => new Big(text)
const plain = (lines: RatedLine[]) => lines.map((l) => ({ ...l, quantity: l.quantity.toString(), amount: l.amount.toString() }))
const usage = (entries: Record<string, string>) => ({ quantity: d('0'), byDimension: new Map(Object.entries(entries).map(([k, v]) => [k, d(v)])) })

const perUnit: UsageCharge = { key: 'render', meter: 'render_seconds', model: 'per_unit', unitAmount: '4' }
const clips: UsageCharge = {
  key: 'clips', meter: 'clips', model: 'graduated',
  tiers: [{ upTo: '100', unitAmount: '0' }, { upTo: null, unitAmount: '0.05' }],
}

describe('non-dimensional charges', () => {
  it('rate to one line, described briefly', () => {
    expect(plain(rateCharge(perUnit, { quantity: d('12.5') }))).toEqual([
      { description: 'render_seconds: 12.5 × 4', quantity: '12.5', amount: '50' },
    ])
    expect(plain(rateCharge(clips, { quantity: d('150') }))).toEqual([
      { description: 'clips: 100 × 0 + 50 × 0.05', quantity: '150', amount: '2.5' },
    ])
  })

  it('keep the line at zero usage', () => {
    expect(plain(rateCharge(perUnit, { quantity: d('0') }))).toEqual([{ description: 'render_seconds: 0 × 4', quantity: '0', amount: '0' }])
  })

  it('take freeUnits off the quantity first, never below zero', () => {
    const free: UsageCharge = { ...clips, freeUnits: '50' }
    expect(plain(rateCharge(free, { quantity: d('150.5') }))).toEqual([
      { description: 'clips: 100 × 0 + 0.5 × 0.05 (after 50 free)', quantity: '100.5', amount: '0.025' },
    ])
    const generous: UsageCharge = { ...perUnit, freeUnits: '100' }
    expect(plain(rateCharge(generous, { quantity: d('40') }))).toEqual([
      { description: 'render_seconds: 0 × 4 (after 40 free)', quantity: '0', amount: '0' },
    ])
  })

  it('raise the amount to the minimum, zero usage included', () => {
    const min: UsageCharge = { ...perUnit, minimum: '10' }
    expect(plain(rateCharge(min, { quantity: d('0') }))).toEqual([
      { description: 'render_seconds: 0 × 4 (minimum 10)', quantity: '0', amount: '10', adjustment: 'minimum' },
    ])
    expect(rateCharge(min, { quantity: d('2.5') })[0]!.amount.toString()).toBe('10')
    expect(rateCharge(min, { quantity: d('3') })[0]).not.toHaveProperty('adjustment')
  })

  it('cap the amount at the maximum', () => {
    const max: UsageCharge = { ...perUnit, maximum: '100' }
    expect(plain(rateCharge(max, { quantity: d('30') }))).toEqual([
      { description: 'render_seconds: 30 × 4 (maximum 100)', quantity: '30', amount: '100', adjustment: 'maximum' },
    ])
    expect(rateCharge(max, { quantity: d('25') })[0]!.amount.toString()).toBe('100')
  })

  it('let the maximum win when a configuration crosses minimum and maximum', () => {
    const crossed: UsageCharge = { ...perUnit, minimum: '10', maximum: '5' }
    expect(rateCharge(crossed, { quantity: d('0') })[0]!.amount.toString()).toBe('5')
  })

  it('describe package and volume pricing', () => {
    const storage: UsageCharge = { key: 'storage', meter: 'storage_gb', model: 'package', packageSize: '100', amount: '5' }
    expect(rateCharge(storage, { quantity: d('250') })[0]!.description).toBe('storage_gb: 250 in 3 packages of 100 × 5')
    const gpus: UsageCharge = {
      key: 'gpus', meter: 'peak_gpus', model: 'volume', description: 'Peak GPUs',
      tiers: [{ upTo: '8', unitAmount: '10' }, { upTo: null, unitAmount: '8', flatAmount: '20' }],
    }
    expect(plain(rateCharge(gpus, { quantity: d('10') }))).toEqual([{ description: 'Peak GPUs: 10 × 8 + 20', quantity: '10', amount: '100' }])
  })
})

describe('dimensional charges', () => {
  const render: UsageCharge = {
    key: 'render', meter: 'render_seconds', unit: 'credits', model: 'dimensional', dimension: 'resolution',
    prices: { '4k': { model: 'per_unit', unitAmount: '4' }, '*': { model: 'per_unit', unitAmount: '1' } },
  }

  it('give one line per value with usage: listed values first, then "*" values by JSON key', () => {
    const lines = rateCharge(render, usage({ 'null': '3', '"720p"': '0', '"1080p"': '10', '"4k"': '12.5' }))
    expect(plain(lines)).toEqual([
      { dimensionValue: '"4k"', description: 'render_seconds resolution=4k: 12.5 × 4', quantity: '12.5', amount: '50' },
      { dimensionValue: '"1080p"', description: 'render_seconds resolution=1080p: 10 × 1', quantity: '10', amount: '10' },
      { dimensionValue: 'null', description: 'render_seconds resolution=null: 3 × 1', quantity: '3', amount: '3' },
    ])
  })

  it('charge nothing for values with neither a listed nor a "*" price', () => {
    const only4k: UsageCharge = { ...render, prices: { '4k': { model: 'per_unit', unitAmount: '4' } } }
    expect(rateCharge(only4k, usage({ '"1080p"': '10', '"4k"': '1' })).map((l) => l.dimensionValue)).toEqual(['"4k"'])
    expect(rateCharge(only4k, usage({ '"1080p"': '10' }))).toEqual([])
  })

  it('match a listed key with the value’s plain form; null only with "*"', () => {
    const charge: UsageCharge = {
      ...render,
      prices: { 'true': { model: 'per_unit', unitAmount: '2' }, '5': { model: 'per_unit', unitAmount: '3' }, 'null': { model: 'per_unit', unitAmount: '9' } },
    }
    const lines = rateCharge(charge, usage({ 'null': '1', '"5"': '1', 'true': '1', '5': '1', '"true"': '1' }))
    // Integer-like keys come first in a JavaScript object, so "5" is listed before "true".
    expect(lines.map((l) => [l.dimensionValue, l.amount.toString()])).toEqual([['"5"', '3'], ['5', '3'], ['"true"', '2'], ['true', '2']])
  })

  it('use freeUnits up along the line order', () => {
    const free: UsageCharge = { ...render, freeUnits: '15' }
    expect(plain(rateCharge(free, usage({ '"1080p"': '10', '"4k"': '12.5' })))).toEqual([
      { dimensionValue: '"4k"', description: 'render_seconds resolution=4k: 0 × 4 (after 12.5 free)', quantity: '0', amount: '0' },
      { dimensionValue: '"1080p"', description: 'render_seconds resolution=1080p: 7.5 × 1 (after 2.5 free)', quantity: '7.5', amount: '7.5' },
    ])
  })

  it('add one line for a minimum, carrying the difference', () => {
    const min: UsageCharge = { ...render, minimum: '100' }
    const lines = rateCharge(min, usage({ '"1080p"': '10', '"4k"': '12.5' }))
    expect(plain(lines).at(-1)).toEqual({ description: 'render_seconds: minimum 100', quantity: '0', amount: '40', adjustment: 'minimum' })
    expect(lines.reduce((s, l) => s.plus(l.amount), d('0')).toString()).toBe('100')
  })

  it('make the minimum line the only line at zero usage', () => {
    const min: UsageCharge = { ...render, minimum: '100' }
    expect(plain(rateCharge(min, usage({})))).toEqual([{ description: 'render_seconds: minimum 100', quantity: '0', amount: '100', adjustment: 'minimum' }])
    expect(plain(rateCharge(min, { quantity: d('0') }))).toHaveLength(1)
    expect(rateCharge(render, usage({ '"4k"': '0' }))).toEqual([])
  })

  it('add one negative line for a maximum', () => {
    const max: UsageCharge = { ...render, maximum: '20' }
    const lines = plain(rateCharge(max, usage({ '"1080p"': '10', '"4k"': '12.5' })))
    expect(lines).toHaveLength(3)
    expect(lines[2]).toEqual({ description: 'render_seconds: maximum 20', quantity: '0', amount: '-40', adjustment: 'maximum' })
  })

  it('refuse a usage key that is not the JSON form of a scalar', () => {
    expect(() => rateCharge(render, usage({ '4k': '1' }))).toThrow(TypeError)
  })
})

describe('incrementCost', () => {
  it('prices the increment at the tiers it crosses', () => {
    expect(incrementCost(clips, d('90'), d('110')).toString()).toBe('0.5')
    expect(incrementCost(clips, d('110'), d('110')).toString()).toBe('0')
    const volume: UsageCharge = { ...clips, model: 'volume', tiers: [{ upTo: '8', unitAmount: '10' }, { upTo: null, unitAmount: '8' }] }
    expect(incrementCost(volume, d('8'), d('9')).toString()).toBe('-8') // 80 → 72: volume pricing can fall
    expect(incrementCost(volume, d('0'), d('1')).toString()).toBe('10')
  })

  it('applies freeUnits, minimum and maximum', () => {
    expect(incrementCost({ ...perUnit, freeUnits: '10' }, d('5'), d('12')).toString()).toBe('8')
    expect(incrementCost({ ...perUnit, minimum: '10' }, d('0'), d('2')).toString()).toBe('0')
    expect(incrementCost({ ...perUnit, minimum: '10' }, d('2'), d('3')).toString()).toBe('2')
    expect(incrementCost({ ...perUnit, maximum: '10' }, d('2'), d('5')).toString()).toBe('2')
  })

  it('prices one value of a dimensional charge, with the other values as context', () => {
    const render: UsageCharge = {
      key: 'render', meter: 'render_seconds', model: 'dimensional', dimension: 'resolution', freeUnits: '10',
      prices: { '4k': { model: 'per_unit', unitAmount: '4' }, '*': { model: 'per_unit', unitAmount: '1' } },
    }
    expect(incrementCost(render, d('0'), d('5'), '"4k"').toString()).toBe('0')
    const others = new Map([['"4k"', d('8')]])
    expect(incrementCost(render, d('0'), d('5'), '"1080p"', others).toString()).toBe('3')
    expect(() => incrementCost(render, d('0'), d('5'))).toThrow(TypeError)
  })

  it('adds no line when crossed limits leave the amount as it was', () => {
    const charge = { key: 'c', meter: 'm', minimum: '0.01', maximum: '0.00', model: 'dimensional', dimension: 'resolution',
      prices: { '4k': { model: 'volume', tiers: [{ upTo: null, unitAmount: '0' }] } } } as const
    expect(rateCharge(charge as never, { quantity: new Big(0), byDimension: new Map() })).toEqual([])
  })
})

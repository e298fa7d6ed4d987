// The rating engine against a slow reference written from the contract alone: plain BigInt
// fixed-point arithmetic (no big.js), graduated prices walked one grain of usage at a time,
// packages counted by integer division. Plus incrementCost's telescoping and monotonicity.
import Big from 'big.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { SimplePrice } from '@meterkit/protocol'
import { incrementCost, priceAmount, rateCharge, type UsageCharge } from './index.js'

// ---- the reference: every value a bigint count of 10^-30 ----
const SCALE = 10n ** 30n
type Tier = { upTo: string | null; unitAmount?: string; flatAmount?: string }

function fx(text: string | undefined): bigint {
  if (text === undefined) return 0n
  const [whole, fraction = ''] = text.split('.')
  if (fraction.length > 30) throw new Error(`reference keeps 30 places, got ${text}`)
  return BigInt(whole!) * SCALE + BigInt(fraction.padEnd(30, '0'))
}
function mul(a: bigint, b: bigint): bigint {
  if ((a * b) % SCALE !== 0n) throw new Error('reference product needs more than 30 places')
  return (a * b) / SCALE
}
const max0 = (x: bigint) => (x < 0n ? 0n : x)
const fromBig = (value: Big) => (value.lt(0) ? -fx(value.abs().toFixed()) : fx(value.toFixed()))
function text(x: bigint): string {
  const abs = x < 0n ? -x : x
  const fraction = (abs % SCALE).toString().padStart(30, '0').replace(/0+$/, '')
  return `${x < 0n ? '-' : ''}${abs / SCALE}${fraction === '' ? '' : `.${fraction}`}`
}

/** Graduated by walking: each grain of usage is priced at the tier its upper end falls in. */
function walkGraduated(tiers: Tier[], q: bigint, grain: bigint): bigint {
  let amount = 0n
  const touched = new Set<number>()
  for (let x = 0n; x < q; x += grain) {
    const i = tiers.findIndex((t) => t.upTo === null || x + grain <= fx(t.upTo))
    amount += mul(grain, fx(tiers[i]!.unitAmount))
    touched.add(i)
  }
  return amount + [...touched].reduce((s, i) => s + fx(tiers[i]!.flatAmount), 0n)
}

/** Graduated by formula: each tier's width clipped to the usage. */
function formulaGraduated(tiers: Tier[], q: bigint): bigint {
  let amount = 0n
  tiers.forEach((t, i) => {
    const lower = i === 0 ? 0n : fx(tiers[i - 1]!.upTo!)
    const upper = t.upTo === null ? q : fx(t.upTo) < q ? fx(t.upTo) : q
    if (upper > lower) amount += mul(upper - lower, fx(t.unitAmount)) + fx(t.flatAmount)
  })
  return amount
}

function refPrice(price: SimplePrice, quantity: bigint, grain?: bigint): bigint {
  const q = max0(quantity)
  switch (price.model) {
    case 'per_unit': return mul(q, fx(price.unitAmount))
    case 'package': {
      const size = fx(price.packageSize)
      const packages = q / size + ((price.round ?? 'up') === 'up' && q % size !== 0n ? 1n : 0n)
      return packages * fx(price.amount)
    }
    case 'graduated': return grain === undefined ? formulaGraduated(price.tiers, q) : walkGraduated(price.tiers, q, grain)
    case 'volume': {
      if (q === 0n) return 0n
      const t = price.tiers.find((t) => t.upTo === null || q <= fx(t.upTo))!
      return mul(q, fx(t.unitAmount)) + fx(t.flatAmount)
    }
  }
}

function bounded(charge: UsageCharge, amount: bigint): bigint {
  let a = amount
  if (charge.minimum !== undefined && a < fx(charge.minimum)) a = fx(charge.minimum)
  if (charge.maximum !== undefined && a > fx(charge.maximum)) a = fx(charge.maximum)
  return a
}

/** Lines as [dimension value, quantity, amount] texts, the adjustment line last. */
function refRate(charge: UsageCharge, quantity: bigint, byDimension: Map<string, bigint>): [string | undefined, string, string][] {
  if (charge.model !== 'dimensional') {
    const q = max0(max0(quantity) - fx(charge.freeUnits))
    return [[undefined, text(q), text(bounded(charge, refPrice(charge, q)))]]
  }
  const listed = Object.keys(charge.prices).filter((k) => k !== '*')
  const rank = (key: string): number | undefined => {
    const v: unknown = JSON.parse(key)
    const i = v === null ? -1 : listed.indexOf(String(v))
    return i >= 0 ? i : '*' in charge.prices ? listed.length : undefined
  }
  const values = [...byDimension].filter(([k, q]) => q > 0n && rank(k) !== undefined)
    .sort(([a], [b]) => rank(a)! - rank(b)! || (a < b ? -1 : a > b ? 1 : 0))
  let free = fx(charge.freeUnits)
  let total = 0n
  const lines: [string | undefined, string, string][] = values.map(([key, used]) => {
    const q = max0(used - free)
    free -= used - q
    const r = rank(key)!
    const amount = refPrice(charge.prices[r < listed.length ? listed[r]! : '*']!, q)
    total += amount
    return [key, text(q), text(amount)]
  })
  const final = bounded(charge, total)
  if (final !== total) lines.push([undefined, '0', text(final - total)])
  return lines
}

// ---- arbitraries: decimal strings as a configuration holds them ----
const decimal = (maxWhole: number, places: number) =>
  fc.tuple(fc.integer({ min: 0, max: maxWhole }), fc.integer({ min: 0, max: 10 ** places - 1 }))
    .map(([w, f]) => (places === 0 ? String(w) : `${w}.${String(f).padStart(places, '0')}`))
const money = decimal(20, 4)
const GRAINS = ['1', '0.5', '0.25', '0.001']

/** Tiers with bounds on multiples of the grain (1–4 bounded tiers, then the open one). */
const tiersOn = (grain: string) =>
  fc.tuple(
    fc.uniqueArray(fc.integer({ min: 1, max: 300 }), { minLength: 0, maxLength: 4 }),
    fc.array(fc.oneof(
      fc.record({ unitAmount: money }),
      fc.record({ flatAmount: money }),
      fc.record({ unitAmount: money, flatAmount: money }),
    ), { minLength: 5, maxLength: 5 }),
  ).map(([bounds, prices]): Tier[] => {
    const ups = [...bounds].sort((a, b) => a - b).map((k) => text(BigInt(k) * fx(grain)))
    return [...ups, null].map((upTo, i) => ({ upTo, ...prices[i]! }))
  })

/** Usage often exactly at a tier's upTo, or one grain either side of it. */
const nearBounds = (tiers: Tier[], grain: string) => fc.oneof(
  fc.integer({ min: 0, max: 400 }).map((k) => BigInt(k) * fx(grain)),
  fc.tuple(fc.constantFrom(...tiers.map((t) => fx(t.upTo ?? '0'))), fc.constantFrom(-1n, 0n, 1n))
    .map(([upTo, step]) => max0(upTo + step * fx(grain))),
).map(text)

const onGrain = fc.constantFrom(...GRAINS).chain((grain) => tiersOn(grain).chain((tiers) => fc.record({
  grain: fc.constant(grain),
  tiers: fc.constant(tiers),
  quantity: nearBounds(tiers, grain),
  packageSize: fc.integer({ min: 1, max: 50 }).map((k) => text(BigInt(k) * fx(grain))),
  round: fc.constantFrom('up', 'down') as fc.Arbitrary<'up' | 'down'>,
  unitAmount: money,
  amount: money,
})))

const simplePrice: fc.Arbitrary<SimplePrice> = fc.constantFrom(...GRAINS).chain((grain) => fc.oneof(
  fc.record({ model: fc.constant('per_unit' as const), unitAmount: money }),
  fc.record({ model: fc.constant('package' as const), packageSize: decimal(50, 2).filter((s) => fx(s) > 0n), amount: money, round: fc.constantFrom('up' as const, 'down' as const) }),
  fc.record({ model: fc.constant('graduated' as const), tiers: tiersOn(grain) }),
  fc.record({ model: fc.constant('volume' as const), tiers: tiersOn(grain) }),
))

const extras = fc.record({ freeUnits: decimal(100, 2), minimum: decimal(200, 2), maximum: decimal(5000, 2) }, { requiredKeys: [] })
const KEYS = ['"4k"', '"1080p"', '"5"', '5', 'true', 'null', '"null"', '"x"']
const PRICE_KEYS = ['4k', '1080p', '5', 'true', 'null', '*']

const charge: fc.Arbitrary<UsageCharge> = fc.tuple(extras, fc.oneof(
  simplePrice,
  fc.dictionary(fc.constantFrom(...PRICE_KEYS), simplePrice, { minKeys: 1, maxKeys: 4 })
    .map((prices) => ({ model: 'dimensional' as const, dimension: 'resolution', prices })),
)).map(([x, p]) => ({ key: 'c', meter: 'm', ...x, ...p }) as UsageCharge)

const usageValue = decimal(300, 3)
const byDimension = fc.dictionary(fc.constantFrom(...KEYS), usageValue, { maxKeys: 7 })

const big = (m: Record<string, string>) => new Map(Object.entries(m).map(([k, v]) => [k, new Big(v)]))
const fixed = (m: Record<string, string>) => new Map(Object.entries(m).map(([k, v]) => [k, fx(v)]))
const total = (c: UsageCharge, quantity: Big, dims: Map<string, Big>) => rateCharge(c, { quantity, byDimension: dims }).reduce((s, l) => s.plus(l.amount), new Big(0))

describe('the engine agrees with the reference', () => {
  it('prices every model on grain-aligned usage, graduated walked unit by unit', () => {
    fc.assert(fc.property(onGrain, (g) => {
      const q = new Big(g.quantity)
      const prices: SimplePrice[] = [
        { model: 'per_unit', unitAmount: g.unitAmount },
        { model: 'package', packageSize: g.packageSize, amount: g.amount, round: g.round },
        { model: 'graduated', tiers: g.tiers },
        { model: 'volume', tiers: g.tiers },
      ]
      for (const price of prices) expect(fromBig(priceAmount(price, q)), price.model).toBe(refPrice(price, fx(g.quantity), fx(g.grain)))
      expect(formulaGraduated(g.tiers, fx(g.quantity))).toBe(walkGraduated(g.tiers, fx(g.quantity), fx(g.grain)))
    }))
  })

  it('prices huge and finely fractional quantities', () => {
    // Fractions a hair off a whole number put a package quotient within 10^-20 of an integer.
    const whole = fc.oneof(fc.bigInt({ min: 0n, max: 10n ** 30n }), fc.bigInt({ min: 0n, max: 400n }))
    const fraction = fc.oneof(
      fc.integer({ min: 0, max: 999_999 }).map((f) => String(f).padStart(6, '0')),
      fc.constantFrom('9'.repeat(24), `${'0'.repeat(23)}1`, '0'),
    )
    const huge = fc.tuple(whole, fraction).map(([w, f]) => `${w}.${f}`)
    fc.assert(fc.property(simplePrice, huge, (price, quantity) => {
      expect(fromBig(priceAmount(price, new Big(quantity)))).toBe(refPrice(price, fx(quantity)))
    }))
  })

  it('counts packages exactly a hair either side of a whole multiple', () => {
    const near = fc.record({
      size: decimal(50, 4).filter((t) => fx(t) > 0n),
      packages: fc.bigInt({ min: 0n, max: 10n ** 24n }),
      offset: fc.constantFrom(-1n, 0n, 1n).map((k) => k * 10n ** 6n), // ±10^-24
      round: fc.constantFrom('up' as const, 'down' as const),
    })
    fc.assert(fc.property(near, ({ size, packages, offset, round }) => {
      const q = max0(packages * fx(size) + offset)
      const price: SimplePrice = { model: 'package', packageSize: size, amount: '1', round }
      expect(fromBig(priceAmount(price, new Big(text(q))))).toBe(refPrice(price, q))
    }))
  })

  it('rates charges with freeUnits, minimum, maximum and dimensions', () => {
    fc.assert(fc.property(charge, usageValue, byDimension, (c, quantity, dims) => {
      const lines = rateCharge(c, { quantity: new Big(quantity), byDimension: big(dims) })
      expect(lines.map((l) => [l.dimensionValue, l.quantity.toString(), l.amount.toString()]))
        .toEqual(refRate(c, fx(quantity), fixed(dims)))
    }), { numRuns: 300 })
  })
})

describe('incrementCost', () => {
  it('summed over a sequence of increments is price(total) − price(0), each step the difference of totals', () => {
    const steps = fc.array(fc.record({ key: fc.constantFrom(...KEYS), delta: decimal(40, 3), back: fc.boolean() }), { maxLength: 15 })
    fc.assert(fc.property(charge, steps, (c, seq) => {
      let quantity = new Big(0)
      const dims = new Map<string, Big>()
      let sum = new Big(0)
      for (const { key, delta, back } of seq) {
        // Corrections (void, amend) take usage back: some steps go down, never below zero.
        const before = c.model === 'dimensional' ? dims.get(key) ?? new Big(0) : quantity
        const after = back ? (before.gte(delta) ? before.minus(delta) : new Big(0)) : before.plus(delta)
        const was = total(c, quantity, dims)
        const cost = c.model === 'dimensional' ? incrementCost(c, before, after, key, dims) : incrementCost(c, before, after)
        if (c.model === 'dimensional') dims.set(key, after)
        else quantity = after
        expect(cost.toString()).toBe(total(c, quantity, dims).minus(was).toString())
        sum = sum.plus(cost)
      }
      expect(sum.toString()).toBe(total(c, quantity, dims).minus(total(c, new Big(0), new Map())).toString())
    }), { numRuns: 200 })
  })
})

describe('graduated prices', () => {
  it('never fall as usage grows', () => {
    const price = fc.constantFrom(...GRAINS).chain(tiersOn).map((tiers): SimplePrice => ({ model: 'graduated', tiers }))
    fc.assert(fc.property(price, usageValue, usageValue, (p, a, b) => {
      const [low, high] = new Big(a).lte(b) ? [a, b] : [b, a]
      expect(priceAmount(p, new Big(low)).lte(priceAmount(p, new Big(high)))).toBe(true)
    }))
  })
})

// The four simple price models (per_unit, package, graduated, volume): what a quantity costs,
// exactly and unrounded. Rounding happens once, on the invoice line.
import Big from 'big.js'
import type { SimplePrice } from '@meterkit/protocol'
import { ZERO } from '../decimal.js'

export type Tier = Extract<SimplePrice, { model: 'graduated' }>['tiers'][number]

/** The units of a graduated quantity that fall in one tier, and that tier's prices. */
export interface TierPart {
  /** Index of the tier in the price's list. */
  tier: number
  units: Big
  unitAmount: Big
  flatAmount: Big
}

/**
 * The amount of one simple price model for a quantity (unrounded, exact). A negative quantity
 * (a sum meter over negative values) is priced as 0: usage never turns a charge into a refund.
 */
export function priceAmount(price: SimplePrice, quantity: Big): Big {
  const q = atLeastZero(quantity)
  switch (price.model) {
    case 'per_unit':
      return q.times(price.unitAmount)
    case 'package':
      return packageCount(q, new Big(price.packageSize), price.round ?? 'up').times(price.amount)
    case 'graduated':
      return graduatedParts(price.tiers, q).reduce((sum, p) => sum.plus(p.units.times(p.unitAmount)).plus(p.flatAmount), ZERO)
    case 'volume': {
      const reached = volumeTier(price.tiers, q)
      if (reached === undefined) return ZERO
      const tier = price.tiers[reached]!
      return q.times(amountOf(tier.unitAmount)).plus(amountOf(tier.flatAmount))
    }
  }
}

/** Whole packages for a quantity: rounded up (the default) or down. */
export function packageCount(quantity: Big, packageSize: Big, round: 'up' | 'down'): Big {
  // Division keeps 20 places, rounded half-up, so a quotient such as 2.999… (21 nines) reads as
  // 3. Rounding never takes a quotient below a whole number it is at or above, so the estimate
  // can only be too high, and an exact multiplication settles it.
  let whole = quantity.div(packageSize).round(0, Big.roundDown)
  if (whole.times(packageSize).gt(quantity)) whole = whole.minus(1)
  return round === 'up' && whole.times(packageSize).lt(quantity) ? whole.plus(1) : whole
}

/**
 * A graduated quantity split over its tiers: tier i holds the units in (upTo of tier i−1, upTo
 * of tier i], `upTo` being inclusive. Only tiers holding some units (a fraction counts) appear,
 * so a tier's flatAmount is charged exactly when it is listed here.
 */
export function graduatedParts(tiers: readonly Tier[], quantity: Big): TierPart[] {
  const parts: TierPart[] = []
  let lower = ZERO
  for (const [i, tier] of tiers.entries()) {
    if (quantity.lte(lower)) break
    // The last tier takes the rest even if a configuration bounded it, as in volumeTier.
    const open = tier.upTo === null || i === tiers.length - 1
    const upper = open || quantity.lte(tier.upTo!) ? quantity : new Big(tier.upTo!)
    if (upper.gt(lower)) {
      parts.push({ tier: i, units: upper.minus(lower), unitAmount: amountOf(tier.unitAmount), flatAmount: amountOf(tier.flatAmount) })
      lower = upper
    }
  }
  return parts
}

/**
 * The tier a volume quantity reaches: the first whose `upTo` is at or above it. Zero units reach
 * no tier (undefined), so a volume price costs nothing without usage, flatAmount included.
 */
export function volumeTier(tiers: readonly Tier[], quantity: Big): number | undefined {
  if (quantity.lte(0)) return undefined
  const i = tiers.findIndex((t) => t.upTo === null || quantity.lte(t.upTo))
  // The last tier is unbounded in a valid configuration; a bounded last tier still takes the rest.
  return i === -1 ? tiers.length - 1 : i
}

export function amountOf(text: string | undefined): Big {
  return text === undefined ? ZERO : new Big(text)
}

export function atLeastZero(value: Big): Big {
  return value.lt(0) ? ZERO : value
}

// A usage charge rated over a period's usage: freeUnits, the price model, then minimum and
// maximum; and the cost of an increment of usage, for deducting credits as events arrive.
import type Big from 'big.js'
import type { ChargeConfig, SimplePrice } from '@meterkit/protocol'
import { ZERO } from '../decimal.js'
import { describeLine, describePrice } from './describe.js'
import { displayForm, pricedValues } from './dimension.js'
import { amountOf, atLeastZero, priceAmount } from './price.js'

/** Every charge but the flat one: priced from a meter's usage. */
export type UsageCharge = Exclude<ChargeConfig, { model: 'flat' }>
type DimensionalCharge = Extract<UsageCharge, { model: 'dimensional' }>
type SimpleCharge = Exclude<UsageCharge, { model: 'dimensional' }>

export interface ChargeUsage {
  /** The meter's value over the period (0 when no usage). Dimensional charges read byDimension instead. */
  quantity: Big
  /** dimensional charges: value of each dimension value, keyed by the value's canonical JSON form (JSON.stringify of a scalar, e.g. '"4k"', '5', 'null'). */
  byDimension?: Map<string, Big>
}

export interface RatedLine {
  /** undefined for non-dimensional; for dimensional the dimension value's JSON key, and undefined again on the minimum/maximum adjustment line */
  dimensionValue?: string
  description: string                // e.g. 'render_seconds: 12.5 × 4' — short, human
  quantity: Big                      // units priced on this line (after freeUnits)
  amount: Big                        // exact, unrounded (money, or credits when charge.unit === 'credits')
  /**
   * Set when the charge's minimum or maximum changed the amount: on a non-dimensional charge's
   * only line (its amount includes the change), or on a dimensional charge's extra line, which
   * carries just the difference (positive for a minimum, negative for a maximum).
   */
  adjustment?: 'minimum' | 'maximum'
}

/**
 * The lines of a usage charge for its usage, exact and unrounded. A non-dimensional charge has
 * exactly one line, zero usage included. A dimensional charge has one line per priced value
 * with usage, then one adjustment line when its minimum or maximum changes the summed amount.
 */
export function rateCharge(charge: UsageCharge, usage: ChargeUsage): RatedLine[] {
  if (charge.model !== 'dimensional') return [rateSimple(charge, usage.quantity)]
  const { lines, total } = dimensionalLines(charge, usage.byDimension ?? new Map())
  const rated: RatedLine[] = lines.map((l) => ({
    dimensionValue: l.key,
    description: describeLine(`${labelOf(charge)} ${charge.dimension}=${displayForm(l.key)}`, describePrice(l.price, l.quantity), l.freeTaken),
    quantity: l.quantity,
    amount: l.amount,
  }))
  const bounded = bound(charge, total)
  if (bounded.adjustment !== undefined) {
    const limit = bounded.adjustment === 'minimum' ? charge.minimum! : charge.maximum!
    rated.push({
      description: `${labelOf(charge)}: ${bounded.adjustment} ${limit}`,
      quantity: ZERO,
      amount: bounded.amount.minus(total),
      adjustment: bounded.adjustment,
    })
  }
  return rated
}

/**
 * Credits/money an increment of usage costs: price(after) − price(before) for the charge's model
 * with freeUnits/minimum/maximum applied — so graduated and volume prices are right for real-time
 * deduction. Non-dimensional charges, or one dimension value of a dimensional charge: then
 * `before` and `after` are that value's usage, and `byDimension` the usage of the charge's other
 * values at that moment (this value's entry is ignored). freeUnits, minimum and maximum span all
 * values of a dimensional charge, so without `byDimension` the value is rated as if it were the
 * only one used. A dimension value given for a non-dimensional charge is ignored.
 */
export function incrementCost(charge: UsageCharge, before: Big, after: Big, dimensionValue?: string, byDimension?: Map<string, Big>): Big {
  if (charge.model !== 'dimensional') return simpleTotal(charge, after).minus(simpleTotal(charge, before))
  if (dimensionValue === undefined) throw new TypeError(`dimensional charge "${charge.key}" needs the dimension value of the increment`)
  const usage = new Map(byDimension ?? [])
  usage.set(dimensionValue, after)
  const total = bound(charge, dimensionalLines(charge, usage).total).amount
  usage.set(dimensionValue, before)
  return total.minus(bound(charge, dimensionalLines(charge, usage).total).amount)
}

function rateSimple(charge: SimpleCharge, quantity: Big): RatedLine {
  const used = atLeastZero(quantity)
  const priced = atLeastZero(used.minus(amountOf(charge.freeUnits)))
  const bounded = bound(charge, priceAmount(charge, priced))
  const limit = bounded.adjustment === undefined
    ? undefined
    : { kind: bounded.adjustment, amount: bounded.adjustment === 'minimum' ? charge.minimum! : charge.maximum! }
  return {
    description: describeLine(labelOf(charge), describePrice(charge, priced), used.minus(priced), limit),
    quantity: priced,
    amount: bounded.amount,
    ...(bounded.adjustment === undefined ? {} : { adjustment: bounded.adjustment }),
  }
}

function simpleTotal(charge: SimpleCharge, quantity: Big): Big {
  return bound(charge, priceAmount(charge, atLeastZero(atLeastZero(quantity).minus(amountOf(charge.freeUnits))))).amount
}

interface ValueLine { key: string; price: SimplePrice; quantity: Big; freeTaken: Big; amount: Big }

/** The priced values with usage, in line order; freeUnits are used up along that order. */
function dimensionalLines(charge: DimensionalCharge, byDimension: Map<string, Big>): { lines: ValueLine[]; total: Big } {
  const used = [...byDimension].filter(([, q]) => q.gt(0))
  const usage = new Map(used)
  let free = amountOf(charge.freeUnits)
  let total = ZERO
  const lines = pricedValues(charge.prices, usage.keys()).map(({ key, price }) => {
    const value = usage.get(key)!
    const freeTaken = free.lt(value) ? free : value
    free = free.minus(freeTaken)
    const quantity = value.minus(freeTaken)
    const amount = priceAmount(price, quantity)
    total = total.plus(amount)
    return { key, price, quantity, freeTaken, amount }
  })
  return { lines, total }
}

/** minimum raises the amount (zero usage included), then maximum caps it: maximum wins if they cross. */
function bound(charge: UsageCharge, amount: Big): { amount: Big; adjustment?: 'minimum' | 'maximum' } {
  if (charge.maximum !== undefined && amount.gt(charge.maximum)) return { amount: amountOf(charge.maximum), adjustment: 'maximum' }
  if (charge.minimum !== undefined && amount.lt(charge.minimum)) {
    const min = amountOf(charge.minimum)
    if (charge.maximum === undefined || !min.gt(charge.maximum)) return { amount: min, adjustment: 'minimum' }
    // Crossed limits: the maximum wins; it adjusts nothing when the amount is already there.
    const max = amountOf(charge.maximum)
    return max.eq(amount) ? { amount } : { amount: max, adjustment: 'maximum' }
  }
  return { amount }
}

function labelOf(charge: UsageCharge): string {
  return charge.description ?? charge.meter
}
